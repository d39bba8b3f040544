/**
 * Service errors: every error a client can see, with its wire `__type` and HTTP status, in one
 * table. Code anywhere throws `ServiceError`; only the protocol layer serialises it
 * (see src/protocol/error-writer.ts).
 *
 * Status: real AWS KMS answers every modeled client error with HTTP 400 over awsJson1_1
 * (kms-reference.md §4 "Settled"); 5xx is kept for retryable server faults only.
 */

/** Wire `__type` -> HTTP status. Adding an error is one line. */
export const ERROR_STATUS = Object.freeze({
  // Modeled KMS errors (kms-reference.md §4)
  AlreadyExistsException: 400,
  ConflictException: 400,
  CustomKeyStoreNotFoundException: 400,
  DependencyTimeoutException: 503,
  DisabledException: 400,
  DryRunOperationException: 400,
  ExpiredImportTokenException: 400,
  IncorrectKeyException: 400,
  IncorrectKeyMaterialException: 400,
  InvalidAliasNameException: 400,
  InvalidArnException: 400,
  InvalidCiphertextException: 400,
  InvalidGrantIdException: 400,
  InvalidGrantTokenException: 400,
  InvalidImportTokenException: 400,
  InvalidKeyUsageException: 400,
  InvalidMarkerException: 400,
  KMSInternalException: 500,
  KMSInvalidMacException: 400,
  KMSInvalidSignatureException: 400,
  KMSInvalidStateException: 400,
  KeyUnavailableException: 500,
  LimitExceededException: 400,
  MalformedPolicyDocumentException: 400,
  NotFoundException: 400,
  TagException: 400,
  UnsupportedOperationException: 400,
  // Not in the KMS model, but what AWS KMS answers for the reserved alias/aws/ prefix (issue 8).
  NotAuthorizedException: 400,
  // Common (unmodeled) errors (kms-reference.md §1)
  AccessDeniedException: 400,
  ValidationException: 400,
  SerializationException: 400,
  UnknownOperationException: 400,
  ThrottlingException: 400,
  InvalidSignatureException: 400,
  IncompleteSignatureException: 400,
  MissingAuthenticationTokenException: 400,
  UnrecognizedClientException: 400,
  ExpiredTokenException: 400,
  RequestEntityTooLargeException: 413,
  /** The client disconnected mid-body or was timed out (issue 11): recorded and counted as a client abort. */
  RequestTimeoutException: 408,
  MethodNotAllowedException: 405,
  ServiceUnavailableException: 503,
  // Server faults as the services other than KMS spell them (see `forService`): AWS's common
  // errors (InternalFailure, ServiceUnavailable) and Organizations' modelled ServiceException.
  InternalFailure: 500,
  ServiceUnavailable: 503,
  ServiceException: 500,
  // IAM and STS (AWS Query protocol): the wire Code and status come from QUERY_ERRORS below.
  NoSuchEntityException: 404,
  EntityAlreadyExistsException: 409,
  DeleteConflictException: 409,
  InvalidInputException: 400,
  PackedPolicyTooLargeException: 400,
  // Organizations (awsJson1_1)
  AWSOrganizationsNotInUseException: 400,
  AlreadyInOrganizationException: 400,
  ConstraintViolationException: 400,
  DuplicatePolicyException: 400,
  DuplicatePolicyAttachmentException: 400,
  PolicyNotFoundException: 400,
  PolicyNotAttachedException: 400,
  PolicyTypeNotEnabledException: 400,
  PolicyTypeAlreadyEnabledException: 400,
  TargetNotFoundException: 400,
  CreateAccountStatusNotFoundException: 400,
  // CloudTrail LookupEvents (awsJson1_1; CloudTrail API Reference, LookupEvents "Errors": all HTTP 400)
  InvalidLookupAttributesException: 400,
  InvalidTimeRangeException: 400,
  InvalidMaxResultsException: 400,
  InvalidNextTokenException: 400,
  InvalidEventCategoryException: 400,
} as const);

/** The wire name of an error. */
export type ErrorName = keyof typeof ERROR_STATUS;

/**
 * How an error is spelled over the AWS Query protocol (IAM, STS): the `<Code>` and HTTP status.
 * IAM's model names its errors like the JSON services (NoSuchEntityException) but sends a short
 * code (NoSuchEntity) and its own status (botocore iam/sts service-2.json `error` traits); the
 * common errors use AWS's Query spellings (InvalidClientTokenId, SignatureDoesNotMatch, …).
 * A name missing here is sent with its own name and ERROR_STATUS.
 */
export const QUERY_ERRORS: Readonly<Partial<Record<ErrorName, { readonly code: string; readonly status: number }>>> = Object.freeze({
  NoSuchEntityException: { code: 'NoSuchEntity', status: 404 },
  EntityAlreadyExistsException: { code: 'EntityAlreadyExists', status: 409 },
  DeleteConflictException: { code: 'DeleteConflict', status: 409 },
  InvalidInputException: { code: 'InvalidInput', status: 400 },
  PackedPolicyTooLargeException: { code: 'PackedPolicyTooLarge', status: 400 },
  LimitExceededException: { code: 'LimitExceeded', status: 409 },
  MalformedPolicyDocumentException: { code: 'MalformedPolicyDocument', status: 400 },
  AccessDeniedException: { code: 'AccessDenied', status: 403 },
  ValidationException: { code: 'ValidationError', status: 400 },
  SerializationException: { code: 'MalformedInput', status: 400 },
  UnknownOperationException: { code: 'InvalidAction', status: 400 },
  InvalidMarkerException: { code: 'ValidationError', status: 400 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 403 },
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  ExpiredTokenException: { code: 'ExpiredToken', status: 403 },
  ThrottlingException: { code: 'Throttling', status: 400 },
  KMSInternalException: { code: 'InternalFailure', status: 500 },
  ServiceUnavailableException: { code: 'ServiceUnavailable', status: 503 },
  RequestEntityTooLargeException: { code: 'RequestEntityTooLarge', status: 413 },
  RequestTimeoutException: { code: 'RequestTimeout', status: 408 },
  MethodNotAllowedException: { code: 'MethodNotAllowed', status: 405 },
});

/** An error whose name and message are safe to send to the client. */
export class ServiceError extends Error {
  override readonly name: ErrorName;
  readonly status: number;

  constructor(name: ErrorName, message: string) {
    super(message);
    this.name = name;
    this.status = ERROR_STATUS[name];
  }
}

/** The constant message sent for every unexpected failure; the cause goes to the log only. */
export const INTERNAL_MESSAGE = 'An internal error occurred. The request can be retried.';

/** AWS's message for DependencyTimeoutException (KMS API Reference, Common Errors). */
export const DEPENDENCY_TIMEOUT_MESSAGE = 'The system timed out while trying to fulfill the request. You can retry the request.';

/**
 * Wraps any thrown value as a ServiceError; unknown errors become KMSInternalException. A store
 * that could not reach its database in time (an error with `dependencyUnavailable: true`, e.g.
 * src/store/postgres/connection.ts DatabaseUnavailableError) is 503 DependencyTimeoutException,
 * which the AWS SDKs retry (issue 14).
 */
export function toServiceError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  if ((err as { dependencyUnavailable?: unknown } | null)?.dependencyUnavailable === true) {
    return new ServiceError('DependencyTimeoutException', DEPENDENCY_TIMEOUT_MESSAGE);
  }
  return new ServiceError('KMSInternalException', INTERNAL_MESSAGE);
}

/**
 * KMS's server faults as another service answers them: KMSInternalException and
 * DependencyTimeoutException are KMS's own names (its model), which an Organizations,
 * CloudTrail, IAM or STS client would not expect. Organizations models ServiceException (HTTP
 * 500) for an internal fault; the others model none and all share AWS's common errors,
 * InternalFailure (500) and ServiceUnavailable (503), which the SDKs retry like KMS's. The
 * message is kept. The audit record of the request names the same error.
 */
const COMMON_FAULTS = Object.freeze({ KMSInternalException: 'InternalFailure', DependencyTimeoutException: 'ServiceUnavailable' } as const);
const SERVER_FAULTS: Readonly<Record<string, Readonly<Partial<Record<ErrorName, ErrorName>>>>> = Object.freeze({
  organizations: { ...COMMON_FAULTS, KMSInternalException: 'ServiceException' },
  cloudtrail: COMMON_FAULTS,
  iam: COMMON_FAULTS,
  sts: COMMON_FAULTS,
});

/** `err` as the service whose signing name is `signingName` spells it (unchanged for KMS and client errors). */
export function forService(err: ServiceError, signingName: string): ServiceError {
  const name = SERVER_FAULTS[signingName]?.[err.name];
  return name === undefined ? err : new ServiceError(name, err.message);
}
