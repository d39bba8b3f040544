/**
 * The AWS CLI v2 (Debian package `awscli`, /usr/bin/aws) against a test server, configured only
 * as the README promises: the data directory's shared-credentials file and `--endpoint-url`. No
 * AWS_* variable of the outer environment and no ~/.aws of the user reach it: each CLI has its
 * own temporary HOME, and a work folder for the files its commands read.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir, type TestServer } from './server';

/** The CLI of Debian's awscli package (never a shim on PATH). */
export const AWS_CLI = '/usr/bin/aws';

/** What one run of the CLI gave. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Fails when /usr/bin/aws is missing: the CLI tests are never skipped. */
export function assertAwsCliInstalled(): void {
  assert.ok(existsSync(AWS_CLI), `${AWS_CLI} is missing: install the Debian package awscli (the AWS CLI v2); this test is never skipped`);
}

/** The AWS CLI aimed at a suite's server (read at each run: a suite may restart it on the same data directory). */
export class AwsCli {
  readonly home = tempDir('keyhold-cli-home-');
  readonly work = tempDir('keyhold-cli-work-');
  readonly #env: NodeJS.ProcessEnv;
  readonly #server: () => TestServer;

  constructor(server: () => TestServer) {
    this.#server = server;
    this.#env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    this.#env.HOME = this.home;
    this.#env.AWS_SHARED_CREDENTIALS_FILE = join(server().dataDir, 'credentials');
    this.#env.AWS_CONFIG_FILE = '/dev/null';
    this.#env.AWS_PAGER = '';
  }

  /** Runs `aws <args> --endpoint-url <server>`; never throws on a non-zero exit. */
  run(args: string[]): Promise<CliRun> {
    return new Promise((resolve, reject) => {
      const options = { env: this.#env, timeout: 60_000, maxBuffer: 16 << 20 };
      execFile(AWS_CLI, [...args, '--endpoint-url', this.#server().endpoint], options, (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          reject(err);
          return;
        }
        resolve({ code: err ? (err.code as unknown as number) : 0, stdout, stderr });
      });
    });
  }

  /** Runs aws and expects success; returns stdout. */
  async ok(args: string[]): Promise<string> {
    const r = await this.run(args);
    assert.equal(r.code, 0, `aws ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return r.stdout;
  }

  /** Runs aws with `--output json` and expects success; returns the parsed stdout. */
  async json<T = Record<string, any>>(args: string[]): Promise<T> {
    return JSON.parse(await this.ok([...args, '--output', 'json'])) as T;
  }

  /** Writes `data` to `name` in the work folder; returns its path. */
  file(name: string, data: string | Uint8Array): string {
    const p = join(this.work, name);
    writeFileSync(p, data);
    return p;
  }

  /** Removes the HOME and work folders. */
  remove(): void {
    removeDir(this.home);
    removeDir(this.work);
  }
}
