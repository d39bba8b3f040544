/**
 * `keyhold audit verify` and `keyhold audit export` (issue 4). Both read the trail offline
 * (`audit.db` in the data directory, read-only), so they run beside a live server too. With
 * `--store postgres://USER@HOST:PORT/DB` (issue 14) they read a PostgreSQL deployment's trail in
 * one read-only snapshot (store/postgres/audit-log-postgres.ts `PostgresAuditReader.snapshot`),
 * the password from --store-password-file, PGPASSWORD or .pgpass, never the command line.
 *
 * verify exit statuses: 0 intact; 1 could not verify (no trail, no key, unreadable); 2 usage;
 * 10 record edited; 11 record deleted; 12 records reordered; 13 record inserted; 14 truncated;
 * 15 resource index tampered; 20 digest invalid (edited/forged); 21 digest missing;
 * 22 digest does not match its records (records rewritten). See src/audit/verify.ts.
 */
import { openAuditTrailForReading, type AuditTrailForReading } from '../adapters';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportTrail, verifyExport } from '../audit/export';
import { PUBLIC_KEY_FILE, openSigningKey, type SigningKeySettings } from '../audit/signing-key';
import { readDeliveredDigests } from '../audit/digest-copy';
import { FINDING_EXIT, verifyTrail } from '../audit/verify';
import { storeConfig } from '../config';
import type { AuditReader } from '../store/audit-reader';

const AUDIT_DIR = 'audit';

export const AUDIT_USAGE = `  keyhold audit verify --data-dir DIR [--from TIME] [--to TIME] [--public-key FILE] [--digests DIR]
  keyhold audit verify --store postgres://USER@HOST:PORT/DB [--store-password-file FILE] [--data-dir DIR] [--public-key FILE] ...
  keyhold audit verify --export DIR [--public-key FILE]
  keyhold audit export --data-dir DIR --out DIR [--from TIME] [--to TIME] [--master-key-file FILE]
  keyhold audit export --store postgres://USER@HOST:PORT/DB [--store-password-file FILE] --out DIR [--master-key-file FILE] ...
      The database password comes from --store-password-file, PGPASSWORD or a .pgpass file.
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

/**
 * Resolves which trail a command reads — `--store`, else KEYHOLD_STORE as `serve` reads it, else
 * the data directory's — and opens it through the adapter factory.
 */
async function openTrail(values: { 'data-dir'?: string; store?: string; 'store-password-file'?: string }): Promise<AuditTrailForReading> {
  const fromEnv = values['data-dir'] === undefined && process.env.KEYHOLD_STORE !== '' ? process.env.KEYHOLD_STORE : undefined;
  const store = values.store ?? (fromEnv === 'sqlite' ? undefined : fromEnv);
  if (store === undefined) {
    if (values['store-password-file'] !== undefined) throw new UsageError('--store-password-file needs --store postgres://...');
    if (values['data-dir'] === undefined) throw new UsageError('--data-dir (or --store) is required');
    return openAuditTrailForReading({ kind: 'sqlite', dataDir: resolve(values['data-dir']) });
  }
  let config;
  try {
    config = storeConfig(store, values['store-password-file'] ?? process.env.KEYHOLD_STORE_PASSWORD_FILE);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (config.kind !== 'postgres') throw new UsageError('--store must be a postgres:// URL');
  const dataDir = values['data-dir'] === undefined ? undefined : resolve(values['data-dir']);
  return openAuditTrailForReading({ kind: 'postgres', url: config.url, passwordFile: config.passwordFile, dataDir });
}

/** The settings openSigningKey reads, from a reader: a trail without a signing key is refused, never given one. */
function signingSettings(reader: AuditReader): SigningKeySettings {
  return {
    trailId: () => reader.trailId(),
    getSetting: (name) => reader.getSetting(name),
    setSettingIfAbsent: () => {
      throw new Error('the audit trail has no signing key yet: a running node creates it with the first digest');
    },
  };
}

/** The public key: --public-key, else the copy beside the trail, else the one inside the trail (`stored`). */
function publicKeyFor(stored: string | undefined, dir: string | undefined, file: string | undefined): KeyObject {
  if (file !== undefined) return createPublicKey(readFileSync(file, 'utf8'));
  if (dir !== undefined && existsSync(join(dir, PUBLIC_KEY_FILE))) {
    const pem = readFileSync(join(dir, PUBLIC_KEY_FILE), 'utf8');
    if (stored !== undefined && stored !== pem) out(`warning: ${PUBLIC_KEY_FILE} differs from the key stored in the trail; using ${PUBLIC_KEY_FILE}`);
    return createPublicKey(pem);
  }
  if (stored === undefined) throw new Error('no public signing key: pass --public-key');
  out('warning: using the public key stored inside the trail; pass --public-key with an independent copy for a stronger check');
  return createPublicKey(stored);
}

const STORE_OPTIONS = { store: { type: 'string' }, 'store-password-file': { type: 'string' } } as const;

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
      ...STORE_OPTIONS,
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
  const { reader, dir, close } = await openTrail(values);
  try {
    const key = publicKeyFor(await reader.getSetting('signing_public_key'), dir, values['public-key']);
    const trailId = await reader.trailId();
    const delivered = values.digests === undefined ? undefined : readDeliveredDigests(values.digests, trailId);
    if (delivered !== undefined) out(`${delivered.length} delivered digest(s) in ${values.digests}`);
    const report = await verifyTrail(reader, key, { from, to, delivered });
    for (const n of report.notes) out(`note: ${n}`);
    if (report.finding !== undefined) {
      const f = report.finding;
      out(`audit trail ${trailId}: ${f.kind}: ${f.message}`);
      return FINDING_EXIT[f.kind];
    }
    out(`audit trail ${trailId}: intact: ${report.eventsChecked} record(s) in ${report.streamsChecked} stream(s), ${report.digestsChecked} digest(s)`);
    return 0;
  } finally {
    await close();
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
      ...STORE_OPTIONS,
    },
    strict: true,
  });
  if (values.out === undefined) throw new UsageError('--out is required');
  const from = parseTime('from', values.from);
  const to = parseTime('to', values.to);
  const { reader, dir, openTrust, close } = await openTrail(values);
  try {
    // Digest files are signed with the trail's key, which only the root of trust unwraps. Never
    // let the local root of trust generate a key file here: that would be a different key.
    const passphrase = process.env.KEYHOLD_MASTER_PASSPHRASE;
    const keyFile = values['master-key-file'] ?? process.env.KEYHOLD_MASTER_KEY_FILE;
    const trust = await openTrust(passphrase, keyFile);
    try {
      const key = await openSigningKey(signingSettings(reader), trust, dir === undefined ? undefined : join(dir, PUBLIC_KEY_FILE));
      const report = await exportTrail(reader, resolve(values.out), key, { from, to });
      out(`exported ${report.records} record(s) in ${report.logFiles} log file(s) with ${report.digestFiles} digest file(s) to ${resolve(values.out)}`);
      return 0;
    } finally {
      await trust.close();
    }
  } finally {
    await close();
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
