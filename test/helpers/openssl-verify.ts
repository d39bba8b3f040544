/**
 * Verifies KMS signatures and encrypts to KMS public keys with the `openssl` command-line tool
 * (Debian's OpenSSL 3.0), an implementation independent of Keyhold's:
 *   openssl dgst -sha256 -verify pub.pem -signature sig.bin [-sigopt rsa_padding_mode:pss
 *     -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256] msg.bin
 *   openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg.bin -sigfile sig.bin   (Ed25519)
 *   openssl pkeyutl -verify -pubin -inkey pub.pem -in digest.bin -sigfile sig.bin -pkeyopt digest:sha256 (DIGEST)
 *   openssl pkeyutl -encrypt -pubin -inkey pub.der -keyform DER -pkeyopt rsa_padding_mode:oaep
 *     -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENSSL } from './openssl-import';
import { removeDir, tempDir } from './server';

/** What openssl needs to know about a signing algorithm. */
export interface OpensslSigning {
  readonly hash?: string;
  readonly pss?: boolean;
  readonly saltLength?: number;
}

function run(cwd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(OPENSSL, args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** DER SPKI -> PEM file in `dir`. */
function writePublicKey(dir: string, spki: Uint8Array): string {
  const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(spki).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----\n`;
  writeFileSync(join(dir, 'pub.pem'), pem.replace('\n\n', '\n'));
  return 'pub.pem';
}

/** Whether openssl accepts `signature` over `message` (RAW) for the public key. */
export function opensslVerifies(spki: Uint8Array, message: Uint8Array, signature: Uint8Array, alg: OpensslSigning): boolean {
  const dir = tempDir('keyhold-openssl-');
  try {
    const pub = writePublicKey(dir, spki);
    writeFileSync(join(dir, 'msg.bin'), message);
    writeFileSync(join(dir, 'sig.bin'), signature);
    if (alg.hash === undefined) {
      return run(dir, ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-rawin', '-in', 'msg.bin', '-sigfile', 'sig.bin']).status === 0;
    }
    const pss = alg.pss === true
      ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', `rsa_pss_saltlen:${alg.saltLength}`, '-sigopt', `rsa_mgf1_md:${alg.hash}`]
      : [];
    return run(dir, ['dgst', `-${alg.hash}`, '-verify', pub, ...pss, '-signature', 'sig.bin', 'msg.bin']).status === 0;
  } finally {
    removeDir(dir);
  }
}

/** Encrypts `plaintext` to a DER SPKI RSA key with OAEP (`hash` for OAEP and MGF1). */
export function opensslOaepEncrypt(spki: Uint8Array, plaintext: Uint8Array, hash: 'sha1' | 'sha256'): Buffer {
  const dir = tempDir('keyhold-openssl-');
  try {
    writeFileSync(join(dir, 'pub.der'), spki);
    writeFileSync(join(dir, 'pt.bin'), plaintext);
    const r = spawnSync(OPENSSL, ['pkeyutl', '-encrypt', '-pubin', '-inkey', 'pub.der', '-keyform', 'DER', '-in', 'pt.bin',
      '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${hash}`, '-pkeyopt', `rsa_mgf1_md:${hash}`], { cwd: dir });
    if (r.status !== 0) throw new Error(`openssl pkeyutl -encrypt failed: ${r.stderr.toString()}`);
    return r.stdout;
  } finally {
    removeDir(dir);
  }
}
