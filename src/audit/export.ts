/**
 * `keyhold audit export`: the trail as CloudTrail delivers it to S3 (CloudTrail User Guide,
 * "CloudTrail log file examples", "CloudTrail digest file structure"), so tools that read
 * CloudTrail logs read these:
 *
 *   OUT/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz
 *       {"Records":[...]}: the stored records, byte for byte, in trail order
 *   OUT/AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_keyhold-<digest seq>_<region>_<YYYYMMDDTHHmmssZ>.json.gz
 *       one per trail digest that covers log files of that account and Region: the log files'
 *       SHA-256 (of the uncompressed bytes), the previous digest file's object, hash and
 *       signature, and — so the export can be tied back to the trail — the trail digest it
 *       belongs to, verbatim with its own signature
 *   <digest file>.sig   hex Ed25519 signature of the digest file (S3 keeps it as x-amz-meta-signature)
 *   OUT/keyhold-audit-signing-key.pem
 *
 * Digest files are signed like CloudTrail's: over "digestEndTime \n bucket/object \n
 * hex(SHA-256(uncompressed digest file)) \n previous signature". Records newer than the newest
 * trail digest are exported into log files that no digest covers yet. Each log file holds one
 * stream's records of one digest period for one account and Region. Records with no account
 * (requests with an unknown access key) go under the account name "unattributed".
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AuditEventRow, AuditStore } from '../store/audit-log';
import { toAuditReader, type AuditReader } from '../store/audit-reader';
import { isoSeconds, publicKeyFingerprint, sha256Hex, type Digest } from './chain';

/** The bucket name written into exported digest files. */
export const EXPORT_BUCKET = 'keyhold-export';
/** Records per log file at most (CloudTrail delivers a file about every five minutes). */
const MAX_RECORDS_PER_FILE = 5000;
const UNATTRIBUTED = 'unattributed';

/** What an export wrote. */
export interface ExportReport {
  readonly logFiles: number;
  readonly digestFiles: number;
  readonly records: number;
}

interface LogFile {
  readonly object: string;
  readonly hash: string;
  readonly oldest: number;
  readonly newest: number;
}

function compact(ms: number, withSeconds: boolean): string {
  const iso = isoSeconds(ms).replace(/[-:]/g, '');
  return withSeconds ? iso : iso.slice(0, 13) + 'Z';
}

function datePath(ms: number): string {
  const iso = isoSeconds(ms);
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
}

function writeGzip(outDir: string, object: string, text: string): void {
  const path = join(outDir, object);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, gzipSync(Buffer.from(text, 'utf8')));
}

/** The CloudTrail signing string of an exported digest file. */
function exportSigningString(digestEndTime: string, object: string, content: string, previousSignature: string | null): string {
  return `${digestEndTime}\n${EXPORT_BUCKET}/${object}\n${sha256Hex(content)}\n${previousSignature ?? 'null'}`;
}

/**
 * Writes the trail (optionally only records with time in [from, to]) to `outDir`, reading
 * through the reader port (store/audit-reader.ts): a synchronous SQLite trail is adapted as it is.
 */
export async function exportTrail(
  trail: AuditReader | AuditStore,
  outDir: string,
  signing: { privateKey: KeyObject; publicKeyPem: string },
  opts: { from?: number; to?: number } = {},
): Promise<ExportReport> {
  const reader = toAuditReader(trail);
  const from = opts.from ?? Number.MIN_SAFE_INTEGER;
  const to = opts.to ?? Number.MAX_SAFE_INTEGER;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'keyhold-audit-signing-key.pem'), signing.publicKeyPem);
  const fingerprint = publicKeyFingerprint(signing.publicKeyPem);
  const digests = (await reader.digests()).map((r) => ({ body: r.body, signature: r.signature, d: JSON.parse(r.body) as Digest }));
  const streams = await reader.streamIds();
  const newest = digests[digests.length - 1]?.d;
  const cutOf = (n: number): number => newest?.streams.find((s) => s.stream === n)?.prunedThroughSeq ?? 0;
  /** Where each stream's next period starts. */
  const next = new Map(streams.map((n) => [n, cutOf(n) + 1]));

  let records = 0;
  let logFiles = 0;
  /** Writes the records of one period of one stream; returns its log files per "account\0region". */
  const writePeriod = async (n: number, first: number, last: number, files: Map<string, LogFile[]>): Promise<void> => {
    const open = new Map<string, AuditEventRow[]>();
    const flush = (key: string): void => {
      const rows = open.get(key);
      if (rows === undefined || rows.length === 0) return;
      open.delete(key);
      const [account, region] = key.split('\0') as [string, string];
      const newestMs = rows[rows.length - 1]!.time;
      const unique = sha256Hex(`${n}:${rows[0]!.seq}:${rows[0]!.eventId}`).slice(0, 16);
      const object = `AWSLogs/${account}/CloudTrail/${region}/${datePath(newestMs)}/${account}_CloudTrail_${region}_${compact(newestMs, false)}_${unique}.json.gz`;
      const text = `{"Records":[${rows.map((r) => r.body).join(',')}]}`;
      writeGzip(outDir, object, text);
      logFiles += 1;
      const list = files.get(key) ?? [];
      list.push({ object, hash: sha256Hex(text), oldest: Math.min(...rows.map((r) => r.time)), newest: Math.max(...rows.map((r) => r.time)) });
      files.set(key, list);
    };
    if (first > last) return;
    for await (const row of reader.events(n, first, last)) {
      if (row.time < from || row.time > to) continue;
      const region = (JSON.parse(row.body) as { awsRegion?: string }).awsRegion ?? 'unknown';
      const key = `${row.account === '' ? UNATTRIBUTED : row.account}\0${region}`;
      const rows = open.get(key) ?? [];
      rows.push(row);
      open.set(key, rows);
      records += 1;
      if (rows.length >= MAX_RECORDS_PER_FILE) flush(key);
    }
    for (const key of [...open.keys()]) flush(key);
  };

  // Digest files: per account and Region, chained like CloudTrail's.
  let digestFiles = 0;
  const previous = new Map<string, { object: string; hash: string; signature: string }>();
  const writeDigestFiles = (p: { body: string; signature: string; d: Digest }, files: Map<string, LogFile[]>): void => {
    for (const [key, list] of files) {
      const [account, region] = key.split('\0') as [string, string];
      const endMs = Date.parse(p.d.digestEndTime);
      // The trail-name part carries the digest number: two digests may end in the same second.
      const object = `AWSLogs/${account}/CloudTrail-Digest/${region}/${datePath(endMs)}/${account}_CloudTrail-Digest_${region}_keyhold-${p.d.digestSeq}_${region}_${compact(endMs, true)}.json.gz`;
      const prev = previous.get(key);
      const content = JSON.stringify({
        awsAccountId: account,
        digestStartTime: p.d.digestStartTime,
        digestEndTime: p.d.digestEndTime,
        digestS3Bucket: EXPORT_BUCKET,
        digestS3Object: object,
        digestPublicKeyFingerprint: fingerprint,
        digestSignatureAlgorithm: 'Ed25519',
        newestEventTime: isoSeconds(Math.max(...list.map((f) => f.newest))),
        oldestEventTime: isoSeconds(Math.min(...list.map((f) => f.oldest))),
        previousDigestS3Bucket: prev === undefined ? null : EXPORT_BUCKET,
        previousDigestS3Object: prev?.object ?? null,
        previousDigestHashValue: prev?.hash ?? null,
        previousDigestHashAlgorithm: prev === undefined ? null : 'SHA-256',
        previousDigestSignature: prev?.signature ?? null,
        logFiles: list.map((f) => ({
          s3Bucket: EXPORT_BUCKET,
          s3Object: f.object,
          hashValue: f.hash,
          hashAlgorithm: 'SHA-256',
          newestEventTime: isoSeconds(f.newest),
          oldestEventTime: isoSeconds(f.oldest),
        })),
        keyholdTrailDigest: { digest: p.body, signature: p.signature },
      });
      const signature = sign(
        null,
        Buffer.from(exportSigningString(p.d.digestEndTime, object, content, prev?.signature ?? null), 'utf8'),
        signing.privateKey,
      ).toString('hex');
      writeGzip(outDir, object, content);
      writeFileSync(join(outDir, `${object}.sig`), signature + '\n');
      previous.set(key, { object, hash: sha256Hex(content), signature });
      digestFiles += 1;
    }
  };

  for (const p of digests) {
    const files = new Map<string, LogFile[]>();
    for (const s of p.d.streams) {
      const first = Math.max(s.firstSeq, next.get(s.stream) ?? 1);
      if (streams.includes(s.stream)) await writePeriod(s.stream, first, s.lastSeq, files);
      next.set(s.stream, Math.max(first, s.lastSeq + 1));
    }
    writeDigestFiles(p, files);
  }
  // Records newer than the newest digest: log files no digest covers yet.
  for (const n of streams) await writePeriod(n, next.get(n) ?? 1, Number.MAX_SAFE_INTEGER, new Map());
  return { logFiles, digestFiles, records };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * Checks an export: every digest file's signature and chain, and every log file it lists
 * against its hash. Returns the problems found (empty = intact).
 */
export function verifyExport(outDir: string, publicKey: KeyObject): string[] {
  const problems: string[] = [];
  const files = walk(outDir).map((p) => relative(outDir, p));
  const digestObjects = files.filter((f) => f.includes('/CloudTrail-Digest/') && f.endsWith('.json.gz')).sort();
  const listed = new Set<string>();
  const byObject = new Map<string, { signature: string; hash: string }>();
  for (const object of digestObjects) {
    const content = gunzipSync(readFileSync(join(outDir, object))).toString('utf8');
    const signature = readFileSync(join(outDir, `${object}.sig`), 'utf8').trim();
    const d = JSON.parse(content) as Record<string, any>;
    const ok = verify(null, Buffer.from(exportSigningString(d.digestEndTime, object, content, d.previousDigestSignature), 'utf8'), publicKey, Buffer.from(signature, 'hex'));
    if (!ok || d.digestS3Object !== object) problems.push(`${object}: signature does not verify`);
    byObject.set(object, { signature, hash: sha256Hex(content) });
    for (const f of d.logFiles as { s3Object: string; hashValue: string }[]) {
      listed.add(f.s3Object);
      let text: string;
      try {
        text = gunzipSync(readFileSync(join(outDir, f.s3Object))).toString('utf8');
      } catch {
        problems.push(`${f.s3Object}: missing (listed in ${object})`);
        continue;
      }
      if (sha256Hex(text) !== f.hashValue) problems.push(`${f.s3Object}: hash does not match ${object}`);
    }
  }
  for (const object of digestObjects) {
    const d = JSON.parse(gunzipSync(readFileSync(join(outDir, object))).toString('utf8')) as Record<string, any>;
    if (d.previousDigestS3Object === null) continue;
    const prev = byObject.get(d.previousDigestS3Object);
    if (prev === undefined) problems.push(`${object}: previous digest ${d.previousDigestS3Object} is missing`);
    else if (prev.hash !== d.previousDigestHashValue || prev.signature !== d.previousDigestSignature) {
      problems.push(`${object}: previous digest ${d.previousDigestS3Object} does not match`);
    }
  }
  return problems;
}
