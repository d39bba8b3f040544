/**
 * One server per data directory. The lock is a Linux abstract-namespace Unix socket named after
 * the directory's real path: the kernel releases it when the process dies, so a `kill -9` leaves
 * no stale lock, and a second `serve` finds it taken and refuses.
 */
import { createHash } from 'node:crypto';
import { realpathSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

/** Thrown when another server holds the directory. */
export class DataDirLockedError extends Error {}

/** Takes the lock on `dataDir`; resolves to a release function. */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const real = realpathSync(dataDir);
  const name = '\0keyhold-' + createHash('sha256').update(real).digest('hex').slice(0, 40);
  const server: Server = createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(new DataDirLockedError(`another keyhold server is already using the data directory ${real}; refusing to start`));
      } else {
        reject(err);
      }
    });
    server.listen(name, () => resolve());
  });
  server.unref();
  const pidFile = join(real, 'keyhold.pid');
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  return async () => {
    rmSync(pidFile, { force: true });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
