/**
 * `keyhold principals tag|untag`: sets or removes tags on an IAM user or role directly in the
 * store. This is the only way to set tags in the operator's reserved `keyhold:` namespace (for
 * example `keyhold:ViaService=s3`, which lets a principal use AWS managed keys as that service
 * would): the API refuses that namespace for every caller, administrators included, so holding
 * the data directory (or the database) and its root of trust is what it takes (issue 12 item 2).
 * Other tags may be set here too. Works while the server runs (SQLite WAL; every server process
 * sees the change on its next request).
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../config';
import { openAdapters } from '../adapters';
import { defaultAccount } from '../main';

/** Usage lines for the principals commands. */
export const PRINCIPALS_USAGE = `  keyhold principals tag   --data-dir DIR [--account-id A] (--user NAME | --role NAME) --tag KEY=VALUE [--tag ...]
  keyhold principals untag --data-dir DIR [--account-id A] (--user NAME | --role NAME) --tag-key KEY [--tag-key ...]`;

/** IAM's tag limits (TagUser/TagRole): keys 1-128, values 0-256 characters of this set. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const MAX_TAGS = 50;

function usage(message: string): number {
  process.stderr.write(`${message}\nUsage:\n${PRINCIPALS_USAGE}\n`);
  return 2;
}

/** Runs `keyhold principals <subcommand>`; resolves to the exit status. */
export async function principalsCommand(args: string[]): Promise<number> {
  const sub = args[0];
  if (sub !== 'tag' && sub !== 'untag') return usage('principals needs tag or untag');
  const { values } = parseArgs({
    args: args.slice(1),
    options: {
      'data-dir': { type: 'string' },
      'account-id': { type: 'string' },
      'master-key-file': { type: 'string' },
      user: { type: 'string' },
      role: { type: 'string' },
      tag: { type: 'string', multiple: true },
      'tag-key': { type: 'string', multiple: true },
    },
    strict: true,
  });
  if ((values.user === undefined) === (values.role === undefined)) return usage('give exactly one of --user and --role');
  const kind = values.user !== undefined ? 'user' : 'role';
  const name = (values.user ?? values.role) as string;
  const tags: { Key: string; Value: string }[] = [];
  for (const t of values.tag ?? []) {
    const eq = t.indexOf('=');
    const tag = eq < 0 ? { Key: t, Value: '' } : { Key: t.slice(0, eq), Value: t.slice(eq + 1) };
    if (!TAG_KEY.test(tag.Key) || !TAG_VALUE.test(tag.Value)) return usage(`--tag ${t}: keys are 1-128 and values 0-256 letters, digits, spaces and _.:/=+-@`);
    if (tag.Key.toLowerCase().startsWith('aws:')) return usage(`--tag ${t}: keys starting with 'aws:' are reserved for AWS use`);
    tags.push(tag);
  }
  const keys = values['tag-key'] ?? [];
  if (sub === 'tag' && tags.length === 0) return usage('principals tag needs at least one --tag KEY=VALUE');
  if (sub === 'untag' && keys.length === 0) return usage('principals untag needs at least one --tag-key KEY');

  const config = loadConfig({ 'data-dir': values['data-dir'], 'account-id': values['account-id'], 'master-key-file': values['master-key-file'] });
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const { trust, store } = await openAdapters(config, logger);
  try {
    await store.migrate();
    const accountId = await defaultAccount(config, store);
    const entity = await store.identity.getIamEntity(accountId, kind, name);
    if (entity === undefined) {
      process.stderr.write(`no ${kind} named ${name} in account ${accountId}\n`);
      return 1;
    }
    if (sub === 'tag') {
      if (!(await store.identity.putIamTags(entity.id, tags, MAX_TAGS))) {
        process.stderr.write(`${entity.arn} would have more than ${MAX_TAGS} tags\n`);
        return 1;
      }
      process.stdout.write(`tagged ${entity.arn} with ${tags.map((t) => t.Key).join(', ')}\n`);
    } else {
      const n = await store.identity.removeIamTags(entity.id, keys);
      process.stdout.write(`removed ${n} tag(s) from ${entity.arn}\n`);
    }
    return 0;
  } finally {
    await store.close();
    await trust.close();
  }
}
