/**
 * Delivered digests (issue 11): each signed digest is also written, as it is made, to a second
 * directory (`--audit-digest-copy DIR`, meant to be on another volume or host, e.g. an NFS or
 * object-store mount the server can only add to). Whoever can rewrite the trail can truncate
 * its newest records and digests together; they cannot take back a digest already delivered,
 * so `keyhold audit verify --digests DIR` detects any truncation of records older than the
 * newest delivered digest. The window left is the digest interval (60 s by default) plus the
 * delivery itself.
 *
 * Files: `<trailId>-digest-<seq, 10 digits>.json` holding {seq, body, signature}; written to a
 * temporary name, fsynced, renamed, and the directory fsynced, so a copy is whole or absent.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditDigestRow } from '../store/audit-log';

const NAME = /^([0-9a-f-]{36})-digest-(\d{10})\.json$/;

function fileName(trailId: string, seq: number): string {
  return `${trailId}-digest-${String(seq).padStart(10, '0')}.json`;
}

/** The digest seqs of `trailId` already in `dir`. */
export function deliveredSeqs(dir: string, trailId: string): Set<number> {
  const out = new Set<number>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const m = NAME.exec(n);
    if (m !== null && m[1] === trailId) out.add(Number(m[2]));
  }
  return out;
}

/** Writes one digest into `dir` durably (whole or not at all). */
export function deliverDigest(dir: string, trailId: string, row: AuditDigestRow): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = fileName(trailId, row.seq);
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify({ seq: row.seq, body: row.body, signature: row.signature }));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  const d = openSync(dir, 'r');
  try {
    fsyncSync(d);
  } finally {
    closeSync(d);
  }
}

/** Every delivered digest of `trailId` in `dir`, by seq; throws if a copy is unreadable. */
export function readDeliveredDigests(dir: string, trailId: string): AuditDigestRow[] {
  const rows: AuditDigestRow[] = [];
  for (const seq of [...deliveredSeqs(dir, trailId)].sort((a, b) => a - b)) {
    const file = join(dir, fileName(trailId, seq));
    let parsed: { seq?: unknown; body?: unknown; signature?: unknown };
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
    } catch {
      throw new Error(`${file} is not a digest copy`);
    }
    if (parsed.seq !== seq || typeof parsed.body !== 'string' || typeof parsed.signature !== 'string') throw new Error(`${file} is not a digest copy`);
    rows.push({ seq, body: parsed.body, signature: parsed.signature });
  }
  return rows;
}
