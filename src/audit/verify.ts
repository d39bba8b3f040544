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
 * digests themselves, without a trace in the trail alone; with the digests delivered to a second
 * place (`--audit-digest-copy`, checked with `--digests DIR`) that window shrinks to records
 * newer than the newest delivered digest — at most one digest interval (60 s by default).
 */
import type { KeyObject } from 'node:crypto';
import type { AuditDigestRow, AuditEventRow, AuditStore } from '../store/audit-log';
import { toAuditReader, type AuditReader } from '../store/audit-reader';
import { chainLink, digestSignatureValid, genesisHash, publicKeyFingerprint, sha256Hex, type Digest, type DigestStream } from './chain';

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
  /** The stream and record position, when the finding is about a record. */
  readonly stream?: number;
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
  readonly streamsChecked: number;
  /** Records after the newest digest: chained but not yet signed. */
  readonly unsignedTail: number;
  readonly notes: readonly string[];
}

/** Options of a verification; times in epoch ms. */
export interface VerifyOptions {
  readonly from?: number;
  readonly to?: number;
  /**
   * Digests delivered to a second place (`--digests DIR`, digest-copy.ts): each must match the
   * stored digest of its number; one the trail lost still counts, so records it signed that are
   * missing are found truncated, and the lost digest itself is reported missing.
   */
  readonly delivered?: readonly AuditDigestRow[];
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

function fail(kind: FindingKind, message: string, at: Omit<Finding, 'kind' | 'message'> = {}): never {
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
    resourceNames: [...new Set(resources.map((x) => String(x.ARN)))].join('\n'),
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
    row.resourceTypes === c.resourceTypes &&
    row.resourceNames === c.resourceNames
  );
}

function entry(d: Digest, stream: number): DigestStream | undefined {
  return d.streams.find((s) => s.stream === stream);
}

/** Checks the digest chain: signatures, links to the previous digest, per-stream continuity. */
function checkDigests(rows: readonly AuditDigestRow[], trailId: string, publicKey: KeyObject): ParsedDigest[] {
  const fingerprint = publicKeyFingerprint(publicKey);
  const digests: ParsedDigest[] = [];
  for (const row of rows) {
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
  const prunedThroughDigest = digests[digests.length - 1]?.d.prunedThroughDigest ?? 0;
  for (let i = 0; i < digests.length; i++) {
    const { row, d } = digests[i] as ParsedDigest;
    const at = { digestSeq: row.seq };
    const prev = digests[i - 1];
    if (prev === undefined) {
      if (d.previousDigestSeq === null) {
        if (d.digestSeq !== 1) fail('DIGEST_INVALID', `digest ${row.seq} claims to be the first but is not`, at);
        for (const s of d.streams) {
          if (s.firstSeq !== 1 || s.startHash !== genesisHash(trailId, s.stream).toString('hex')) {
            fail('DIGEST_INVALID', `digest ${row.seq} does not start stream ${s.stream} at its beginning`, at);
          }
        }
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
    for (const p of prev.d.streams) {
      const s = entry(d, p.stream);
      if (s === undefined || s.firstSeq !== p.lastSeq + 1 || s.startHash !== p.endHash) {
        fail('DIGEST_INVALID', `digest ${row.seq} does not continue stream ${p.stream} from digest ${prev.row.seq}`, at);
      }
    }
    for (const s of d.streams) {
      if (entry(prev.d, s.stream) === undefined && (s.firstSeq !== 1 || s.startHash !== genesisHash(trailId, s.stream).toString('hex'))) {
        fail('DIGEST_INVALID', `digest ${row.seq} does not start new stream ${s.stream} at its beginning`, at);
      }
    }
  }
  return digests;
}

interface StreamResult {
  readonly events: number;
  readonly unsigned: number;
}

/** Walks one stream's records and checks every link, every digest checkpoint and the head. */
async function checkStream(
  reader: AuditReader,
  n: number,
  trailId: string,
  digests: readonly ParsedDigest[],
  opts: VerifyOptions,
  notes: string[],
): Promise<StreamResult> {
  const newest = digests[digests.length - 1]?.d;
  const cut = (newest === undefined ? undefined : entry(newest, n)?.prunedThroughSeq) ?? 0;
  const named = digests.filter((p) => entry(p.d, n) !== undefined);
  let start = cut + 1;
  let expectedPrev = genesisHash(trailId, n);
  if (cut > 0) {
    const anchor = named.map((p) => entry(p.d, n) as DigestStream).find((s) => s.lastSeq === cut || s.firstSeq === start);
    if (anchor === undefined) fail('DIGEST_MISSING', `stream ${n}: no digest anchors the retention cut at record ${cut}`, { stream: n });
    expectedPrev = Buffer.from(anchor.lastSeq === cut ? anchor.endHash : anchor.startHash, 'hex');
  }
  let end = Number.MAX_SAFE_INTEGER;
  let checkpoints = named
    .map((p) => ({ digestSeq: p.row.seq, ...(entry(p.d, n) as DigestStream) }))
    .filter((c) => c.lastSeq >= start);
  const windowed = opts.from !== undefined || opts.to !== undefined;
  if (windowed) {
    const from = opts.from ?? Number.MIN_SAFE_INTEGER;
    const to = opts.to ?? Number.MAX_SAFE_INTEGER;
    const selected = checkpoints.filter((c) => {
      const d = (digests.find((p) => p.row.seq === c.digestSeq) as ParsedDigest).d;
      return Date.parse(d.digestEndTime) >= from && (d.digestStartTime === null || Date.parse(d.digestStartTime) <= to);
    });
    const first = selected[0];
    const lastNamed = checkpoints[checkpoints.length - 1];
    if (first !== undefined) {
      start = Math.max(start, first.firstSeq);
      expectedPrev = Buffer.from(first.startHash, 'hex');
    } else if (lastNamed !== undefined) {
      start = lastNamed.lastSeq + 1;
      expectedPrev = Buffer.from(lastNamed.endHash, 'hex');
    }
    if (opts.to !== undefined) end = selected.length > 0 ? (selected[selected.length - 1] as (typeof selected)[number]).lastSeq : start - 1;
    checkpoints = checkpoints.filter((c) => c.lastSeq >= start - 1 && c.lastSeq <= end);
  }

  let expectedSeq = start;
  const passCheckpoints = (upTo: number, hash: Buffer): void => {
    while (checkpoints.length > 0 && (checkpoints[0] as (typeof checkpoints)[number]).lastSeq <= upTo) {
      const c = checkpoints.shift() as (typeof checkpoints)[number];
      if (c.lastSeq === upTo && c.endHash !== hash.toString('hex')) {
        fail('DIGEST_MISMATCH', `digest ${c.digestSeq}: stream ${n} records ${c.firstSeq}..${c.lastSeq} are not the records it signed (rewritten)`, {
          digestSeq: c.digestSeq,
          stream: n,
        });
      }
    }
  };
  passCheckpoints(start - 1, expectedPrev);

  let events = 0;
  let lastSeq = start - 1;
  const it = reader.events(n, start, end);
  try {
    let next = await it.next();
    while (!next.done) {
      const row = next.value;
      next = await it.next();
      const at = { stream: n, seq: row.seq, eventId: row.eventId };
      const name = `stream ${n} record ${row.seq} (eventID ${row.eventId})`;
      if (!chainLink(row.prevHash, row.body).equals(row.hash)) fail('EVENT_EDITED', `${name} was changed: its content does not match its hash`, at);
      const cols = derivedColumns(row.body);
      if (cols === undefined || !columnsMatch(row, cols)) fail('EVENT_EDITED', `${name}: its lookup columns disagree with the record`, at);
      if (!row.prevHash.equals(expectedPrev)) {
        // The record does not follow its predecessor: find the record it does follow.
        const p = await reader.findByHash(n, row.prevHash);
        if (p !== undefined && p > row.seq) fail('EVENT_REORDERED', `${name} was moved: it follows record ${p}`, at);
        if (p !== undefined) fail('EVENT_INSERTED', `stream ${n} record ${p + 1} was inserted: ${name} follows record ${p}`, { stream: n, seq: p + 1 });
        const after = next.done ? undefined : next.value;
        if (after !== undefined && after.prevHash.equals(expectedPrev)) {
          fail('EVENT_INSERTED', `${name} was inserted: the next record follows the one before it`, at);
        }
        if (row.seq === expectedSeq && expectedSeq > start) {
          // Nothing is missing from the numbering: the record before was rewritten with a fresh hash.
          fail('EVENT_EDITED', `stream ${n} record ${expectedSeq - 1} was changed and re-hashed: record ${row.seq} no longer follows it`, {
            stream: n,
            seq: expectedSeq - 1,
          });
        }
        const missing = row.seq > expectedSeq ? `records ${expectedSeq}..${row.seq - 1}` : 'the record before it';
        fail('EVENT_DELETED', `stream ${n}: ${missing} before record ${row.seq} deleted`, { stream: n, seq: expectedSeq });
      }
      if (row.seq !== expectedSeq) fail('EVENT_EDITED', `${name} was renumbered: it follows record ${expectedSeq - 1}`, at);
      expectedPrev = row.hash;
      expectedSeq = row.seq + 1;
      lastSeq = row.seq;
      events += 1;
      passCheckpoints(row.seq, row.hash);
    }
  } finally {
    await it.return?.(); // releases the statement or page if the walk stopped at a finding
  }
  const missing = checkpoints[0];
  if (missing !== undefined) {
    fail('TRUNCATED', `stream ${n}: records ${expectedSeq}..${missing.lastSeq}, which digest ${missing.digestSeq} signed, are missing (truncated)`, {
      stream: n,
      seq: expectedSeq,
      digestSeq: missing.digestSeq,
    });
  }
  let unsigned = 0;
  if (opts.to === undefined) {
    const signedThrough = named.length > 0 ? (entry((named[named.length - 1] as ParsedDigest).d, n) as DigestStream).lastSeq : 0;
    unsigned = Math.max(0, lastSeq - Math.max(signedThrough, start - 1));
  }
  if (!windowed) {
    const head = await reader.head(n);
    if (head.seq > lastSeq) fail('TRUNCATED', `stream ${n}: the chain head is record ${head.seq} but the stream ends at record ${lastSeq} (truncated)`, { stream: n, seq: lastSeq + 1 });
    if (head.seq < lastSeq) fail('EVENT_INSERTED', `stream ${n}: records ${head.seq + 1}..${lastSeq} were appended outside the writer`, { stream: n, seq: head.seq + 1 });
    if (!head.hash.equals(expectedPrev)) fail('EVENT_EDITED', `stream ${n}: the chain head does not match record ${lastSeq}`, { stream: n, seq: lastSeq });
    if (!(await reader.indexConsistent(n))) fail('INDEX_MISMATCH', `stream ${n}: the lookup index does not match the records (edited outside the writer)`, { stream: n });
  }
  if (unsigned > 0) notes.push(`stream ${n}: ${unsigned} record(s) after the newest digest are chained but not yet signed`);
  return { events, unsigned };
}

/**
 * Stored digests merged with delivered copies: a copy must carry a valid signature and match the
 * stored digest of its number; copies the trail no longer holds (and no signed retention cut
 * explains) join the list and are returned as `lost`.
 */
function withDelivered(
  stored: readonly AuditDigestRow[],
  delivered: readonly AuditDigestRow[],
  trailId: string,
  publicKey: KeyObject,
): { rows: AuditDigestRow[]; lost: number[] } {
  if (delivered.length === 0) return { rows: [...stored], lost: [] };
  const bySeq = new Map(stored.map((r) => [r.seq, r]));
  let prunedThrough = 0;
  for (const r of [...stored, ...delivered]) {
    try {
      prunedThrough = Math.max(prunedThrough, (JSON.parse(r.body) as Digest).prunedThroughDigest ?? 0);
    } catch {
      // judged below
    }
  }
  const lost: number[] = [];
  for (const copy of delivered) {
    const at = { digestSeq: copy.seq };
    if (!digestSignatureValid(copy.body, copy.signature, publicKey)) {
      fail('DIGEST_INVALID', `the delivered copy of digest ${copy.seq}: the signature does not verify`, at);
    }
    if ((JSON.parse(copy.body) as Digest).trailId !== trailId) fail('DIGEST_INVALID', `the delivered copy of digest ${copy.seq} belongs to another trail`, at);
    const mine = bySeq.get(copy.seq);
    if (mine !== undefined) {
      if (mine.body !== copy.body || mine.signature !== copy.signature) {
        fail('DIGEST_MISMATCH', `digest ${copy.seq} differs from its delivered copy (the stored digest was replaced)`, at);
      }
    } else if (copy.seq > prunedThrough) {
      bySeq.set(copy.seq, copy);
      lost.push(copy.seq);
    }
  }
  return { rows: [...bySeq.values()].sort((a, b) => a.seq - b.seq), lost };
}

/**
 * Verifies the whole trail, or the digest periods overlapping [from, to]. Reads through the
 * reader port (store/audit-reader.ts): a synchronous SQLite trail is adapted as it is.
 */
export async function verifyTrail(trail: AuditReader | AuditStore, publicKey: KeyObject, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const reader = toAuditReader(trail);
  const notes: string[] = [];
  let eventsChecked = 0;
  let digestsChecked = 0;
  let streamsChecked = 0;
  let unsignedTail = 0;
  try {
    const trailId = await reader.trailId();
    const { rows, lost } = withDelivered(await reader.digests(), opts.delivered ?? [], trailId, publicKey);
    const digests = checkDigests(rows, trailId, publicKey);
    digestsChecked = digests.length;
    const present = await reader.streamIds();
    const newest = digests[digests.length - 1]?.d;
    for (const s of newest?.streams ?? []) {
      if (!present.includes(s.stream) && s.lastSeq > 0) {
        fail('TRUNCATED', `stream ${s.stream}, which digest ${newest!.digestSeq} signed through record ${s.lastSeq}, is missing`, { stream: s.stream });
      }
    }
    for (const n of present) {
      const r = await checkStream(reader, n, trailId, digests, opts, notes);
      eventsChecked += r.events;
      unsignedTail += r.unsigned;
      streamsChecked += 1;
    }
    const firstLost = lost[0];
    if (firstLost !== undefined) {
      fail('DIGEST_MISSING', `digest ${firstLost}, which was delivered to the copy directory, is missing from the trail`, { digestSeq: firstLost });
    }
    return { finding: undefined, eventsChecked, digestsChecked, streamsChecked, unsignedTail, notes };
  } catch (e) {
    if (!(e instanceof Found)) throw e;
    return { finding: e.finding, eventsChecked, digestsChecked, streamsChecked, unsignedTail, notes };
  }
}
