/** authorization/iam-hardening.test.ts, unchanged, on PostgreSQL (test/helpers/on-postgres.ts). */
import { runOnPostgres } from '../helpers/on-postgres';

runOnPostgres(() => require('../authorization/iam-hardening.test'));
