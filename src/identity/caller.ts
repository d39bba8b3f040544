/**
 * The authenticated caller of a request, as the SigV4 verifier and credential store resolve it.
 */

/** Who made a request and from where (CloudTrail userIdentity and policy context come from it). */
export interface Caller {
  readonly accountId: string;
  /** e.g. arn:aws:iam::111122223333:root or arn:aws:iam::111122223333:user/alice */
  readonly principalArn: string;
  /** aws:userid: the account id for root, the unique id for users */
  readonly principalId: string;
  readonly principalType: 'Root' | 'IAMUser' | 'AssumedRole';
  readonly userName: string | null;
  readonly accessKeyId: string;
  /**
   * For an IAM user: its unique id (AIDA…), the same as principalId. For a role session: the
   * role's unique id (AROA…). Absent for the account root.
   */
  readonly uniqueId?: string;
  /** Present for temporary credentials from STS AssumeRole (principalType 'AssumedRole'). */
  readonly session?: SessionContext;
}

/** The role a session was issued for (CloudTrail userIdentity.sessionContext.sessionIssuer). */
export interface SessionIssuer {
  readonly type: 'Role';
  /** The role's unique id, AROA… */
  readonly principalId: string;
  /** The role's ARN, with its path (aws:PrincipalArn of the session). */
  readonly arn: string;
  readonly accountId: string;
  /** The role's name. */
  readonly userName: string;
}

/** What an STS session carries for policy evaluation and CloudTrail. */
export interface SessionContext {
  readonly issuer: SessionIssuer;
  readonly sessionName: string;
  /** Epoch ms (aws:TokenIssueTime). */
  readonly creationDate: number;
  /** Epoch ms. */
  readonly expiration: number;
  /** Session tags (AssumeRole Tags plus transitive tags inherited by role chaining); override role tags. */
  readonly sessionTags: Readonly<Record<string, string>>;
  readonly transitiveTagKeys: readonly string[];
  /** The inline session policy (AssumeRole Policy), if any. */
  readonly sessionPolicy: string | null;
  /** Managed session policies (AssumeRole PolicyArns). */
  readonly policyArns: readonly string[];
  /** aws:SourceIdentity */
  readonly sourceIdentity: string | null;
  readonly mfaAuthenticated: false;
}

/** Where a request came from. */
export interface RequestOrigin {
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly secureTransport: boolean;
}
