/**
 * The root-of-trust port (docs/architecture.md §6): wraps and unwraps secrets (key material, access-key
 * secrets) under a domain key that the rest of Keyhold never sees. Implementations: `local`
 * (sealed key file) now; `pkcs11` (HSM) follows behind the same interface.
 */

/** Wraps secrets under the domain key. `aad` binds a wrapped blob to its owner (e.g. key ARN + version). */
export interface RootOfTrust {
  /** A short name for logs and health output, e.g. "local". */
  readonly kind: string;
  wrap(plaintext: Buffer, aad: Buffer): Promise<Buffer>;
  /** Throws when the blob was not made by this root of trust for this `aad`. */
  unwrap(wrapped: Buffer, aad: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}
