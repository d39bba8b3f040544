/**
 * Wraps key material for ImportKeyMaterial with the `openssl` command-line tool, running the
 * commands AWS's developer guide gives users ("Step 3: Encrypt the key material",
 * importing-keys-encrypt-key-material.html) for each wrapping algorithm:
 *
 *   openssl rand -out PlaintextKeyMaterial.bin 32
 *   RSAES_OAEP_SHA_*:
 *     openssl pkeyutl -encrypt -in PlaintextKeyMaterial.bin -out EncryptedKeyMaterial.bin \
 *       -inkey WrappingPublicKey.bin -keyform DER -pubin \
 *       -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
 *   RSA_AES_KEY_WRAP_SHA_*:
 *     openssl rand -out aes-key.bin 32
 *     openssl enc -id-aes256-wrap-pad -K "$(xxd -p < aes-key.bin | tr -d '\n')" -iv A65959A6 \
 *       -in PlaintextKeyMaterial.bin -out key-material-wrapped.bin
 *     openssl pkeyutl -encrypt -in aes-key.bin -out aes-key-wrapped.bin (same -inkey/-pkeyopt)
 *     cat aes-key-wrapped.bin key-material-wrapped.bin > EncryptedKeyMaterial.bin
 *
 * (sha1 in place of sha256 for the _SHA_1 algorithms.) Commands run without a shell; the hex of
 * aes-key.bin is computed here instead of with xxd.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from './server';

export const OPENSSL = '/usr/bin/openssl';

function openssl(cwd: string, args: string[]): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pkeyutlEncrypt(cwd: string, input: string, output: string, md: 'sha1' | 'sha256'): void {
  openssl(cwd, [
    'pkeyutl', '-encrypt', '-in', input, '-out', output, '-inkey', 'WrappingPublicKey.bin', '-keyform', 'DER', '-pubin',
    '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${md}`, '-pkeyopt', `rsa_mgf1_md:${md}`,
  ]);
}

/** Random key material made by `openssl rand -out PlaintextKeyMaterial.bin <bytes>`. */
export function opensslRandomMaterial(bytes = 32): Buffer {
  const dir = tempDir('keyhold-openssl-');
  try {
    openssl(dir, ['rand', '-out', 'PlaintextKeyMaterial.bin', String(bytes)]);
    return readFileSync(join(dir, 'PlaintextKeyMaterial.bin'));
  } finally {
    removeDir(dir);
  }
}

/** EncryptedKeyMaterial for `material` under the DER public key, as AWS's openssl steps make it. */
export function opensslWrap(wrappingAlgorithm: string, publicKeyDer: Uint8Array, material: Uint8Array): Buffer {
  const md = wrappingAlgorithm.endsWith('_SHA_1') ? 'sha1' : 'sha256';
  const dir = tempDir('keyhold-openssl-');
  try {
    writeFileSync(join(dir, 'WrappingPublicKey.bin'), publicKeyDer);
    writeFileSync(join(dir, 'PlaintextKeyMaterial.bin'), material);
    if (wrappingAlgorithm.startsWith('RSAES_OAEP_')) {
      pkeyutlEncrypt(dir, 'PlaintextKeyMaterial.bin', 'EncryptedKeyMaterial.bin', md);
      return readFileSync(join(dir, 'EncryptedKeyMaterial.bin'));
    }
    if (!wrappingAlgorithm.startsWith('RSA_AES_KEY_WRAP_')) throw new Error(`no openssl recipe for ${wrappingAlgorithm}`);
    openssl(dir, ['rand', '-out', 'aes-key.bin', '32']);
    const aesKeyHex = readFileSync(join(dir, 'aes-key.bin')).toString('hex');
    openssl(dir, ['enc', '-id-aes256-wrap-pad', '-K', aesKeyHex, '-iv', 'A65959A6', '-in', 'PlaintextKeyMaterial.bin', '-out', 'key-material-wrapped.bin']);
    pkeyutlEncrypt(dir, 'aes-key.bin', 'aes-key-wrapped.bin', md);
    return Buffer.concat([readFileSync(join(dir, 'aes-key-wrapped.bin')), readFileSync(join(dir, 'key-material-wrapped.bin'))]);
  } finally {
    removeDir(dir);
  }
}
