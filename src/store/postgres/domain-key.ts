/**
 * The sealed domain key of a PostgreSQL deployment (issue 14; DESIGN §6): one row, written by the
 * first node to start and read by every other. The row holds only the sealed form (AES-256-GCM
 * under a key derived from the operator secret, src/trust/local.ts); the secret never reaches
 * the database. Structurally the `SealedDomainKeyStorage` of src/trust/local.ts (the store layer
 * does not import the trust layer).
 */
import type { PostgresPool } from './connection';

/** The `domain_key` table of migration 1. */
export class PostgresSealedDomainKey {
  readonly where = 'the database (table domain_key)';
  readonly #pool: PostgresPool;
  readonly #now: () => number;

  constructor(pool: PostgresPool, now: () => number = Date.now) {
    this.#pool = pool;
    this.#now = now;
  }

  async read(): Promise<string | undefined> {
    return (await this.#pool.query<{ sealed: string }>('SELECT sealed FROM domain_key WHERE id = 1'))[0]?.sealed;
  }

  /** Stores `sealed` unless a row exists (first writer wins, in one transaction); returns the stored one. */
  async createIfAbsent(sealed: string): Promise<string> {
    return this.#pool.transaction(async (tx) => {
      await tx.query('INSERT INTO domain_key (id, sealed, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [sealed, this.#now()]);
      const rows = await tx.query<{ sealed: string }>('SELECT sealed FROM domain_key WHERE id = 1');
      return (rows[0] as { sealed: string }).sealed;
    });
  }
}
