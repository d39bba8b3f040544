/**
 * Offline verification of the audit trail (`keyhold audit verify`, issue 4): checks the signed
 * digest chain, then every record's link, and names the first record or digest that was
 * edited, deleted, reordered, inserted or truncated. Each kind of finding has its own exit
 * status (FINDING_EXIT).
 *
 * What each finding means (see chain.ts for the hashes):
 *  - EVENT_EDITED: a record's own link fails (its bytes, or the hash stored with it, changed in
 *    place), or the lookup columns stored beside it disagree with it.
 *  - EVENT_DELETED: a record's predecessor exists nowhere in the trail.
 *  - EVENT_REORDERED: a record follows a record that sits later in the trail.
 *  - EVENT_INSERTED: a record no other record follows (its successor links past it).
 *  - TRUNCATED: records a digest covers, or the chain head names, are missing at the end.
 *  - INDEX_MISMATCH: the resource index (LookupEvents by key ARN) has rows no record names.
 *  - DIGEST_INVALID: a digest's signature fails, or it names a previous digest it does not follow.
 *  - DIGEST_MISSING: a digest the next one names is gone (and no signed retention cut explains it).
 *  - DIGEST_MISMATCH: the records a digest covers were rewritten consistently (their chain value
 *    is not the one the digest signed).
 *
 * A crash never produces a finding: commits are atomic, and records after the newest digest
 * (written at the next start, or by the next interval) are reported as not yet signed. Whoever
 * can write the trail can still remove records newer than the newest digest, or the newest
 * digests themselves, without a trace here; export the trail (or copy digests) off the host to
 * bound that window.
 */
import type { KeyObject } from 'node:crypto';
import type { AuditEventRow, AuditLog } from '../store/audit-log';
import { chainLink, digestSignatureValid, genesisHash, publicKeyFingerprint, sha256Hex, type Digest } from './chain';

/** Kinds of findings. */
export type FindingKind =
  | 'EVENT_EDITED'
  | 'EVENT_DELETED'
  | 'EVENT_REORDERED'
  | 'EVENT_INSERTED'
  | 'TRUNCATED'
  | 'INDEX_MISMATCH'
  | 'DIGEST_INVALID'
  | 'DIGEST_MISSING'
  | 'DIGEST_MISMATCH';

/** Exit status of `keyhold audit verify` per finding (0: intact; 1: could not verify; 2: usage). */
export const FINDING_EXIT: Readonly<Record<FindingKind, number>> = Object.freeze({
  EVENT_EDITED: 10,
  EVENT_DELETED: 11,
  EVENT_REORDERED: 12,
  EVENT_INSERTED: 13,
  TRUNCATED: 14,
  INDEX_MISMATCH: 15,
  DIGEST_INVALID: 20,
  DIGEST_MISSING: 21,
  DIGEST_MISMATCH: 22,
});

/** The first problem found. */
export interface Finding {
  readonly kind: FindingKind;
  readonly message: string;
  /** The record's position, when the finding is about a record. */
  readonly seq?: number;
  readonly eventId?: string;
  /** The digest, when the finding is about a digest. */
  readonly digestSeq?: number;
}

/** The outcome of a verification. */
export interface VerifyReport {
  readonly finding: Finding | undefined;
  readonly eventsChecked: number;
  readonly digestsChecked: number;
  /** First and last record position checked (0 when none). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Records after the newest digest: chained but not yet signed. */
  readonly unsignedTail: number;
  readonly notes: readonly string[];
}

/** Options of a verification; times in epoch ms. */
export interface VerifyOptions {
  readonly from?: number;
  readonly to?: number;
}

interface ParsedDigest {
  readonly row: { seq: number; body: string; signature: string };
  readonly d: Digest;
}

class Found extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

function fail(kind: FindingKind, message: string, at: { seq?: number; eventId?: string; digestSeq?: number } = {}): never {
  throw new Found({ kind, message, ...at });
}

/** The LookupEvents columns a record implies. */
function derivedColumns(body: string): Record<string, unknown> | undefined {
  let r: Record<string, any>;
  try {
    r = JSON.parse(body) as Record<string, any>;
  } catch {
    return undefined;
  }
  const id = (r.userIdentity ?? {}) as Record<string, any>;
  let username: string | null = null;
  if (id.type === 'Root') username = 'root';
  else if (id.type === 'IAMUser') username = id.userName ?? null;
  else if (id.type === 'AssumedRole' && typeof id.arn === 'string') username = id.arn.split('/').pop() ?? null;
  const resources = Array.isArray(r.resources) ? (r.resources as Record<string, unknown>[]) : [];
  return {
    timeSecond: Math.floor(Date.parse(String(r.eventTime)) / 1000),
    eventId: r.eventID,
    account: r.recipientAccountId ?? '',
    eventName: r.eventName,
    eventSource: r.eventSource,
    readOnly: r.readOnly === true,
    username,
    accessKeyId: id.accessKeyId ?? null,
    requestId: r.requestID ?? null,
    resourceTypes: [...new Set(resources.map((x) => String(x.type)))].sort().join(','),
    resourceNames: new Set(resources.map((x) => String(x.ARN))).size,
  };
}

function columnsMatch(row: AuditEventRow, c: Record<string, unknown>): boolean {
  return (
    Math.floor(row.time / 1000) === c.timeSecond &&
    row.eventId === c.eventId &&
    row.account === c.account &&
    row.eventName === c.eventName &&
    row.eventSource === c.eventSource &&
    row.readOnly === c.readOnly &&
    row.username === c.username &&
    row.accessKeyId === c.accessKeyId &&
    row.requestId === c.requestId &&
    row.resourceTypes === c.resourceTypes
  );
}

/** Checks the digest chain; returns the parsed digests and the signed retention cut. */
function checkDigests(log: AuditLog, trailId: string, publicKey: KeyObject): { digests: ParsedDigest[]; prunedThroughSeq: number; prunedThroughDigest: number } {
  const fingerprint = publicKeyFingerprint(publicKey);
  const digests: ParsedDigest[] = [];
  for (const row of log.digests()) {
    const at = { digestSeq: row.seq };
    if (!digestSignatureValid(row.body, row.signature, publicKey)) {
      fail('DIGEST_INVALID', `digest ${row.seq}: the signature does not verify (the digest was edited or forged)`, at);
    }
    const d = JSON.parse(row.body) as Digest;
    if (d.digestSeq !== row.seq) fail('DIGEST_INVALID', `digest stored as ${row.seq} is digest ${d.digestSeq}`, at);
    if (d.trailId !== trailId) fail('DIGEST_INVALID', `digest ${row.seq} belongs to another trail (${d.trailId})`, at);
    if (d.digestPublicKeyFingerprint !== fingerprint) fail('DIGEST_INVALID', `digest ${row.seq} names another signing key`, at);
    digests.push({ row, d });
  }
  const newest = digests[digests.length - 1]?.d;
  const prunedThroughSeq = newest?.prunedThroughSeq ?? 0;
  const prunedThroughDigest = newest?.prunedThroughDigest ?? 0;
  for (let i = 0; i < digests.length; i++) {
    const { row, d } = digests[i] as ParsedDigest;
    const at = { digestSeq: row.seq };
    const prev = digests[i - 1];
    if (prev === undefined) {
      if (d.previousDigestSeq === null) {
        if (d.digestSeq !== 1 || d.firstSeq !== 1) fail('DIGEST_INVALID', `digest ${row.seq} claims to be the first but is not`, at);
      } else if (d.previousDigestSeq > prunedThroughDigest) {
        fail('DIGEST_MISSING', `digest ${d.previousDigestSeq}, which digest ${row.seq} follows, is missing`, { digestSeq: d.previousDigestSeq });
      }
      continue;
    }
    if (d.previousDigestSeq !== prev.row.seq) {
      if (d.previousDigestSeq !== null && d.previousDigestSeq > prev.row.seq) {
        fail('DIGEST_MISSING', `digest ${d.previousDigestSeq}, which digest ${row.seq} follows, is missing`, { digestSeq: d.previousDigestSeq });
      }
      fail('DIGEST_INVALID', `digest ${row.seq} does not follow digest ${prev.row.seq}`, at);
    }
    if (d.previousDigestHashValue !== sha256Hex(prev.row.body) || d.previousDigestSignature !== prev.row.signature) {
      fail('DIGEST_INVALID', `digest ${row.seq} names a different digest ${prev.row.seq} than the one stored`, { digestSeq: prev.row.seq });
    }
    if (d.firstSeq !== prev.d.lastSeq + 1 || d.startHash !== prev.d.endHash) {
      fail('DIGEST_INVALID', `digest ${row.seq} does not continue the range of digest ${prev.row.seq}`, at);
    }
  }
  return { digests, prunedThroughSeq, prunedThroughDigest };
}

/** Verifies the whole trail, or the digest periods overlapping [from, to]. */
export function verifyTrail(log: AuditLog, publicKey: KeyObject, opts: VerifyOptions = {}): VerifyReport {
  const notes: string[] = [];
  let eventsChecked = 0;
  let firstSeq = 0;
  let lastSeq = 0;
  let unsignedTail = 0;
  let digestsChecked = 0;
  try {
    const meta = log.meta();
    const { digests, prunedThroughSeq } = checkDigests(log, meta.trailId, publicKey);
    digestsChecked = digests.length;
    const windowed = opts.from !== undefined || opts.to !== undefined;

    // Where the walk starts and what the record before it must hash to.
    let start = prunedThroughSeq + 1;
    let expectedPrev: Buffer = genesisHash(meta.trailId);
    if (prunedThroughSeq > 0) {
      const anchor = digests.find((p) => p.d.lastSeq === prunedThroughSeq) ?? digests.find((p) => p.d.firstSeq === start);
      if (anchor === undefined) fail('DIGEST_MISSING', `no digest anchors the retention cut at seq ${prunedThroughSeq}`);
      expectedPrev = Buffer.from(anchor.d.lastSeq === prunedThroughSeq ? anchor.d.endHash : anchor.d.startHash, 'hex');
    }
    let end = Number.MAX_SAFE_INTEGER;
    let pending = digests.filter((p) => p.d.lastSeq >= start);
    if (windowed) {
      const from = opts.from ?? Number.MIN_SAFE_INTEGER;
      const to = opts.to ?? Number.MAX_SAFE_INTEGER;
      const selected = pending.filter(
        (p) => Date.parse(p.d.digestEndTime) >= from && (p.d.digestStartTime === null || Date.parse(p.d.digestStartTime) <= to),
      );
      const first = selected[0];
      if (first !== undefined) {
        start = Math.max(start, first.d.firstSeq);
        expectedPrev = Buffer.from(first.d.startHash, 'hex');
      } else {
        const last = digests[digests.length - 1];
        if (last !== undefined) {
          start = last.d.lastSeq + 1;
          expectedPrev = Buffer.from(last.d.endHash, 'hex');
        }
      }
      if (opts.to !== undefined) {
        end = selected.length > 0 ? (selected[selected.length - 1] as ParsedDigest).d.lastSeq : start - 1;
      }
      pending = pending.filter((p) => p.d.lastSeq >= start && p.d.lastSeq <= end);
      notes.push(`window: records ${start}..${end === Number.MAX_SAFE_INTEGER ? 'end' : end}`);
    }

    // Digests with an empty range at the start of the walk.
    let expectedSeq = start;
    const passDigests = (upTo: number, hash: Buffer): void => {
      while (pending.length > 0 && (pending[0] as ParsedDigest).d.lastSeq <= upTo) {
        const p = pending.shift() as ParsedDigest;
        if (p.d.lastSeq === upTo && p.d.endHash !== hash.toString('hex')) {
          fail('DIGEST_MISMATCH', `digest ${p.row.seq}: records ${p.d.firstSeq}..${p.d.lastSeq} are not the records it signed (rewritten)`, {
            digestSeq: p.row.seq,
          });
        }
      }
    };
    passDigests(start - 1, expectedPrev);

    let resourceNames = 0;
    const it = log.events(start, end);
    let next = it.next();
    while (!next.done) {
      const row = next.value;
      next = it.next();
      const at = { seq: row.seq, eventId: row.eventId };
      if (eventsChecked === 0) firstSeq = row.seq;
      if (!chainLink(row.prevHash, row.body).equals(row.hash)) {
        fail('EVENT_EDITED', `record ${row.seq} (eventID ${row.eventId}) was changed: its content does not match its hash`, at);
      }
      const cols = derivedColumns(row.body);
      if (cols === undefined || !columnsMatch(row, cols)) {
        fail('EVENT_EDITED', `record ${row.seq} (eventID ${row.eventId}): its lookup columns disagree with the record`, at);
      }
      resourceNames += cols.resourceNames as number;
      if (!row.prevHash.equals(expectedPrev)) {
        // The record does not follow its predecessor: find the record it does follow.
        const p = log.findByHash(row.prevHash);
        if (p !== undefined && p > row.seq) {
          fail('EVENT_REORDERED', `record ${row.seq} (eventID ${row.eventId}) was moved: it follows record ${p}`, at);
        }
        if (p !== undefined) {
          fail('EVENT_INSERTED', `record ${p + 1} was inserted: record ${row.seq} (eventID ${row.eventId}) follows record ${p}`, { seq: p + 1 });
        }
        const after = next.done ? undefined : next.value;
        if (after !== undefined && after.prevHash.equals(expectedPrev)) {
          fail('EVENT_INSERTED', `record ${row.seq} (eventID ${row.eventId}) was inserted: the next record follows the one before it`, at);
        }
        if (row.seq === expectedSeq && expectedSeq > start) {
          // Nothing is missing from the numbering: the record before was rewritten with a fresh hash.
          fail('EVENT_EDITED', `record ${expectedSeq - 1} was changed and re-hashed: record ${row.seq} no longer follows it`, {
            seq: expectedSeq - 1,
          });
        }
        const missing = row.seq > expectedSeq ? `records ${expectedSeq}..${row.seq - 1}` : 'the record before it';
        fail('EVENT_DELETED', `before record ${row.seq} (eventID ${row.eventId}): ${missing} deleted`, { seq: expectedSeq, eventId: row.eventId });
      }
      if (row.seq !== expectedSeq) {
        fail('EVENT_EDITED', `record ${row.seq} (eventID ${row.eventId}) was renumbered: it follows record ${expectedSeq - 1}`, at);
      }
      expectedPrev = row.hash;
      expectedSeq = row.seq + 1;
      lastSeq = row.seq;
      eventsChecked += 1;
      passDigests(row.seq, row.hash);
    }
    if (pending.length > 0) {
      const p = pending[0] as ParsedDigest;
      fail('TRUNCATED', `records ${expectedSeq}..${p.d.lastSeq}, which digest ${p.row.seq} signed, are missing (the trail was truncated)`, {
        seq: expectedSeq,
        digestSeq: p.row.seq,
      });
    }
    if (!windowed || opts.to === undefined) {
      const signedThrough = digests[digests.length - 1]?.d.lastSeq ?? 0;
      unsignedTail = Math.max(0, lastSeq - Math.max(signedThrough, start - 1));
      if (unsignedTail > 0) notes.push(`${unsignedTail} record(s) after the newest digest are chained but not yet signed`);
    }
    if (!windowed) {
      const headSeq = meta.head.seq;
      const last = eventsChecked > 0 ? lastSeq : start - 1;
      if (headSeq > last) fail('TRUNCATED', `the chain head is record ${headSeq} but the trail ends at record ${last} (truncated)`, { seq: last + 1 });
      if (headSeq < last) fail('EVENT_INSERTED', `records ${headSeq + 1}..${last} were appended outside the writer`, { seq: headSeq + 1 });
      if (!meta.head.hash.equals(expectedPrev)) fail('EVENT_EDITED', `the chain head does not match record ${last}`, { seq: last });
      const indexRows = log.resourceRows();
      if (indexRows !== resourceNames) {
        fail('INDEX_MISMATCH', `the resource index holds ${indexRows} rows but the records name ${resourceNames} resources`);
      }
    }
    return { finding: undefined, eventsChecked, digestsChecked, firstSeq, lastSeq, unsignedTail, notes };
  } catch (e) {
    if (!(e instanceof Found)) throw e;
    return { finding: e.finding, eventsChecked, digestsChecked, firstSeq, lastSeq, unsignedTail, notes };
  }
}
