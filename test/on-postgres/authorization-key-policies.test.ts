/** authorization/key-policies.test.ts, unchanged, on PostgreSQL (test/helpers/on-postgres.ts). */
import { runOnPostgres } from '../helpers/on-postgres';

runOnPostgres(() => require('../authorization/key-policies.test'));
