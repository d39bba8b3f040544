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
import type { KeyPatch, KeyRecord, KeyState, KeyVersionRecord } from '../store/store';
import { StalePreparation, transactionAfter } from '../store/transaction';
import { assertExternalOrigin, importTokenAad, importTokenId, isImportTokenShape } from './get-parameters-for-import';
import type { Operation, Services } from './operation';
import type { ImportTokenRepository, KeyVersionRepository, TransactionRunner } from '../store/store';
import { authorizeKms } from './authorize';
import type { KmsAuthorizationStore } from './authorize';

import { KMS_OUTPUTS, type ImportKeyMaterialOutput } from '../model/kms-outputs';

/** The repositories this operation depends on (issue 13). */
type Deps = KmsAuthorizationStore & Pick<KeyVersionRepository, 'listKeyVersions'> & ImportTokenRepository & TransactionRunner;

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

/** What an import writes, decided on the locked key: its first version, or material restored into a version. */
type ImportPlan =
  | { readonly kind: 'first'; readonly patch: KeyPatch }
  | { readonly kind: 'reimport'; readonly version: number; readonly restore: boolean; readonly patch: KeyPatch };

/**
 * Decides how `material` (id `materialId`) goes into `key` as it is now, given its versions.
 * Pure: throws AWS's errors for material that does not fit.
 */
function planImport(
  key: KeyRecord,
  versions: readonly KeyVersionRecord[],
  materialId: string,
  input: ImportKeyMaterialInput,
  exp: { expirationModel: string; validTo: number | null },
): ImportPlan {
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
    return { kind: 'first', patch: { state: key.state === 'PendingImport' ? 'Enabled' : key.state, currentVersion: 1, ...exp } };
  }
  const match = matchingVersion(versions, materialId);
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
  const complete = versions.every((v) => v.version === match.version || v.wrappedMaterial !== null);
  const state: KeyState = key.state === 'PendingImport' && complete ? 'Enabled' : key.state;
  return { kind: 'reimport', version: match.version, restore: match.wrappedMaterial === null, patch: { state, ...exp } };
}

/** The version whose material id is `materialId`; every version is compared (constant time each), so the loop's shape reveals nothing. */
function matchingVersion(versions: readonly KeyVersionRecord[], materialId: string): KeyVersionRecord | undefined {
  let match: KeyVersionRecord | undefined;
  for (const v of versions) if (sameId(v.materialId, materialId) && match === undefined) match = v;
  return match;
}

async function importMaterial(
  key: KeyRecord,
  input: ImportKeyMaterialInput,
  exp: { expirationModel: string; validTo: number | null },
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
    // One transaction decides on the locked key (issue 13): its state, its versions, a concurrent
    // import or expiry. The material is wrapped before it, for every version it can land in:
    // version 1 (a first import) and the version already holding this material (a reimport).
    await transactionAfter(
      svc.store,
      async () => {
        const numbers = new Set([1]);
        const seen = matchingVersion(await svc.store.listKeyVersions(key.arn), materialId);
        if (seen !== undefined) numbers.add(seen.version);
        const wrapped = new Map<number, KeyVersionRecord>();
        for (const n of numbers) wrapped.set(n, await svc.keyring.versionFor(key.arn, n, 'IMPORT', material, materialId));
        return wrapped;
      },
      async (tx, wrapped) => {
        const current = await tx.keys.lock(key.arn);
        if (current === undefined) throw new ServiceError('NotFoundException', `Key '${key.arn}' does not exist`);
        assertKeyState(current, 'import-material');
        const plan = planImport(current, current.currentVersion === 0 ? [] : await tx.keys.listVersions(key.arn), materialId, input, exp);
        const number = plan.kind === 'first' ? 1 : plan.version;
        const version = wrapped.get(number);
        if (version === undefined) {
          if (plan.kind === 'first' || plan.restore) throw new StalePreparation(`version ${number} of ${key.arn} was not wrapped`);
        } else if (plan.kind === 'first') {
          await tx.keys.putVersion(version);
        } else if (plan.restore) {
          await tx.keys.setMaterial(key.arn, number, version.wrappedMaterial);
        }
        await tx.keys.update(key.arn, plan.patch);
      },
    );
    return { KeyId: key.arn, KeyMaterialId: materialId };
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
    return importMaterial(key, input, exp, svc);
  },
};
