/**
 * `keyhold serve` with the audit trail's test hooks injected (issue 11): a test-only entry point,
 * not shipped in bin/. The hooks (an injected fsync failure, a small journal, no background
 * apply; src/audit/thread-protocol.ts AuditTestHooks) are passed to serve() in-process, so no
 * environment variable or flag of the real `keyhold serve` can turn them on. The tests that
 * use them need a separate process (kill -9, prlimit on its pid), hence an entry rather than
 * an in-process server. Cluster workers re-run this same script with the same arguments, so
 * they get the same hooks.
 *
 *   node dist/test/helpers/keyhold-audit-hooks.js '<AuditTestHooks as JSON>' serve [serve flags]
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import type { AuditTestHooks } from '../../src/audit/thread-protocol';
import { SERVE_OPTIONS } from '../../src/cli/main';
import { loadConfig, type Flags } from '../../src/config';
import { serve } from '../../src/main';

function main(hooksJson: string, argv: string[]): void {
  const [command, ...rest] = argv;
  if (command !== 'serve') {
    process.stderr.write("usage: keyhold-audit-hooks.js '<hooks JSON>' serve [serve flags]\n");
    process.exit(2);
  }
  const hooks = JSON.parse(hooksJson) as AuditTestHooks;
  const { values } = parseArgs({ args: rest, options: SERVE_OPTIONS, strict: true });
  const { help: _help, ...flags } = values;
  process.umask(0o077);
  serve(loadConfig(flags as Flags), { auditTrail: true, auditTestHooks: hooks }).then(
    // `serve` returns in a cluster worker once it listens: only the primary's return means "stopped".
    () => {
      if (cluster.isPrimary) process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`keyhold: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}

// Without arguments (`node --test` given this file, say) there is nothing to start.
const [hooksJson, ...argv] = process.argv.slice(2);
if (hooksJson !== undefined) main(hooksJson, argv);
