/** authorization/accounts-sessions-grants.test.ts, unchanged, on PostgreSQL (test/helpers/on-postgres.ts). */
import { runOnPostgres } from '../helpers/on-postgres';

runOnPostgres(() => require('../authorization/accounts-sessions-grants.test'));
