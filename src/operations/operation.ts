/**
 * What an API operation is: a name, an input shape, and a function of validated input. An
 * operation never sees HTTP (docs/architecture.md §2); the protocol layer decodes, validates and serialises.
 */
import type { AuditNotes } from '../audit/notes';
import type { Clock } from '../clock';
import type { Caller, RequestOrigin } from '../identity/caller';
import type { KeyBackend } from '../keys/key-backend';
import type { Keyring } from '../keys/keyring';
import type { Store } from '../store/store';
import type { RootOfTrust } from '../trust/root-of-trust';
import type { StructureShape, ViolationTable } from './shape';

/**
 * Process-wide services an operation may use. `S` is the part of the Store port it reads and
 * writes — the narrow repositories of src/store/store.ts (issue 13) — so an operation's type shows
 * which data it touches; the server passes the whole `Store`.
 */
export interface Services<S = Store> {
  readonly store: S;
  readonly keyring: Keyring;
  /** Runs every cryptographic operation on a key version (docs/architecture.md §4). */
  readonly backend: KeyBackend;
  readonly trust: RootOfTrust;
  readonly clock: Clock;
  /** Every Region this deployment serves (ReplicateKey's targets); absent = only the request's Region. */
  readonly regions?: readonly string[];
}

/** One request's context. */
export interface RequestContext {
  readonly caller: Caller;
  readonly origin: RequestOrigin;
  readonly region: string;
  readonly requestId: string;
  /** The request's audit slot: key-resolving helpers note the keys they resolve (issue 4). */
  readonly audit?: AuditNotes;
}

/**
 * An operation's result as typed values (blobs as Buffer, timestamps as epoch milliseconds or a
 * Date), encoded by the protocol layer by the operation's output shape (issue 8). Sensitive blob
 * members (Plaintext, PrivateKeyPlaintext, ...) are handed over: the encoder zeroes them once
 * written, so an operation must not return a buffer it keeps.
 */
export type Output = object | undefined;

/**
 * An API operation. `O` is its generated output type (src/model/<service>-outputs.ts); `S` the
 * repositories it depends on (its deps type, see `Services`).
 */
export interface Operation<I = any, O extends Output = Output, S = Store> {
  /** Wire name, e.g. "Encrypt". */
  readonly name: string;
  readonly input: StructureShape;
  /** Input violations this operation answers with its own exception (src/operations/shape.ts, ViolationTable). */
  readonly inputViolations?: ViolationTable;
  /** The generated output shape the protocol layer encodes the result by (src/model/<service>-outputs.ts). */
  readonly output: StructureShape;
  /** CloudTrail readOnly. */
  readonly readOnly: boolean;
  invoke(input: I, ctx: RequestContext, svc: Services<S>): Promise<O>;
}
