/**
 * Every API operation Keyhold serves, by wire name. An explicit object literal (STYLE habit 1):
 * adding an operation is one import and one line. docs/operations.md is checked against it.
 */
import { cancelKeyDeletion } from './cancel-key-deletion';
import { createAlias } from './create-alias';
import { createKey } from './create-key';
import { decrypt } from './decrypt';
import { deleteAlias } from './delete-alias';
import { describeKey } from './describe-key';
import { disableKey } from './disable-key';
import { enableKey } from './enable-key';
import { encrypt } from './encrypt';
import { generateDataKey } from './generate-data-key';
import { generateDataKeyWithoutPlaintext } from './generate-data-key-without-plaintext';
import { generateRandom } from './generate-random';
import { getKeyPolicy } from './get-key-policy';
import { listAliases } from './list-aliases';
import { listKeyPolicies } from './list-key-policies';
import { listKeys } from './list-keys';
import { listResourceTags } from './list-resource-tags';
import type { Operation } from './operation';
import { putKeyPolicy } from './put-key-policy';
import { reEncrypt } from './re-encrypt';
import { scheduleKeyDeletion } from './schedule-key-deletion';
import { tagResource } from './tag-resource';
import { untagResource } from './untag-resource';
import { updateAlias } from './update-alias';
import { updateKeyDescription } from './update-key-description';

/** KMS operations by their X-Amz-Target suffix. */
export const KMS_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  CancelKeyDeletion: cancelKeyDeletion,
  CreateAlias: createAlias,
  CreateKey: createKey,
  Decrypt: decrypt,
  DeleteAlias: deleteAlias,
  DescribeKey: describeKey,
  DisableKey: disableKey,
  EnableKey: enableKey,
  Encrypt: encrypt,
  GenerateDataKey: generateDataKey,
  GenerateDataKeyWithoutPlaintext: generateDataKeyWithoutPlaintext,
  GenerateRandom: generateRandom,
  GetKeyPolicy: getKeyPolicy,
  ListAliases: listAliases,
  ListKeyPolicies: listKeyPolicies,
  ListKeys: listKeys,
  ListResourceTags: listResourceTags,
  PutKeyPolicy: putKeyPolicy,
  ReEncrypt: reEncrypt,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  TagResource: tagResource,
  UntagResource: untagResource,
  UpdateAlias: updateAlias,
  UpdateKeyDescription: updateKeyDescription,
});
