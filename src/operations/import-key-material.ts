/**
 * ImportKeyMaterial: unwraps key material with the private half of an import token's wrapping
 * key and installs it into an EXTERNAL-origin key (kms-reference.md §14.4): 256-bit symmetric
 * material, HMAC material, or an RSA/ECC/Ed25519 private key as DER PKCS#8 (issue 10;
 * src/keys/imported-material.ts holds the rules per spec).
 *
 * - First import: version 1 (origin IMPORT); the key goes PendingImport -> Enabled.
 * - Re-import: only the material the key already has (IncorrectKeyMaterialException otherwise),
 *   recognised by its KeyMaterialId; it restores deleted or expired material and replaces the
 *   expiration model and date. The key becomes Enabled once every version has material again; a
 *   Disabled key stays Disabled (AWS: reimporting "to change the expiration model or expiration
 *   date"; the key must be PendingImport or Enabled — §8 also lets a Disabled key with material
 *   through).
 * - KeyMaterialId is 64 hex "based on the KMS key ID and the imported key material" (AWS API
 *   reference): HMAC-SHA256 keyed by the material over a label and the key id, so the same
 *   material gets the same id in every Region of a multi-Region key and the id reveals nothing.
 */
import { KMS_INPUTS } from '../model/kms-inputs';
import { assertCustomerManaged } from '../keys/aws-managed';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { unwrapKeyMaterial, UnwrapError, WRAPPING_ALGORITHMS } from '../crypto/import-wrapping';
import { ServiceError } from '../errors';
import { canonicalImportedMaterial, ImportedMaterialError } from '../keys/imported-material';
import { assertKeyState } from '../keys/key-states';
import { keySpecFacts } from '../keys/key-specs';
import type { KeyRecord, KeyState, KeyWrite } from '../store/store';
import { assertExternalOrigin, importTokenAad, importTokenId, isImportTokenShape } from './get-parameters-for-import';
import type { Operation, RequestContext, Services } from './operation';
import type { ImportTokenRepository, KeyReader, KeyVersionRepository, KeyWriter } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';

import { KMS_OUTPUTS, type ImportKeyMaterialOutput } from '../model/kms-outputs';

/** The repositories this operation depends on (issue 13). */
type Deps = KmsAuthorizationStore & KeyWriter & KeyReader & KeyVersionRepository & ImportTokenRepository;

interface ImportKeyMaterialInput {
  KeyId: string;
  ImportToken: Buffer;
  EncryptedKeyMaterial: Buffer;
  /** Epoch milliseconds (decoded from the wire's epoch seconds). */
  ValidTo?: number;
  ExpirationModel?: string;
  ImportType?: string;
  KeyMaterialDescription?: string;
  KeyMaterialId?: string;
}

const DAY_MS = 86_400_000;
/** ValidTo may be at most 365 days after the request (AWS API reference, ImportKeyMaterial). */
const MAX_VALIDITY_MS = 365 * DAY_MS;
const MAX_ATTEMPTS = 3;
const MATERIAL_ID_LABEL = 'keyhold/key-material-id/v1\0';

const INVALID_TOKEN = 'The import token is invalid or is associated with a different KMS key.';
const EXPIRED_TOKEN =
  'The import token has expired. Use GetParametersForImport to get a new import token and public key, use the new public key to encrypt the key material, and then try the request again.';
const UNWRAP_FAILED = 'KMS cannot decrypt the encrypted key material with the wrapping key and algorithm of this import token.';
const DIFFERENT_MATERIAL = 'The key material in the request is not the key material that was previously imported into this KMS key.';

/** AWS's KeyMaterialId for `material` imported into key `keyId`: 64 lowercase hex. */
export function keyMaterialId(keyId: string, material: Buffer): string {
  return createHmac('sha256', material).update(MATERIAL_ID_LABEL).update(keyId).digest('hex');
}

function sameId(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function validation(message: string): ServiceError {
  return new ServiceError('ValidationException', message);
}

/** The expiration the request asks for; AWS's rules for ExpirationModel and ValidTo. */
function expiration(input: ImportKeyMaterialInput, now: number): { expirationModel: string; validTo: number | null } {
  const expirationModel = input.ExpirationModel ?? 'KEY_MATERIAL_EXPIRES';
  if (expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE') {
    if (input.ValidTo !== undefined) {
      throw validation('The parameter ValidTo cannot be specified for a key with an expiration model of KEY_MATERIAL_DOES_NOT_EXPIRE.');
    }
    return { expirationModel, validTo: null };
  }
  if (input.ValidTo === undefined) throw validation('A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES.');
  if (input.ValidTo <= now) throw validation('ValidTo must be a date and time in the future.');
  if (input.ValidTo > now + MAX_VALIDITY_MS) throw validation('ValidTo must be no more than 365 days from the request date.');
  return { expirationModel, validTo: input.ValidTo };
}

/** Reads the token, checks it belongs to `key` and is current, and unwraps the material. The caller wipes it. */
async function unwrapWithToken(key: KeyRecord, input: ImportKeyMaterialInput, svc: Services<Deps>): Promise<Buffer> {
  if (!isImportTokenShape(input.ImportToken)) throw new ServiceError('InvalidImportTokenException', INVALID_TOKEN);
  const token = await svc.store.getImportToken(importTokenId(input.ImportToken));
  if (token === undefined || token.keyArn !== key.arn) throw new ServiceError('InvalidImportTokenException', INVALID_TOKEN);
  if (svc.clock.now() >= token.expiresAt) throw new ServiceError('ExpiredImportTokenException', EXPIRED_TOKEN);
  const algorithm = WRAPPING_ALGORITHMS[token.wrappingAlgorithm];
  if (algorithm === undefined) throw new Error(`import token with unknown wrapping algorithm ${token.wrappingAlgorithm}`);
  const privateKey = await svc.trust.unwrap(token.wrappedPrivateKey, importTokenAad(token));
  try {
    return unwrapKeyMaterial(algorithm, privateKey, input.EncryptedKeyMaterial);
  } catch (e) {
    if (e instanceof UnwrapError) throw new ServiceError('InvalidCiphertextException', UNWRAP_FAILED);
    throw e;
  } finally {
    privateKey.fill(0);
  }
}

/**
 * The writes that install `material` (id `materialId`) into `key` as it is now, each guarded on
 * the key's state and current version. Throws AWS's errors for material that does not fit.
 */
async function installWrites(
  key: KeyRecord,
  material: Buffer,
  materialId: string,
  input: ImportKeyMaterialInput,
  exp: { expirationModel: string; validTo: number | null },
  svc: Services<Deps>,
): Promise<KeyWrite[]> {
  const guard: readonly KeyState[] = [key.state];
  if (key.currentVersion === 0) {
    // Nothing was ever imported: this is the key's first material (ImportType defaults to NEW).
    if (input.ImportType === 'EXISTING_KEY_MATERIAL') {
      throw new ServiceError(
        'IncorrectKeyMaterialException',
        'No key material has been imported into this KMS key yet, so there is no existing key material to reimport.',
      );
    }
    if (input.KeyMaterialId !== undefined) {
      throw validation('You cannot specify a KeyMaterialId when importing new key material.');
    }
    const version = await svc.keyring.versionFor(key.arn, 1, 'IMPORT', material, materialId);
    // The guarded update goes first: a concurrent first import makes it fail before put-version.
    return [
      {
        kind: 'update-key',
        arn: key.arn,
        patch: { state: key.state === 'PendingImport' ? 'Enabled' : key.state, currentVersion: 1, ...exp },
        ifStates: guard,
        ifCurrentVersion: 0,
      },
      { kind: 'put-version', version },
    ];
  }

  const versions = await svc.store.listKeyVersions(key.arn);
  // Compare against every version (constant time each), so the loop's shape reveals nothing.
  let match: (typeof versions)[number] | undefined;
  for (const v of versions) if (sameId(v.materialId, materialId) && match === undefined) match = v;
  if (input.ImportType === 'NEW_KEY_MATERIAL') {
    if (match !== undefined) {
      throw new ServiceError(
        'IncorrectKeyMaterialException',
        'The key material in the request is already associated with this KMS key; new key material was expected.',
      );
    }
    // New material for on-demand rotation of an imported key (AWS: PENDING_ROTATION) is not built yet.
    throw new ServiceError(
      'UnsupportedOperationException',
      'Importing new key material into a KMS key that already has key material is not supported by this Keyhold server yet.',
    );
  }
  if (match === undefined) throw new ServiceError('IncorrectKeyMaterialException', DIFFERENT_MATERIAL);
  if (input.KeyMaterialId !== undefined && !sameId(input.KeyMaterialId, materialId)) {
    throw new ServiceError('IncorrectKeyMaterialException', DIFFERENT_MATERIAL);
  }
  const writes: KeyWrite[] = [];
  if (match.wrappedMaterial === null) {
    const restored = await svc.keyring.versionFor(key.arn, match.version, 'IMPORT', material, materialId);
    writes.push({ kind: 'set-material', arn: key.arn, version: match.version, wrappedMaterial: restored.wrappedMaterial });
  }
  const complete = versions.every((v) => v.version === match.version || v.wrappedMaterial !== null);
  const state: KeyState = key.state === 'PendingImport' && complete ? 'Enabled' : key.state;
  writes.push({ kind: 'update-key', arn: key.arn, patch: { state, ...exp }, ifStates: guard, ifCurrentVersion: key.currentVersion });
  return writes;
}

async function importMaterial(
  key: KeyRecord,
  input: ImportKeyMaterialInput,
  exp: { expirationModel: string; validTo: number | null },
  ctx: RequestContext,
  svc: Services<Deps>,
): Promise<{ KeyId: string; KeyMaterialId: string }> {
  assertExternalOrigin(key);
  assertKeyState(key, 'import-material');
  const unwrapped = await unwrapWithToken(key, input, svc);
  let material: Buffer;
  try {
    // Symmetric and HMAC material as given; RSA/ECC/Ed25519 as canonical PKCS#8 (src/keys/imported-material.ts).
    material = canonicalImportedMaterial(keySpecFacts(key.keySpec), unwrapped);
  } catch (e) {
    if (e instanceof ImportedMaterialError) throw new ServiceError('IncorrectKeyMaterialException', e.message);
    throw e;
  } finally {
    unwrapped.fill(0);
  }
  try {
    const materialId = keyMaterialId(key.keyId, material);
    let current = key;
    for (let attempt = 1; ; attempt++) {
      const writes = await installWrites(current, material, materialId, input, exp, svc);
      const applied = await svc.store.applyKeyWrites(writes);
      if (applied) return { KeyId: current.arn, KeyMaterialId: materialId };
      // Lost a race (expiry, deletion, another import): decide again on the key as it is now.
      if (attempt === MAX_ATTEMPTS) throw new Error(`lost ${MAX_ATTEMPTS} races importing material into ${current.arn} (${ctx.requestId})`);
      const fresh = await svc.store.getKey(current.arn);
      if (fresh === undefined) throw new ServiceError('NotFoundException', `Key '${current.arn}' does not exist`);
      assertKeyState(fresh, 'import-material');
      current = fresh;
    }
  } finally {
    material.fill(0);
  }
}

export const importKeyMaterial: Operation<ImportKeyMaterialInput, ImportKeyMaterialOutput, Deps> = {
  name: 'ImportKeyMaterial',
  output: KMS_OUTPUTS.ImportKeyMaterial,
  readOnly: false,
  input: KMS_INPUTS.ImportKeyMaterial,
  async invoke(input, ctx, svc) {
    const exp = expiration(input, svc.clock.now());
    const { key } = await svc.keyring.resolve(input.KeyId, 'key', ctx.caller, ctx.region, 'kms:ImportKeyMaterial');
    await authorizeKms(ctx, svc, {
      action: 'kms:ImportKeyMaterial',
      key,
      conditions: {
        'kms:ExpirationModel': exp.expirationModel,
        'kms:ValidTo': exp.validTo === null ? undefined : new Date(exp.validTo).toISOString(),
      },
    });
    assertCustomerManaged(key, 'kms:ImportKeyMaterial', ctx.caller);
    return importMaterial(key, input, exp, ctx, svc);
  },
};
