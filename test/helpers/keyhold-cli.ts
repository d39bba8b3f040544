/** Runs the `keyhold` command line (bin/keyhold) the way an operator does, next to a running server. */
import { execFile } from 'node:child_process';
import { KEYHOLD_BIN, serverStoreBackend } from './server';

/** What one run of `keyhold` gave. */
export interface KeyholdRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bin/keyhold <args>` (60 s at most), with `env` added to this process's environment; never throws on a non-zero exit. */
export function keyhold(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<KeyholdRun> {
  // Next to a server on PostgreSQL (test/helpers/on-postgres.ts), a command on its data directory works on its database.
  const dataDirAt = args.indexOf('--data-dir');
  const dataDir = dataDirAt < 0 ? undefined : args[dataDirAt + 1];
  const storeEnv = dataDir === undefined ? undefined : serverStoreBackend()?.commandEnv(dataDir);
  return new Promise((resolve) => {
    execFile(process.execPath, [KEYHOLD_BIN, ...args], { timeout: 60_000, env: { ...process.env, ...storeEnv, ...options.env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
