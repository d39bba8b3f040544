/** authorization/conditions.test.ts, unchanged, on PostgreSQL (test/helpers/on-postgres.ts). */
import { runOnPostgres } from '../helpers/on-postgres';

runOnPostgres(() => require('../authorization/conditions.test'));
