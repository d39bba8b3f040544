/**
 * Imports point downward only (docs/architecture.md §2): server -> protocol -> operations -> lifecycle ->
 * {keys, identity, audit} -> {crypto, policy} -> {store, trust}. The middle layers do not import
 * one another (issue 13), but for two named leaf files every layer shares: the Caller type and
 * ARN syntax. crypto/ imports nothing from the project. Only the adapter factory (src/adapters.ts)
 * imports an adapter folder (store/sqlite, store/postgres, trust/local) — not main.ts, not the
 * CLI, not the rest of store/ — and an adapter folder imports no other adapter folder; only
 * store/sqlite imports better-sqlite3 and only store/postgres imports pg.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/server';

const SRC = join(REPO_ROOT, 'src');
const RANK: Readonly<Record<string, number>> = {
  cli: 7, main: 6, adapters: 5.5,
  server: 5,
  protocol: 4,
  operations: 3,
  lifecycle: 2.5,
  keys: 2, identity: 2, audit: 2,
  // Libraries of the middle tier: they import nothing from the project but errors and their own tables.
  crypto: 1.5, policy: 1.5,
  store: 1, trust: 1,
  errors: 0, clock: 0, config: 0, model: 0,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layer(file: string): string {
  const rel = relative(SRC, file);
  const top = rel.split('/')[0] as string;
  return top.replace(/\.ts$/, '');
}

/** Leaf files of a middle layer that the other middle layers may import (plain types and syntax, no behaviour). */
const SHARED_LEAVES: ReadonlySet<string> = new Set(['identity/caller.ts', 'keys/arn.ts']);

/** The adapter folders (DESIGN §2, §5, §6): concrete implementations behind the ports. */
const ADAPTER_FOLDERS: readonly string[] = ['store/sqlite', 'store/postgres', 'trust/local'];

/** The adapter folder `rel` (a path under src/) lies in, if any. */
function adapterFolder(rel: string): string | undefined {
  return ADAPTER_FOLDERS.find((f) => rel === f || rel === `${f}.ts` || rel.startsWith(`${f}/`));
}

/** Packages only one adapter folder may import. */
const ADAPTER_PACKAGES: Readonly<Record<string, string>> = { 'better-sqlite3': 'store/sqlite', pg: 'store/postgres', 'pg-connection-string': 'store/postgres' };

test('source imports respect the layer order of docs/architecture.md §2', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = layer(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '([^']+)'/g)) {
      const spec = m[1] as string;
      const owner = ADAPTER_PACKAGES[spec];
      if (owner !== undefined && adapterFolder(relative(SRC, file)) !== owner) violations.push(`${relative(SRC, file)} imports ${spec}`);
      if (!spec.startsWith('.')) continue;
      const to = layer(resolve(dirname(file), spec) + '.ts');
      const target = relative(SRC, resolve(dirname(file), spec) + '.ts');
      // Only the factory chooses an adapter; inside an adapter folder, files import their own folder.
      const adapter = adapterFolder(target);
      const mayChoose = from === 'adapters' || adapter === adapterFolder(relative(SRC, file));
      if (adapter !== undefined && !mayChoose) violations.push(`${relative(SRC, file)} chooses a concrete adapter (${spec})`);
      if (to === from) continue;
      if (from === 'crypto' || (from === 'policy' && to !== 'errors')) violations.push(`${relative(SRC, file)} (${from}) imports ${spec}`);
      const rf = RANK[from];
      const rt = RANK[to];
      assert.ok(rf !== undefined && rt !== undefined, `unknown layer for ${file} -> ${spec}`);
      const sameTier = rf === rt && from !== to;
      if (rt > rf || (sameTier && !SHARED_LEAVES.has(target))) {
        violations.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

/**
 * Narrow repositories (issue 13): below the wiring, modules name the parts of the Store port they
 * use (KeyReader, TransactionRunner, …, src/store/store.ts), never the whole `Store`, so their
 * deps types show the layering. The wiring (main.ts, adapters.ts) and `Services`' default may.
 */
const WIDE_STORE_ALLOWED: ReadonlySet<string> = new Set(['main.ts', 'adapters.ts', 'operations/operation.ts']);

test('only the wiring depends on the whole Store port', () => {
  const wide: string[] = [];
  for (const file of files(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith('store/') || WIDE_STORE_ALLOWED.has(rel)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/import (?:type )?\{([^}]*)\} from '([^']*\/store\/store)'/g)) {
      const names = (m[1] as string).split(',').map((n) => n.trim().replace(/^type /, ''));
      if (names.includes('Store')) wide.push(rel);
    }
  }
  assert.deepEqual(wide, []);
});
