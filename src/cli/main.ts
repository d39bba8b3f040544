/**
 * The `keyhold` command: `serve`, `credentials create` and `audit verify|export`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../clock';
import { loadConfig, type Flags } from '../config';
import { ACCOUNTS_USAGE, accountsCommand } from './accounts';
import { AUDIT_USAGE, auditCommand } from './audit';
import { PRINCIPALS_USAGE, principalsCommand } from './principals';
import { provisionRootAccessKey } from '../identity/credentials';
import { openAdapters } from '../adapters';
import { defaultAccount, serve } from '../main';
import { DataDirLockedError } from '../server/data-dir-lock';

const USAGE = `Usage:
  keyhold serve [--port N] [--host H] [--data-dir DIR] [--region R] [--regions R1,R2] [--account-id A] [--workers N]
                [--tls-cert FILE --tls-key FILE] [--max-connections N] [--metrics-host H --metrics-port N]
                [--audit-digest-copy DIR] [--store postgres://USER@HOST:PORT/DB [--store-password-file FILE]]
  keyhold credentials create --data-dir DIR --access-key-id ID (--secret-access-key-file FILE|- | --secret-access-key SECRET)
                             [--account-id A] [--store postgres://USER@HOST:PORT/DB [--store-password-file FILE]]
${AUDIT_USAGE}
${ACCOUNTS_USAGE}
${PRINCIPALS_USAGE}

Environment: KEYHOLD_PORT, KEYHOLD_HOST, KEYHOLD_DATA_DIR, KEYHOLD_REGION, KEYHOLD_REGIONS, KEYHOLD_ACCOUNT_ID,
KEYHOLD_WORKERS, KEYHOLD_MASTER_PASSPHRASE, KEYHOLD_MASTER_KEY_FILE, KEYHOLD_LOG_LEVEL,
KEYHOLD_AUDIT_DIGEST_INTERVAL_S, KEYHOLD_AUDIT_DIGEST_COPY, KEYHOLD_AUDIT_RETENTION_DAYS, KEYHOLD_TLS_CERT, KEYHOLD_TLS_KEY,
KEYHOLD_MAX_CONNECTIONS, KEYHOLD_METRICS_HOST, KEYHOLD_METRICS_PORT, KEYHOLD_STORE, KEYHOLD_STORE_PASSWORD_FILE.`;

export const SERVE_OPTIONS = {
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
  'max-connections': { type: 'string' },
  'metrics-host': { type: 'string' },
  'metrics-port': { type: 'string' },
  'audit-digest-copy': { type: 'string' },
  store: { type: 'string' },
  'store-password-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** AWS's secret access keys are 40 characters; shorter ones are for test fixtures only. */
const AWS_SECRET_LENGTH = 40;

/**
 * The secret of `credentials create`: from --secret-access-key-file (a file, or `-` for stdin;
 * one trailing newline dropped) or --secret-access-key, with warnings on stderr when it sits on
 * the command line (process list, shell history) or is shorter than AWS's (issue 12 item 10).
 */
function readSecret(inline: string | undefined, file: string | undefined): string | { error: string } {
  if ((inline === undefined) === (file === undefined)) return { error: 'credentials create needs one of --secret-access-key-file and --secret-access-key' };
  let secret: string;
  if (file !== undefined) {
    try {
      secret = readFileSync(file === '-' ? 0 : file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      return { error: `--secret-access-key-file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})` };
    }
  } else {
    secret = inline as string;
    process.stderr.write('warning: --secret-access-key puts the secret in the process list and shell history; prefer --secret-access-key-file FILE, or - for stdin\n');
  }
  if (secret.length >= 4 && secret.length < AWS_SECRET_LENGTH) {
    process.stderr.write(`warning: the secret is shorter than AWS's ${AWS_SECRET_LENGTH} characters; use short fixed secrets only for test fixtures\n`);
  }
  return secret;
}

async function credentialsCreate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'data-dir': { type: 'string' },
      'access-key-id': { type: 'string' },
      'secret-access-key': { type: 'string' },
      'secret-access-key-file': { type: 'string' },
      'account-id': { type: 'string' },
      'master-key-file': { type: 'string' },
      // The database of a PostgreSQL deployment (issue 14); its password as for `serve`, never on the command line.
      store: { type: 'string' },
      'store-password-file': { type: 'string' },
    },
    strict: true,
  });
  const id = values['access-key-id'];
  if (id === undefined) {
    process.stderr.write('credentials create needs --access-key-id\n');
    return 2;
  }
  const secret = readSecret(values['secret-access-key'], values['secret-access-key-file']);
  if (typeof secret !== 'string') {
    process.stderr.write(secret.error + '\n');
    return 2;
  }
  if (!/^[A-Za-z0-9]{4,128}$/.test(id)) {
    process.stderr.write('--access-key-id must be 4-128 letters and digits\n');
    return 2;
  }
  if (secret.length < 4 || secret.length > 128) {
    process.stderr.write('the secret access key must be 4-128 characters\n');
    return 2;
  }
  const config = loadConfig({
    'data-dir': values['data-dir'],
    'account-id': values['account-id'],
    'master-key-file': values['master-key-file'],
    store: values.store,
    'store-password-file': values['store-password-file'],
  });
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const { trust, store, exclusive } = await openAdapters(config, logger);
  let accountId: string;
  try {
    await store.migrate();
    // Under the lock a starting node provisions under (main.ts): on an empty database, this
    // command and a node's first start (or several of these commands) create one account, not one each.
    accountId = await exclusive('provisioning', async () => {
      const account = await defaultAccount(config, store);
      await provisionRootAccessKey(store, trust, systemClock, account, id, secret);
      return account;
    });
  } finally {
    await store.close();
    await trust.close();
  }
  const where = config.store.kind === 'postgres' ? `the database ${config.store.url}` : config.dataDir;
  process.stdout.write(`created administrator access key ${id} for account ${accountId} in ${where}\n`);
  return 0;
}

/** Runs the command line; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  // Everything any command writes (database, key files, credentials, exports) is for this user only.
  process.umask(0o077);
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
    if (command === 'principals') return await principalsCommand(rest);
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
