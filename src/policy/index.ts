/**
 * The policy layer's public surface: the IAM policy language (parse, validate, compile,
 * evaluate) and AWS's cross-policy decision, as pure functions. Explicit exports only.
 */
export { CONDITION_OPERATORS, parseDate, parseNumber, parseOperatorName } from './conditions';
export { cidrContains, parseCidrBlock, parseIp } from './ip';
export type { CidrBlock, IpAddress } from './ip';
export type { ConditionEntry, ConditionOperator, ConditionType, ParsedOperator, SetQualifier } from './conditions';
export { parsePolicy, parsePolicyObject } from './document';
export type { ParsePolicyOptions, PolicyDocument, PolicyKind, PolicyStatement, PolicyVersion, PrincipalSpec } from './document';
export { CompiledPolicy, compilePolicy, evaluatePolicy } from './evaluate';
export type { PolicyEvaluation, PrincipalMatch, RequestContextForPolicy, RequestPrincipal } from './evaluate';
export { accessDeniedMessage, authorize, decide } from './decide';
export type { Decision, DecisionInput, DenyReason, PolicySet } from './decide';
export { replacePrincipal } from './principal-rewrite';
export { MAX_KEY_POLICY_BYTES, compileKeyPolicy, defaultKeyPolicy, parseKeyPolicy, validateKeyPolicy } from './key-policy';
