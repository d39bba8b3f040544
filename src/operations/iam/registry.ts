/**
 * The IAM operations Keyhold serves (AWS Query protocol, API version 2010-05-08), by Action.
 * An explicit object literal (STYLE habit 1); docs/identity.md is checked against it.
 */
import type { Operation } from '../operation';
import { addUserToGroup } from './add-user-to-group';
import { attachGroupPolicy } from './attach-group-policy';
import { attachRolePolicy } from './attach-role-policy';
import { attachUserPolicy } from './attach-user-policy';
import { createAccessKey } from './create-access-key';
import { createAccountAlias } from './create-account-alias';
import { createGroup } from './create-group';
import { createPolicy } from './create-policy';
import { createRole } from './create-role';
import { createUser } from './create-user';
import { deleteAccessKey } from './delete-access-key';
import { deleteAccountAlias } from './delete-account-alias';
import { deleteRole } from './delete-role';
import { deleteUser } from './delete-user';
import { deleteUserPolicy } from './delete-user-policy';
import { detachUserPolicy } from './detach-user-policy';
import { getRole } from './get-role';
import { getUser } from './get-user';
import { getUserPolicy } from './get-user-policy';
import { listAccessKeys } from './list-access-keys';
import { listAccountAliases } from './list-account-aliases';
import { listUsers } from './list-users';
import { putGroupPolicy } from './put-group-policy';
import { putRolePolicy } from './put-role-policy';
import { putUserPolicy } from './put-user-policy';
import { tagRole } from './tag-role';
import { tagUser } from './tag-user';
import { updateAccessKey } from './update-access-key';

/** IAM operations by Action. */
export const IAM_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  AddUserToGroup: addUserToGroup,
  AttachGroupPolicy: attachGroupPolicy,
  AttachRolePolicy: attachRolePolicy,
  AttachUserPolicy: attachUserPolicy,
  CreateAccessKey: createAccessKey,
  CreateAccountAlias: createAccountAlias,
  CreateGroup: createGroup,
  CreatePolicy: createPolicy,
  CreateRole: createRole,
  CreateUser: createUser,
  DeleteAccessKey: deleteAccessKey,
  DeleteAccountAlias: deleteAccountAlias,
  DeleteRole: deleteRole,
  DeleteUser: deleteUser,
  DeleteUserPolicy: deleteUserPolicy,
  DetachUserPolicy: detachUserPolicy,
  GetRole: getRole,
  GetUser: getUser,
  GetUserPolicy: getUserPolicy,
  ListAccessKeys: listAccessKeys,
  ListAccountAliases: listAccountAliases,
  ListUsers: listUsers,
  PutGroupPolicy: putGroupPolicy,
  PutRolePolicy: putRolePolicy,
  PutUserPolicy: putUserPolicy,
  TagRole: tagRole,
  TagUser: tagUser,
  UpdateAccessKey: updateAccessKey,
});

/** The IAM Query service: signing name, version and XML namespace. */
export const IAM_SERVICE = Object.freeze({
  signingName: 'iam',
  version: '2010-05-08',
  xmlNamespace: 'https://iam.amazonaws.com/doc/2010-05-08/',
  operations: IAM_OPERATIONS,
});
