/**
 * The `keyhold` command: `serve`, `credentials create` and `audit verify|export`.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../clock';
import { loadConfig, type Flags } from '../config';
import { ACCOUNTS_USAGE, accountsCommand } from './accounts';
import { AUDIT_USAGE, auditCommand } from './audit';
import { provisionRootAccessKey } from '../identity/credentials';
import { defaultAccount, openBackends, serve } from '../main';
import { DataDirLockedError } from '../server/data-dir-lock';

const USAGE = `Usage:
  keyhold serve [--port N] [--host H] [--data-dir DIR] [--region R] [--regions R1,R2] [--account-id A] [--workers N]
                [--tls-cert FILE --tls-key FILE] [--audit-digest-copy DIR]
  keyhold credentials create --data-dir DIR --access-key-id ID --secret-access-key SECRET [--account-id A]
${AUDIT_USAGE}
${ACCOUNTS_USAGE}

Environment: KEYHOLD_PORT, KEYHOLD_HOST, KEYHOLD_DATA_DIR, KEYHOLD_REGION, KEYHOLD_REGIONS, KEYHOLD_ACCOUNT_ID,
KEYHOLD_WORKERS, KEYHOLD_MASTER_PASSPHRASE, KEYHOLD_MASTER_KEY_FILE, KEYHOLD_LOG_LEVEL,
KEYHOLD_AUDIT_DIGEST_INTERVAL_S, KEYHOLD_AUDIT_DIGEST_COPY, KEYHOLD_AUDIT_RETENTION_DAYS, KEYHOLD_TLS_CERT, KEYHOLD_TLS_KEY.`;

const SERVE_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  region: { type: 'string' },
  regions: { type: 'string' },
  'account-id': { type: 'string' },
  workers: { type: 'string' },
  'master-key-file': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'audit-digest-copy': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function credentialsCreate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      'access-key-id': { type: 'string' },
      'secret-access-key': { type: 'string' },
      'account-id': { type: 'string' },
      'master-key-file': { type: 'string' },
    },
    strict: true,
  });
  const id = values['access-key-id'];
  const secret = values['secret-access-key'];
  if (id === undefined || secret === undefined) {
    process.stderr.write('credentials create needs --access-key-id and --secret-access-key\n');
    return 2;
  }
  if (!/^[A-Za-z0-9]{4,128}$/.test(id)) {
    process.stderr.write('--access-key-id must be 4-128 letters and digits\n');
    return 2;
  }
  if (secret.length < 4 || secret.length > 128) {
    process.stderr.write('--secret-access-key must be 4-128 characters\n');
    return 2;
  }
  const config = loadConfig({
    'data-dir': values['data-dir'],
    'account-id': values['account-id'],
    'master-key-file': values['master-key-file'],
  });
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const { trust, store } = openBackends(config, logger);
  let accountId: string;
  try {
    await store.migrate();
    accountId = await defaultAccount(config, store);
    await provisionRootAccessKey(store, trust, systemClock, accountId, id, secret);
  } finally {
    await store.close();
    await trust.close();
  }
  process.stdout.write(`created administrator access key ${id} for account ${accountId} in ${config.dataDir}\n`);
  return 0;
}

/** Runs the command line; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') {
      const { values } = parseArgs({ args: rest, options: SERVE_OPTIONS, strict: true });
      if (values.help === true) {
        process.stdout.write(USAGE + '\n');
        return 0;
      }
      const { help: _h, ...flags } = values;
      await serve(loadConfig(flags as Flags));
      return 0;
    }
    if (command === 'credentials' && rest[0] === 'create') return await credentialsCreate(rest.slice(1));
    if (command === 'audit') return await auditCommand(rest);
    if (command === 'accounts') return await accountsCommand(rest);
    process.stdout.write(USAGE + '\n');
    return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  } catch (e) {
    if (e instanceof DataDirLockedError) {
      process.stderr.write(`keyhold: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`keyhold: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
