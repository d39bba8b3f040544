/**
 * Authorization of the identity APIs themselves (IAM, STS, Organizations): the caller's
 * identity-based policies, session policies and SCPs decide, through src/policy's `authorize`
 * (IAM User Guide, reference_policies_evaluation-logic). An account root has no identity
 * policies and keeps full power within its account, bounded only by SCPs when its account is a
 * member of an organization. AssumeRole adds the role's trust policy as the resource-based
 * policy (see src/operations/sts/assume-role.ts).
 */
import type { Clock } from '../clock';
import { ServiceError } from '../errors';
import { accessDeniedMessage, authorize, type CompiledPolicy, type Decision } from '../policy';
import type { IdentityStoreDeps } from './identity-policies';
import type { Caller, RequestOrigin } from './caller';
import { compiledPolicySet, identityResolver, principalConditionKeys, requestPrincipal } from './identity-policies';

/** Where a call came from and when. */
export interface CallContext {
  readonly store: IdentityStoreDeps;
  readonly clock: Clock;
  readonly caller: Caller;
  readonly origin?: RequestOrigin;
  readonly region?: string;
}

/** Extra inputs for one decision. */
export interface CallPolicyOptions {
  /** A resource-based policy (a role's trust policy). */
  readonly resourcePolicy?: CompiledPolicy;
  /** The account owning the resource; by default the ARN's. */
  readonly resourceAccountId?: string;
  /** Request-specific condition keys (lowercase names), e.g. sts:rolesessionname, aws:requesttag/… */
  readonly conditions?: ReadonlyMap<string, string | readonly string[]>;
  /** The action has no resource types (policies grant it on "*"): the denial names no resource. */
  readonly noResourceType?: boolean;
}

/** Decides whether the caller may perform `action` on `resource`. */
export async function decideCall(ctx: CallContext, action: string, resource: string, options: CallPolicyOptions = {}): Promise<Decision> {
  const identity = await identityResolver(ctx.store).resolve(ctx.caller);
  const conditions = principalConditionKeys(ctx.caller, identity, ctx.origin, ctx.region, ctx.clock);
  for (const [k, v] of options.conditions ?? []) conditions.set(k, v);
  return authorize(
    { action, resource, principal: requestPrincipal(ctx.caller), conditions },
    {
      ...compiledPolicySet(identity),
      ...(options.resourcePolicy === undefined ? {} : { resourcePolicy: options.resourcePolicy }),
      ...(options.resourceAccountId === undefined ? {} : { resourceAccountId: options.resourceAccountId }),
    },
  );
}

/** Throws AccessDeniedException (AWS's message) unless the caller may perform `action` on `resource`. */
export async function authorizeCall(ctx: CallContext, action: string, resource: string, options: CallPolicyOptions = {}): Promise<void> {
  const d = await decideCall(ctx, action, resource, options);
  if (!d.allowed && d.reason !== 'allowed') {
    const named = options.noResourceType === true ? undefined : resource;
    throw new ServiceError('AccessDeniedException', accessDeniedMessage(ctx.caller.principalArn, action, named, d.reason));
  }
}
