/**
 * The STS operations Keyhold serves (AWS Query protocol, API version 2011-06-15), by Action.
 * An explicit object literal (STYLE habit 1); docs/identity.md is checked against it.
 */
import type { Operation } from '../operation';
import { assumeRole } from './assume-role';
import { getCallerIdentity } from './get-caller-identity';

/** STS operations by Action. */
export const STS_OPERATIONS: Readonly<Record<string, Operation>> = Object.freeze({
  AssumeRole: assumeRole,
  GetCallerIdentity: getCallerIdentity,
});

/** The STS Query service: signing name, version and XML namespace. */
export const STS_SERVICE = Object.freeze({
  signingName: 'sts',
  version: '2011-06-15',
  xmlNamespace: 'https://sts.amazonaws.com/doc/2011-06-15/',
  operations: STS_OPERATIONS,
});
