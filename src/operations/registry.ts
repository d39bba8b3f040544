/**
 * Every API operation Keyhold serves, by wire name. An explicit object literal (STYLE habit 1):
 * adding an operation is one import and one line. docs/operations.md is checked against it.
 */
import { cancelKeyDeletion } from './cancel-key-deletion';
import { createAlias } from './create-alias';
import { createGrant } from './create-grant';
import { createKey } from './create-key';
import { decapsulate } from './decapsulate';
import { decrypt } from './decrypt';
import { deleteAlias } from './delete-alias';
import { deleteImportedKeyMaterial } from './delete-imported-key-material';
import { deriveSharedSecret } from './derive-shared-secret';
import { describeKey } from './describe-key';
import { disableKey } from './disable-key';
import { disableKeyRotation } from './disable-key-rotation';
import { enableKey } from './enable-key';
import { enableKeyRotation } from './enable-key-rotation';
import { encapsulate } from './encapsulate';
import { encrypt } from './encrypt';
import { generateDataKey } from './generate-data-key';
import { generateDataKeyPair } from './generate-data-key-pair';
import { generateDataKeyPairWithoutPlaintext } from './generate-data-key-pair-without-plaintext';
import { generateDataKeyWithoutPlaintext } from './generate-data-key-without-plaintext';
import { generateMac } from './generate-mac';
import { generateRandom } from './generate-random';
import { getKeyPolicy } from './get-key-policy';
import { getPublicKey } from './get-public-key';
import { getParametersForImport } from './get-parameters-for-import';
import { getKeyRotationStatus } from './get-key-rotation-status';
import { importKeyMaterial } from './import-key-material';
import { listAliases } from './list-aliases';
import { listGrants } from './list-grants';
import { listKeyPolicies } from './list-key-policies';
import { listKeyRotations } from './list-key-rotations';
import { listKeys } from './list-keys';
import { listResourceTags } from './list-resource-tags';
import { listRetirableGrants } from './list-retirable-grants';
import type { Operation } from './operation';
import { putKeyPolicy } from './put-key-policy';
import { reEncrypt } from './re-encrypt';
import { replicateKey } from './replicate-key';
import { retireGrant } from './retire-grant';
import { revokeGrant } from './revoke-grant';
import { rotateKeyOnDemand } from './rotate-key-on-demand';
import { scheduleKeyDeletion } from './schedule-key-deletion';
import { sign } from './sign';
import { tagResource } from './tag-resource';
import { untagResource } from './untag-resource';
import { updateAlias } from './update-alias';
import { updateKeyDescription } from './update-key-description';
import { updatePrimaryRegion } from './update-primary-region';
import { verify } from './verify';
import { verifyMac } from './verify-mac';

/** KMS operations by their X-Amz-Target suffix. */
export const KMS_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  CancelKeyDeletion: cancelKeyDeletion,
  CreateAlias: createAlias,
  CreateGrant: createGrant,
  CreateKey: createKey,
  Decapsulate: decapsulate,
  Decrypt: decrypt,
  DeleteAlias: deleteAlias,
  DeleteImportedKeyMaterial: deleteImportedKeyMaterial,
  DeriveSharedSecret: deriveSharedSecret,
  DescribeKey: describeKey,
  DisableKey: disableKey,
  DisableKeyRotation: disableKeyRotation,
  EnableKey: enableKey,
  EnableKeyRotation: enableKeyRotation,
  Encapsulate: encapsulate,
  Encrypt: encrypt,
  GenerateDataKey: generateDataKey,
  GenerateDataKeyPair: generateDataKeyPair,
  GenerateDataKeyPairWithoutPlaintext: generateDataKeyPairWithoutPlaintext,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
  GenerateMac: generateMac,
  GenerateRandom: generateRandom,
  GetKeyPolicy: getKeyPolicy,
  GetKeyRotationStatus: getKeyRotationStatus,
  GetPublicKey: getPublicKey,
  GetParametersForImport: getParametersForImport,
  ImportKeyMaterial: importKeyMaterial,
  ListAliases: listAliases,
  ListGrants: listGrants,
  ListKeyPolicies: listKeyPolicies,
  ListKeyRotations: listKeyRotations,
  ListKeys: listKeys,
  ListResourceTags: listResourceTags,
  ListRetirableGrants: listRetirableGrants,
  PutKeyPolicy: putKeyPolicy,
  ReEncrypt: reEncrypt,
  ReplicateKey: replicateKey,
  RetireGrant: retireGrant,
  RevokeGrant: revokeGrant,
  RotateKeyOnDemand: rotateKeyOnDemand,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  Sign: sign,
  TagResource: tagResource,
  UntagResource: untagResource,
  UpdateAlias: updateAlias,
  UpdateKeyDescription: updateKeyDescription,
  UpdatePrimaryRegion: updatePrimaryRegion,
  Verify: verify,
  VerifyMac: verifyMac,
});
