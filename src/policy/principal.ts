/**
 * The Principal and NotPrincipal elements: which values are valid, and how a request's principal
 * matches them (reference_policies_elements_principal, reference_policies_elements_notprincipal).
 *
 * - `"*"` and `{"AWS": "*"}` name everyone.
 * - An account id `111122223333` and `arn:aws:iam::111122223333:root` name the account: in a
 *   KMS key policy that delegates to the account's IAM policies (kms-reference.md §9.2).
 * - User, role, assumed-role session and federated-user ARNs name that principal. A role ARN
 *   also matches every session of the role (the session's issuer).
 * - `{"Service": "…"}` names a service principal. `Federated` (identity providers) appears in
 *   role trust policies only and matches no KMS caller. `CanonicalUser` is S3's and matches none.
 * - A unique id (AIDA… user, AROA… role) is what a principal ARN becomes when its user or role
 *   is deleted (AWS rewrites policies so; src/identity/principal-ids.ts): it matches no caller,
 *   so a user or role created again under the same name is not named by it.
 * Wildcards inside an ARN are not principals; they are rejected at parse time.
 */

/** The caller, as the evaluator sees it. */
export interface RequestPrincipal {
  /** The caller's ARN: user, role session (`arn:aws:sts::A:assumed-role/R/S`), root or service. */
  readonly arn: string;
  readonly accountId: string;
  readonly type: 'Root' | 'IAMUser' | 'AssumedRole' | 'Role' | 'FederatedUser' | 'Service';
  /** For an assumed-role session: the role's ARN (`arn:aws:iam::A:role/path/R`). */
  readonly sessionIssuerArn?: string;
  /** For a service principal: its name, e.g. `ec2.amazonaws.com`. */
  readonly service?: string;
}

/** The principal values of one Principal or NotPrincipal element. */
export interface PrincipalSpec {
  /** `"*"` or `{"AWS": "*"}`. */
  readonly everyone: boolean;
  readonly aws: readonly string[];
  readonly service: readonly string[];
  readonly federated: readonly string[];
  readonly canonicalUser: readonly string[];
}

/**
 * How a statement's principal named the caller, strongest last:
 * `account` (delegates to the account's IAM policies), `role` (a session through its role's ARN:
 * still bounded by session policies), `direct` (the caller itself, or everyone).
 */
export type PrincipalMatch = 'none' | 'account' | 'role' | 'direct';

const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;
const IAM_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(?:user|role)\/[\w+=,.@/-]+$/;
const STS_ARN = /^arn:aws[a-z-]*:sts::\d{12}:(?:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+|federated-user\/[\w+=,.@-]+)$/;
/** An IAM user's or role's unique id (IAM User Guide, reference_identifiers "Unique identifiers"). */
export const UNIQUE_PRINCIPAL_ID = /^(?:AIDA|AROA)[A-Z0-9]{16,28}$/;
const SERVICE = /^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$|^[a-z0-9][a-z0-9.-]*$/;

/** Why an `AWS` principal value is invalid, or undefined when it is valid. */
export function checkAwsPrincipal(value: string): string | undefined {
  if (value === '*' || ACCOUNT_ID.test(value) || ROOT_ARN.test(value) || IAM_ARN.test(value) || STS_ARN.test(value) || UNIQUE_PRINCIPAL_ID.test(value)) {
    return undefined;
  }
  return 'must be "*", a 12-digit account ID, an account root ARN, or an IAM user, role, assumed-role or federated-user ARN (no wildcards)';
}

/** Why a `Service` principal value is invalid, or undefined when it is valid. */
export function checkServicePrincipal(value: string): string | undefined {
  return SERVICE.test(value) ? undefined : 'must be a service principal name such as "ec2.amazonaws.com"';
}

/** A Principal/NotPrincipal element compiled into lookup sets. */
export class CompiledPrincipal {
  readonly #everyone: boolean;
  readonly #accounts: ReadonlySet<string>;
  readonly #arns: ReadonlySet<string>;
  readonly #services: ReadonlySet<string>;

  constructor(spec: PrincipalSpec) {
    const accounts = new Set<string>();
    const arns = new Set<string>();
    let everyone = spec.everyone;
    for (const v of spec.aws) {
      if (v === '*') everyone = true;
      else if (ACCOUNT_ID.test(v)) accounts.add(v);
      else {
        const root = ROOT_ARN.exec(v);
        if (root !== null) accounts.add(root[1] as string);
        else arns.add(v);
      }
    }
    this.#everyone = everyone;
    this.#accounts = accounts;
    this.#arns = arns;
    this.#services = new Set(spec.service);
  }

  /** How this element names `p` (the Principal element). */
  match(p: RequestPrincipal): PrincipalMatch {
    if (this.#everyone) return 'direct';
    if (p.type === 'Service') return p.service !== undefined && this.#services.has(p.service) ? 'direct' : 'none';
    if (this.#arns.has(p.arn)) return 'direct';
    const accountNamed = this.#accounts.has(p.accountId);
    if (accountNamed && p.type === 'Root') return 'direct';
    if (p.sessionIssuerArn !== undefined && p.type === 'AssumedRole' && this.#arns.has(p.sessionIssuerArn)) return 'role';
    return accountNamed ? 'account' : 'none';
  }

  /**
   * Whether a NotPrincipal statement applies to `p`. AWS may evaluate a session as its account,
   * then its role, then the session, and a user as its account then the user, so a principal
   * escapes a Deny only when every link of that chain is named; an Allow applies only when no
   * link is named. Both readings err towards denying (reference_policies_elements_notprincipal).
   */
  notPrincipalApplies(p: RequestPrincipal, effect: 'Allow' | 'Deny'): boolean {
    if (this.#everyone) return false;
    let named: boolean[];
    if (p.type === 'Service') named = [p.service !== undefined && this.#services.has(p.service)];
    else if (p.type === 'Root') named = [this.#accounts.has(p.accountId) || this.#arns.has(p.arn)];
    else {
      named = [this.#accounts.has(p.accountId), this.#arns.has(p.arn)];
      if (p.type === 'AssumedRole' && p.sessionIssuerArn !== undefined) named.push(this.#arns.has(p.sessionIssuerArn));
    }
    return effect === 'Deny' ? !named.every(Boolean) : !named.some(Boolean);
  }
}
