/**
 * GetParametersForImport: an RSA wrapping key pair and an import token for an EXTERNAL-origin key
 * (kms-reference.md §14.4), for every key type that takes imported material (symmetric, HMAC,
 * RSA, ECC; issue 10), with AWS's limits on the wrapping algorithm per material type. The public
 * key and the token are permanently linked and valid for
 * 24 hours; the private key is kept only wrapped by the root of trust, bound to the token, the
 * key and the chosen algorithm, and the store holds a hash of the token rather than the token.
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { createHash, randomBytes } from 'node:crypto';
import { generateWrappingKeyPair, WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS, type WrappingAlgorithm } from '../crypto/import-wrapping';
import { ServiceError } from '../errors';
import { assertKeyState } from '../keys/key-states';
import { keySpecFacts } from '../keys/key-specs';
import type { ImportTokenRecord, KeyRecord } from '../store/records';
import type { Operation } from './operation';
import type { ImportTokenRepository } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type GetParametersForImportOutput } from '../model/kms-outputs';

interface GetParametersForImportInput {
  KeyId: string;
  WrappingAlgorithm: string;
  WrappingKeySpec: string;
}

/** How long a public key and import token stay valid (AWS: 24 hours). */
export const IMPORT_TOKEN_TTL_MS = 24 * 3_600_000;

const TOKEN_FORMAT_V1 = 0x01;
const TOKEN_RANDOM_BYTES = 32;

/** The store's name for a token: its SHA-256, so a copy of the database does not hold usable tokens. */
export function importTokenId(token: Buffer): string {
  return createHash('sha256').update(token).digest('hex');
}

/** True when `token` has the shape of a token this server issues (format byte + 256 random bits). */
export function isImportTokenShape(token: Buffer): boolean {
  return token.length === 1 + TOKEN_RANDOM_BYTES && token[0] === TOKEN_FORMAT_V1;
}

/** AAD that binds a wrapped wrapping-private-key to its token, key, spec and algorithm. */
export function importTokenAad(t: Pick<ImportTokenRecord, 'tokenId' | 'keyArn' | 'wrappingKeySpec' | 'wrappingAlgorithm'>): Buffer {
  return Buffer.from(`keyhold/import-token/v1\0${t.tokenId}\0${t.keyArn}\0${t.wrappingKeySpec}\0${t.wrappingAlgorithm}`);
}

/** Import operations need a key made for imported material ([9] of the key-state matrix). */
export function assertExternalOrigin(key: KeyRecord): void {
  if (key.origin !== 'EXTERNAL') {
    throw new ServiceError('UnsupportedOperationException', `${key.arn} origin is ${key.origin} which is not valid for this operation.`);
  }
}

/**
 * AWS's limits on which wrapping fits which material (API_GetParametersForImport,
 * WrappingAlgorithm): an RSA private key needs an RSA_AES algorithm (it is too large for RSA-OAEP
 * alone), and RSAES_OAEP with an RSA_2048 wrapping key cannot hold ECC_NIST_P521 material.
 */
function assertWrappingFits(key: KeyRecord, algorithm: WrappingAlgorithm, wrappingKeySpec: string): void {
  if (algorithm.scheme !== 'rsa-oaep') return;
  if (keySpecFacts(key.keySpec).family === 'rsa') {
    throw new ServiceError(
      'ValidationException',
      `The ${algorithm.name} wrapping algorithm cannot wrap RSA key material. Use RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256.`,
    );
  }
  if (key.keySpec === 'ECC_NIST_P521' && wrappingKeySpec === 'RSA_2048') {
    throw new ServiceError(
      'ValidationException',
      `The ${algorithm.name} wrapping algorithm with an RSA_2048 wrapping key cannot wrap ECC_NIST_P521 key material. Use a larger wrapping key spec or an RSA_AES wrapping algorithm.`,
    );
  }
}

export const getParametersForImport: Operation<GetParametersForImportInput, GetParametersForImportOutput, KmsAuthorizationStore & ImportTokenRepository> = {
  name: 'GetParametersForImport',
  output: KMS_OUTPUTS.GetParametersForImport,
  readOnly: true,
  input: KMS_INPUTS.GetParametersForImport,
  async invoke(input, ctx, svc) {
    const algorithm = WRAPPING_ALGORITHMS[input.WrappingAlgorithm];
    if (algorithm === undefined) {
      // RSAES_PKCS1_V1_5 is unsupported since 2023-10-10; SM2PKE exists only in China Regions.
      throw new ServiceError('UnsupportedOperationException', `The wrapping algorithm ${input.WrappingAlgorithm} is not supported.`);
    }
    const modulusBits = WRAPPING_KEY_SPECS[input.WrappingKeySpec];
    if (modulusBits === undefined) {
      throw new ServiceError('UnsupportedOperationException', `The wrapping key spec ${input.WrappingKeySpec} is not supported.`);
    }
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:GetParametersForImport');
    await authorizeKms(ctx, svc, {
      action: 'kms:GetParametersForImport',
      key,
      conditions: { 'kms:WrappingAlgorithm': input.WrappingAlgorithm, 'kms:WrappingKeySpec': input.WrappingKeySpec },
    });
    assertExternalOrigin(key);
    assertKeyState(key, 'import-parameters');
    assertWrappingFits(key, algorithm, input.WrappingKeySpec);

    const pair = await generateWrappingKeyPair(modulusBits);
    const token = Buffer.concat([Buffer.of(TOKEN_FORMAT_V1), randomBytes(TOKEN_RANDOM_BYTES)]);
    const expiresAt = svc.clock.now() + IMPORT_TOKEN_TTL_MS;
    const bound = { tokenId: importTokenId(token), keyArn: key.arn, wrappingKeySpec: input.WrappingKeySpec, wrappingAlgorithm: algorithm.name };
    try {
      const wrappedPrivateKey = await svc.trust.wrap(pair.privateKey, importTokenAad(bound));
      await svc.store.putImportToken({ ...bound, wrappedPrivateKey, expiresAt });
    } finally {
      pair.privateKey.fill(0);
    }
    return {
      KeyId: key.arn,
      ImportToken: token,
      PublicKey: pair.publicKey,
      ParametersValidTo: expiresAt,
    };
  },
};
