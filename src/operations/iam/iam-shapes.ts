/**
 * IAM member shapes, from the IAM service model (botocore iam/2010-05-08 service-2.json):
 * lengths, patterns (anchored: the model's Java patterns must match the whole value) and ranges.
 */
import { structure, type IntegerShape, type ListShape, type StringShape } from '../shape';

const NAME = /^[\w+=,.@-]+$/;

/** IAM shapes by the model's names. */
export const IAM = Object.freeze({
  userName: (required = true): StringShape => ({ type: 'string', min: 1, max: 64, pattern: NAME, required }),
  existingUserName: (required = true): StringShape => ({ type: 'string', min: 1, max: 128, pattern: NAME, required }),
  groupName: (): StringShape => ({ type: 'string', min: 1, max: 128, pattern: NAME, required: true }),
  roleName: (): StringShape => ({ type: 'string', min: 1, max: 64, pattern: NAME, required: true }),
  path: (): StringShape => ({ type: 'string', min: 1, max: 512, pattern: /^(?:\/|\/[\u0021-\u007F]+\/)$/ }),
  pathPrefix: (): StringShape => ({ type: 'string', min: 1, max: 512, pattern: /^\/[\u0021-\u007F]*$/ }),
  policyPath: (): StringShape => ({ type: 'string', min: 1, max: 512, pattern: /^(?:\/[A-Za-z0-9.,+@=_-]+)*\/$/ }),
  marker: (): StringShape => ({ type: 'string', min: 1, max: 320, pattern: /^[\u0020-\u00FF]+$/ }),
  maxItems: (): IntegerShape => ({ type: 'integer', min: 1, max: 1000 }),
  policyName: (): StringShape => ({ type: 'string', min: 1, max: 128, pattern: NAME, required: true }),
  policyDocument: (): StringShape => ({ type: 'string', min: 1, max: 131_072, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/, required: true }),
  arn: (required = true): StringShape => ({ type: 'string', min: 20, max: 2048, required }),
  accessKeyId: (): StringShape => ({ type: 'string', min: 16, max: 128, pattern: /^\w+$/, required: true }),
  status: (): StringShape => ({ type: 'string', enum: ['Active', 'Inactive'], required: true }),
  roleDescription: (): StringShape => ({ type: 'string', max: 1000, pattern: /^[\p{L}\p{M}\p{Z}\p{S}\p{N}\p{P}]*$/u }),
  maxSessionDuration: (): IntegerShape => ({ type: 'integer', min: 3600, max: 43_200 }),
  policyDescription: (): StringShape => ({ type: 'string', max: 1000 }),
  tags: (required = false): ListShape => ({
    type: 'list',
    max: 50,
    required,
    member: structure({
      Key: { type: 'string', min: 1, max: 128, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, required: true },
      Value: { type: 'string', min: 0, max: 256, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, required: true },
    }),
  }),
});
