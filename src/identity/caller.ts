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
}

/** Where a request came from. */
export interface RequestOrigin {
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly secureTransport: boolean;
}
