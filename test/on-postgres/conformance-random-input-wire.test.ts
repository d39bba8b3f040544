/** conformance/random-input-wire.test.ts, unchanged, on PostgreSQL (test/helpers/on-postgres.ts). */
import { runOnPostgres } from '../helpers/on-postgres';

runOnPostgres(() => require('../conformance/random-input-wire.test'));
