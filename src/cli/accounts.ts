/**
 * `keyhold accounts create`: adds an account with an administrator (account root) access key,
 * appended as a profile to the data directory's AWS shared-credentials file, and optionally makes
 * it a member of an existing organization (as an invited account). Works while the server runs
 * (SQLite WAL; the server loads new keys on first use).
 */
import { appendFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { systemClock } from '../clock';
import { loadConfig } from '../config';
import { createAccount, policiesForNewMember } from '../identity/accounts';
import { newAccessKeyId, newSecretAccessKey, provisionRootAccessKey } from '../identity/credentials';
import { openAdapters } from '../adapters';

/** Usage lines for the accounts commands. */
export const ACCOUNTS_USAGE = `  keyhold accounts create --data-dir DIR [--account-id A] [--name NAME] [--email EMAIL] [--profile P]
                          [--organization o-...] [--credentials-file FILE]`;

const PROFILE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Runs `keyhold accounts <subcommand>`; resolves to the exit status. */
export async function accountsCommand(args: string[]): Promise<number> {
  if (args[0] !== 'create') {
    process.stderr.write(`Usage:\n${ACCOUNTS_USAGE}\n`);
    return 2;
  }
  const { values } = parseArgs({
    args: args.slice(1),
    options: {
      'data-dir': { type: 'string' },
      'account-id': { type: 'string' },
      name: { type: 'string' },
      email: { type: 'string' },
      profile: { type: 'string' },
      organization: { type: 'string' },
      'credentials-file': { type: 'string' },
      'master-key-file': { type: 'string' },
    },
    strict: true,
  });
  const config = loadConfig({ 'data-dir': values['data-dir'], 'account-id': values['account-id'], 'master-key-file': values['master-key-file'] });
  const credentialsFile = values['credentials-file'] ?? join(config.dataDir, 'credentials');
  if (values['credentials-file'] === undefined && !existsSync(credentialsFile)) {
    process.stderr.write(`${credentialsFile} does not exist: start the server once first, or pass --credentials-file\n`);
    return 2;
  }
  if (values.email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email)) {
    process.stderr.write('--email must be an email address\n');
    return 2;
  }
  if (values.organization !== undefined && !/^o-[a-z0-9]{10,32}$/.test(values.organization)) {
    process.stderr.write('--organization must be an organization id such as o-a1b2c3d4e5\n');
    return 2;
  }
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const { trust, store } = await openAdapters(config, logger);
  try {
    await store.migrate();
    const org = values.organization === undefined ? undefined : await store.identity.getOrganization(values.organization);
    if (values.organization !== undefined && org === undefined) {
      process.stderr.write(`organization ${values.organization} does not exist\n`);
      return 1;
    }
    const account = await createAccount(store, systemClock, values.name ?? null, values.email ?? null, config.accountId);
    if (account === undefined) {
      process.stderr.write(`account ${config.accountId} already exists\n`);
      return 1;
    }
    const profile = values.profile ?? `account-${account.accountId}`;
    if (!PROFILE.test(profile) || (existsSync(credentialsFile) && readFileSync(credentialsFile, 'utf8').includes(`[${profile}]`))) {
      process.stderr.write(`--profile must be a new profile name (letters, digits, _ . -)\n`);
      return 2;
    }
    if (org !== undefined) await store.identity.joinOrganization(account.accountId, org.id, 'INVITED', systemClock.now(), policiesForNewMember);
    const accessKeyId = newAccessKeyId();
    const secret = newSecretAccessKey();
    await provisionRootAccessKey(store, trust, systemClock, account.accountId, accessKeyId, secret);
    appendFileSync(
      credentialsFile,
      `\n# Keyhold administrator for account ${account.accountId}\n[${profile}]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secret}\nregion = ${config.region}\n`,
      { mode: 0o600 },
    );
    chmodSync(credentialsFile, 0o600);
    process.stdout.write(
      `created account ${account.accountId} with administrator access key ${accessKeyId} (profile ${profile} in ${credentialsFile})` +
        (org === undefined ? '' : `, member of ${org.id}`) + '\n',
    );
    return 0;
  } finally {
    await store.close();
    await trust.close();
  }
}
