/**
 * TLS to PostgreSQL (issue 14) against a real cluster serving a certificate from a test CA: the
 * URL's libpq-style parameters reach `pg` as `pg` reads them, including the difference the README
 * warns about — `pg` 8 reads sslmode=require as full verification (an untrusted certificate is
 * refused), where libpq (and `pg` with uselibpqcompat=true) only encrypts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PostgresPool } from '../../src/store/postgres/connection';
import { usePostgres } from '../helpers/postgres';
import { tempDir } from '../helpers/server';

const dir = tempDir('keyhold-pgtls-');
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate it signed for 127.0.0.1, and an unrelated CA. */
function makePki(): { ca: string; otherCa: string; cert: string; key: string } {
  const p = (n: string): string => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-subj', '/CN=Keyhold test CA', '-days', '2']);
  openssl(['req', '-x509', ...ec, '-keyout', p('other.key'), '-out', p('other.crt'), '-subj', '/CN=Some other CA', '-days', '2']);
  openssl(['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.crt'), '-days', '2', '-extfile', p('ext.cnf')]);
  return { ca: p('ca.crt'), otherCa: p('other.crt'), cert: p('server.crt'), key: p('server.key') };
}

let pki: ReturnType<typeof makePki>;
const pg = usePostgres(() => {
  pki = makePki();
  return { tls: { certFile: pki.cert, keyFile: pki.key } };
});

const PATIENT = { connectTimeoutMs: 30_000, queryTimeoutMs: 30_000, deadlineMs: 60_000 };

/** Whether a connection opened with `query` (URL parameters) and `tls` is encrypted; rejects if it cannot connect. */
async function encrypted(query: string, tls?: { ca: string }): Promise<boolean> {
  const pool = new PostgresPool({ url: `${pg().url()}${query}`, passwordFile: pg().passwordFile, env: {}, ...PATIENT, ...(tls === undefined ? {} : { tls }) });
  try {
    const rows = await pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0]?.ssl === true;
  } finally {
    await pool.close();
  }
}

test('sslmode=verify-full with sslrootcert naming the CA: an encrypted, verified connection', { timeout: 60_000 }, async () => {
  assert.equal(await encrypted(`?sslmode=verify-full&sslrootcert=${encodeURIComponent(pki.ca)}`), true);
});

test('TLS options from code (a CA) are passed through to pg', { timeout: 60_000 }, async () => {
  assert.equal(await encrypted('', { ca: readFileSync(pki.ca, 'utf8') }), true);
});

test("pg reads sslmode=require as full verification: a certificate from an untrusted CA is refused (unlike libpq)", { timeout: 60_000 }, async () => {
  await assert.rejects(encrypted(`?sslmode=require&sslrootcert=${encodeURIComponent(pki.otherCa)}`), /certificate/i);
  await assert.rejects(encrypted('?sslmode=require'), /certificate/i);
  // libpq's meaning, asked for explicitly: encrypted without checking the certificate.
  assert.equal(await encrypted('?uselibpqcompat=true&sslmode=require'), true);
});

test('without TLS parameters the connection is not encrypted (the server allows both)', { timeout: 60_000 }, async () => {
  assert.equal(await encrypted(''), false);
});
