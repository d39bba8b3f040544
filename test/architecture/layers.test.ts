/**
 * Imports point downward only (docs/architecture.md §2): server -> protocol -> operations -> {keys, policy,
 * identity, audit, crypto, lifecycle} -> {store, trust}. Only main.ts and cli/ choose concrete
 * adapters; crypto/ imports nothing from the project; only store/sqlite imports better-sqlite3.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/server';

const SRC = join(REPO_ROOT, 'src');
const RANK: Readonly<Record<string, number>> = {
  cli: 7, main: 6,
  server: 5,
  protocol: 4,
  operations: 3,
  keys: 2, policy: 2, identity: 2, audit: 2, crypto: 2, lifecycle: 2,
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

test('source imports respect the layer order of docs/architecture.md §2', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = layer(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from '([^']+)'/g)) {
      const spec = m[1] as string;
      if (spec === 'better-sqlite3' && !relative(SRC, file).startsWith('store/sqlite/')) violations.push(`${relative(SRC, file)} imports better-sqlite3`);
      if (!spec.startsWith('.')) continue;
      const to = layer(resolve(dirname(file), spec) + '.ts');
      if (to === from) continue;
      if (from === 'crypto') violations.push(`${relative(SRC, file)} (crypto) imports ${spec}`);
      const rf = RANK[from];
      const rt = RANK[to];
      assert.ok(rf !== undefined && rt !== undefined, `unknown layer for ${file} -> ${spec}`);
      const sameTier = rf === rt && from !== to;
      // identity's Caller type is shared by the middle tier; everything else must point down.
      if (rt > rf || (sameTier && !(to === 'identity' || to === 'crypto' || to === 'policy' || to === 'keys'))) {
        violations.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
      }
      if ((spec.includes('/sqlite/') || spec.endsWith('/local')) && from !== 'main' && from !== 'cli' && from !== to) {
        violations.push(`${relative(SRC, file)} chooses a concrete adapter (${spec})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
