/**
 * STS AssumeRole (STS API Reference, AssumeRole; IAM User Guide, id_roles_use and
 * id_session-tags). Issues temporary credentials for a role when
 *  - the caller is not an account root ("Roles may not be assumed by root accounts"),
 *  - the role's trust policy and the caller's identity policies allow sts:AssumeRole as AWS
 *    evaluates them (src/policy `authorize`: within one account a trust policy naming the
 *    caller suffices; naming only the account, or a role in another account, needs an identity
 *    policy too; SCPs and the caller's own session policies bound it), and sts:TagSession /
 *    sts:SetSourceIdentity when Tags / SourceIdentity are passed,
 *  - DurationSeconds (900-43200, default 3600) is within the role's MaxSessionDuration, and
 *    within one hour when a role session assumes a role (role chaining).
 * Session policies (Policy, PolicyArns) bound the session; session tags override the role's
 * tags as aws:PrincipalTag; transitive tags and the source identity pass to chained sessions.
 */
import { ServiceError } from '../../errors';
import { assumedRoleArn, parseRoleArn } from '../../identity/arns';
import { AWS_MANAGED_POLICIES } from '../../identity/aws-managed-policies';
import { decideCall, type CallContext } from '../../identity/authorize-call';
import { newSecretAccessKey } from '../../identity/credentials';
import { newTemporaryAccessKeyId } from '../../identity/ids';
import { compileTrustPolicy, validateIdentityPolicy } from '../../identity/policy-documents';
import { newSessionToken, wrapSessionCredentials } from '../../identity/sessions';
import { accessDeniedMessage } from '../../policy';
import type { IamTag, StsSessionRecord } from '../../store/store';
import type { Operation, RequestContext, Services } from '../operation';
import { STS_OUTPUTS, type AssumeRoleOutput } from '../../model/sts-outputs';
import { STS_INPUTS } from '../../model/sts-inputs';
import type { IdentityStoreDeps } from '../../identity/identity-policies';

interface Input {
  readonly RoleArn: string;
  readonly RoleSessionName: string;
  readonly PolicyArns?: { arn?: string }[];
  readonly Policy?: string;
  readonly DurationSeconds?: number;
  readonly Tags?: IamTag[];
  readonly TransitiveTagKeys?: string[];
  readonly ExternalId?: string;
  readonly SerialNumber?: string;
  readonly TokenCode?: string;
  readonly SourceIdentity?: string;
}

const DEFAULT_DURATION = 3600;
const CHAINED_MAX_DURATION = 3600;
/** The packed-size allotment of session policies and tags (AWS reports PackedPolicySize as a percentage). */
const PACKED_ALLOTMENT = 2048;
/** Expired sessions are kept a day (so their tokens say ExpiredToken), then pruned. */
const KEEP_EXPIRED_MS = 24 * 3600_000;

function validation(message: string): ServiceError {
  return new ServiceError('ValidationException', message);
}

/** Checks the session tags and merges in the caller's transitive tags (role chaining). */
function sessionTags(input: Input, ctx: RequestContext): { tags: IamTag[]; transitive: string[] } {
  const tags = [...(input.Tags ?? [])];
  const seen = new Map<string, string>();
  for (const t of tags) {
    const k = t.Key.toLowerCase();
    if (k.startsWith('aws:')) throw validation("Tag keys starting with 'aws:' are reserved for AWS use.");
    // The operator's namespace (keyhold:ViaService) cannot be claimed by a session either (issue 12 item 2).
    if (k.startsWith('keyhold:')) throw validation("Tag keys starting with 'keyhold:' are reserved for the Keyhold operator.");
    if (seen.has(k)) throw validation('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.set(k, t.Key);
  }
  const transitive = [...(input.TransitiveTagKeys ?? [])];
  for (const k of transitive) {
    if (!seen.has(k.toLowerCase())) throw validation('The transitive tag keys must be a subset of the session tag keys.');
  }
  const parent = ctx.caller.session;
  if (parent !== undefined) {
    for (const key of parent.transitiveTagKeys) {
      const value = parent.sessionTags[key];
      if (value === undefined) continue;
      if (seen.has(key.toLowerCase())) throw validation(`The transitive session tag ${key} cannot be overridden by a chained session.`);
      tags.push({ Key: key, Value: value });
      transitive.push(key);
      seen.set(key.toLowerCase(), key);
    }
  }
  return { tags, transitive };
}

/** Validates Policy and PolicyArns; returns the packed size as a percentage of the allotment. */
async function sessionPolicies(input: Input, svc: Services<IdentityStoreDeps>, roleAccountId: string, tags: readonly IamTag[]): Promise<{ arns: string[]; packed: number }> {
  if (input.Policy !== undefined) validateIdentityPolicy(input.Policy, 'session');
  const arns: string[] = [];
  for (const d of input.PolicyArns ?? []) {
    const arn = d.arn;
    if (arn === undefined) throw validation("1 validation error detected: Value null at 'policyArns.member.arn' failed to satisfy constraint: Member must not be null");
    const customer = await svc.store.identity.getManagedPolicy(arn);
    if (!AWS_MANAGED_POLICIES.has(arn) && (customer === undefined || customer.accountId !== roleAccountId)) {
      throw new ServiceError('MalformedPolicyDocumentException', `Policy ${arn} does not exist or is not attachable.`);
    }
    arns.push(arn);
  }
  const policyChars = input.Policy === undefined ? 0 : JSON.stringify(JSON.parse(input.Policy)).length;
  const tagChars = tags.reduce((n, t) => n + t.Key.length + t.Value.length, 0);
  const packed = Math.ceil((100 * (policyChars + tagChars + 64 * arns.length)) / PACKED_ALLOTMENT);
  if (packed > 100) {
    throw new ServiceError('PackedPolicyTooLargeException', `Packed policy consumes ${packed}% of allotted space, please use smaller policy.`);
  }
  return { arns, packed };
}

export const assumeRole: Operation<Input, AssumeRoleOutput, IdentityStoreDeps> = {
  name: 'AssumeRole',
  output: STS_OUTPUTS.AssumeRole,
  input: STS_INPUTS.AssumeRole,
  readOnly: false,
  async invoke(input, ctx, svc) {
    const caller = ctx.caller;
    if (caller.principalType === 'Root') throw new ServiceError('AccessDeniedException', 'Roles may not be assumed by root accounts.');
    if ((input.PolicyArns ?? []).length > 10) throw validation('The number of policy ARNs must not exceed 10.');
    if (input.SerialNumber !== undefined || input.TokenCode !== undefined) {
      throw new ServiceError('AccessDeniedException', 'MultiFactorAuthentication failed with invalid MFA one time pass code.');
    }
    const denied = (action: string): ServiceError =>
      new ServiceError('AccessDeniedException', `User: ${caller.principalArn} is not authorized to perform: ${action} on resource: ${input.RoleArn}`);

    const parsed = parseRoleArn(input.RoleArn);
    if (parsed === undefined) throw validation(`1 validation error detected: Value '${input.RoleArn}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN`);
    // A role that does not exist is denied like one that does not trust the caller (no existence oracle).
    const role = await svc.store.identity.getIamEntity(parsed.accountId, 'role', parsed.name);
    if (role === undefined || role.path !== parsed.path || role.assumeRolePolicy === null) throw denied('sts:AssumeRole');

    const { tags, transitive } = sessionTags(input, ctx);
    const sourceIdentity = caller.session?.sourceIdentity ?? input.SourceIdentity ?? null;
    if (input.SourceIdentity !== undefined && sourceIdentity !== input.SourceIdentity) {
      throw new ServiceError('AccessDeniedException', 'The source identity of a role session cannot be changed.');
    }

    const conditions = new Map<string, string | readonly string[]>([['sts:rolesessionname', input.RoleSessionName]]);
    if (input.ExternalId !== undefined) conditions.set('sts:externalid', input.ExternalId);
    if (input.SourceIdentity !== undefined) conditions.set('sts:sourceidentity', input.SourceIdentity);
    if ((input.Tags ?? []).length > 0) {
      for (const t of input.Tags ?? []) conditions.set(`aws:requesttag/${t.Key.toLowerCase()}`, t.Value);
      conditions.set('aws:tagkeys', (input.Tags ?? []).map((t) => t.Key));
    }
    if (transitive.length > 0) conditions.set('sts:transitivetagkeys', transitive);
    // The role is the resource: its tags are aws:ResourceTag/* (and iam:ResourceTag/*).
    for (const t of await svc.store.identity.listIamTags(role.id)) {
      conditions.set(`aws:resourcetag/${t.Key.toLowerCase()}`, t.Value);
      conditions.set(`iam:resourcetag/${t.Key.toLowerCase()}`, t.Value);
    }

    const call: CallContext = { store: svc.store, clock: svc.clock, caller, origin: ctx.origin, region: ctx.region };
    const options = { resourcePolicy: compileTrustPolicy(role.assumeRolePolicy), resourceAccountId: role.accountId, conditions };
    const actions = ['sts:AssumeRole'];
    if ((input.Tags ?? []).length > 0) actions.push('sts:TagSession');
    if (input.SourceIdentity !== undefined && caller.session?.sourceIdentity == null) actions.push('sts:SetSourceIdentity');
    for (const action of actions) {
      const d = await decideCall(call, action, role.arn, options);
      if (!d.allowed && d.reason !== 'allowed') {
        throw new ServiceError('AccessDeniedException', accessDeniedMessage(caller.principalArn, action, input.RoleArn, d.reason));
      }
    }

    const duration = input.DurationSeconds ?? DEFAULT_DURATION;
    if (caller.session !== undefined && duration > CHAINED_MAX_DURATION) {
      throw validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    if (duration > (role.maxSessionDuration ?? DEFAULT_DURATION)) {
      throw validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    const { arns, packed } = await sessionPolicies(input, svc, role.accountId, tags);

    const now = svc.clock.now();
    const accessKeyId = newTemporaryAccessKeyId();
    const secret = newSecretAccessKey();
    const token = newSessionToken();
    const session: StsSessionRecord = {
      accessKeyId,
      accountId: role.accountId,
      roleId: role.id,
      roleArn: role.arn,
      roleName: role.name,
      sessionName: input.RoleSessionName,
      wrappedCredentials: await wrapSessionCredentials(svc.trust, accessKeyId, secret, token),
      createdAt: now,
      expiresAt: now + duration * 1000,
      sessionPolicy: input.Policy ?? null,
      policyArns: arns,
      sessionTags: tags,
      transitiveTagKeys: transitive,
      sourceIdentity,
      sourcePrincipalArn: caller.principalArn,
    };
    await svc.store.identity.putStsSession(session);
    await svc.store.identity.pruneStsSessions(now - KEEP_EXPIRED_MS);
    const sessionsBounded = input.Policy !== undefined || arns.length > 0 || tags.length > 0;
    return {
      Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: secret, SessionToken: token, Expiration: new Date(session.expiresAt) },
      AssumedRoleUser: { AssumedRoleId: `${role.id}:${input.RoleSessionName}`, Arn: assumedRoleArn(role.accountId, role.name, input.RoleSessionName) },
      ...(sessionsBounded ? { PackedPolicySize: packed } : {}),
      ...(sourceIdentity === null ? {} : { SourceIdentity: sourceIdentity }),
    };
  },
};
