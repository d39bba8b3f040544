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
  MethodNotAllowedException: 405,
  ServiceUnavailableException: 503,
} as const);

/** The wire name of an error. */
export type ErrorName = keyof typeof ERROR_STATUS;

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

/** Wraps any thrown value as a ServiceError; unknown errors become KMSInternalException. */
export function toServiceError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  return new ServiceError('KMSInternalException', INTERNAL_MESSAGE);
}
