/**
 * `keyhold audit verify` and `keyhold audit export` (issue 4). Both read the trail offline
 * (`audit.db` in the data directory, read-only), so they run beside a live server too.
 *
 * verify exit statuses: 0 intact; 1 could not verify (no trail, no key, unreadable); 2 usage;
 * 10 record edited; 11 record deleted; 12 records reordered; 13 record inserted; 14 truncated;
 * 15 resource index tampered; 20 digest invalid (edited/forged); 21 digest missing;
 * 22 digest does not match its records (records rewritten). See src/audit/verify.ts.
 */
import { auditStoreExists, openAuditStore, openRootOfTrust } from '../adapters';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportTrail, verifyExport } from '../audit/export';
import { PUBLIC_KEY_FILE, openSigningKey } from '../audit/signing-key';
import { readDeliveredDigests } from '../audit/digest-copy';
import { FINDING_EXIT, verifyTrail } from '../audit/verify';
import type { AuditStore } from '../store/audit-log';

const AUDIT_DIR = 'audit';

export const AUDIT_USAGE = `  keyhold audit verify --data-dir DIR [--from TIME] [--to TIME] [--public-key FILE] [--digests DIR]
  keyhold audit verify --export DIR [--public-key FILE]
  keyhold audit export --data-dir DIR --out DIR [--from TIME] [--to TIME] [--master-key-file FILE]
      TIME: ISO 8601 (2026-01-31T12:00:00Z) or epoch seconds. verify exits 0 when the trail is
      intact, 10-15 for a record finding, 20-22 for a digest finding, 1 when it cannot verify.`;

class UsageError extends Error {}

function parseTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} must be an ISO 8601 time or epoch seconds`);
  return ms;
}

function out(line: string): void {
  process.stdout.write(line + '\n');
}

function openTrail(dataDir: string | undefined): { log: AuditStore; dir: string } {
  if (dataDir === undefined) throw new UsageError('--data-dir is required');
  const dir = resolve(dataDir);
  const path = join(dir, AUDIT_DIR);
  if (!auditStoreExists(path)) throw new Error(`no audit trail in ${path}`);
  return { log: openAuditStore(path, { readonly: true }), dir };
}

/** The public key: --public-key, else the copy beside the trail, else the one inside the trail. */
function publicKeyFor(log: AuditStore | undefined, dir: string | undefined, file: string | undefined): KeyObject {
  if (file !== undefined) return createPublicKey(readFileSync(file, 'utf8'));
  if (dir !== undefined && existsSync(join(dir, PUBLIC_KEY_FILE))) {
    const pem = readFileSync(join(dir, PUBLIC_KEY_FILE), 'utf8');
    const stored = log?.getSetting('signing_public_key');
    if (stored !== undefined && stored !== pem) out(`warning: ${PUBLIC_KEY_FILE} differs from the key stored in the trail; using ${PUBLIC_KEY_FILE}`);
    return createPublicKey(pem);
  }
  const stored = log?.getSetting('signing_public_key');
  if (stored === undefined) throw new Error('no public signing key: pass --public-key');
  out('warning: using the public key stored inside the trail; pass --public-key with an independent copy for a stronger check');
  return createPublicKey(stored);
}

async function verifyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'public-key': { type: 'string' },
      export: { type: 'string' },
      digests: { type: 'string' },
    },
    strict: true,
  });
  if (values.export !== undefined) {
    const key = publicKeyFor(undefined, values.export, values['public-key'] ?? join(values.export, 'keyhold-audit-signing-key.pem'));
    const problems = verifyExport(values.export, key);
    for (const p of problems) out(p);
    out(problems.length === 0 ? `export ${values.export}: intact` : `export ${values.export}: ${problems.length} problem(s)`);
    return problems.length === 0 ? 0 : FINDING_EXIT.DIGEST_INVALID;
  }
  const from = parseTime('from', values.from);
  const to = parseTime('to', values.to);
  const { log, dir } = openTrail(values['data-dir']);
  try {
    const key = publicKeyFor(log, dir, values['public-key']);
    const trailId = log.trailId();
    const delivered = values.digests === undefined ? undefined : readDeliveredDigests(values.digests, trailId);
    if (delivered !== undefined) out(`${delivered.length} delivered digest(s) in ${values.digests}`);
    const report = verifyTrail(log, key, { from, to, delivered });
    for (const n of report.notes) out(`note: ${n}`);
    if (report.finding !== undefined) {
      const f = report.finding;
      out(`audit trail ${trailId}: ${f.kind}: ${f.message}`);
      return FINDING_EXIT[f.kind];
    }
    out(`audit trail ${trailId}: intact: ${report.eventsChecked} record(s) in ${report.streamsChecked} stream(s), ${report.digestsChecked} digest(s)`);
    return 0;
  } finally {
    log.close();
  }
}

async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'master-key-file': { type: 'string' },
    },
    strict: true,
  });
  if (values.out === undefined) throw new UsageError('--out is required');
  const from = parseTime('from', values.from);
  const to = parseTime('to', values.to);
  const { log, dir } = openTrail(values['data-dir']);
  try {
    // Digest files are signed with the trail's key, which only the root of trust unwraps. Never
    // let the local root of trust generate a key file here: that would be a different key.
    const passphrase = process.env.KEYHOLD_MASTER_PASSPHRASE;
    const keyFile = values['master-key-file'] ?? process.env.KEYHOLD_MASTER_KEY_FILE;
    if ((passphrase === undefined || passphrase === '') && keyFile === undefined && !existsSync(join(dir, 'master.key'))) {
      throw new Error('export signs digest files with the trail\'s key: set KEYHOLD_MASTER_PASSPHRASE or --master-key-file');
    }
    const trust = openRootOfTrust({ dataDir: dir, passphrase, keyFile });
    try {
      const key = await openSigningKey(log, trust, join(dir, PUBLIC_KEY_FILE));
      const report = exportTrail(log, resolve(values.out), key, { from, to });
      out(`exported ${report.records} record(s) in ${report.logFiles} log file(s) with ${report.digestFiles} digest file(s) to ${resolve(values.out)}`);
      return 0;
    } finally {
      await trust.close();
    }
  } finally {
    log.close();
  }
}

/** `keyhold audit ...`; resolves to the exit status. */
export async function auditCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    if (sub === 'verify') return await verifyCommand(rest);
    if (sub === 'export') return await exportCommand(rest);
    process.stderr.write(`Usage:\n${AUDIT_USAGE}\n`);
    return 2;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`keyhold audit: ${(e as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`keyhold audit: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
