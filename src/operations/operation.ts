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
import type { StructureShape } from './shape';

/** Process-wide services an operation may use. */
export interface Services {
  readonly store: Store;
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

/** A wire output: JSON-ready values only (blobs already base64, dates epoch seconds). */
export type Output = Record<string, unknown> | undefined;

/** An API operation. */
export interface Operation<I = any> {
  /** Wire name, e.g. "Encrypt". */
  readonly name: string;
  readonly input: StructureShape;
  /** CloudTrail readOnly. */
  readonly readOnly: boolean;
  invoke(input: I, ctx: RequestContext, svc: Services): Promise<Output>;
}

/** Epoch milliseconds as the wire's epoch seconds. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}
