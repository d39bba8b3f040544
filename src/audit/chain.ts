/**
 * The hash chain and the signed digests of the audit trail (issue 4), after CloudTrail log file
 * integrity validation (CloudTrail User Guide, "Validating CloudTrail log file integrity" and
 * "CloudTrail digest file structure"): SHA-256 over the records, and periodic digests signed
 * with a private key, each naming the previous digest by its hash and its signature.
 *
 * Chain (one per stream: each writing process appends to its own): h_0 = SHA-256(
 * "keyhold/audit/v1/genesis" 0x00 trailId 0x00 stream); h_n = SHA-256(h_{n-1} || the UTF-8 bytes
 * of record n exactly as stored). Each stored record keeps h_{n-1} and h_n, so
 * a verifier can tell a record edited in place (its own link fails) from one moved, removed or
 * added (the links between neighbours fail). The position (seq) is deliberately outside the
 * hash: moving a record keeps its link intact, which is what lets `verify` say "reordered".
 *
 * Digest: JSON naming, for every stream, the range of records it covers (firstSeq..lastSeq) and
 * the chain values at both ends, and the previous digest (seq, SHA-256 of its JSON, its
 * signature). Signed with
 * Ed25519 (RFC 8032) over a CloudTrail-style signing string:
 *   digestEndTime \n trailId/digestSeq \n hex(SHA-256(digest JSON)) \n previous signature|null
 */
import { createHash, createPublicKey, hash as oneShotHash, sign, verify, type KeyObject } from 'node:crypto';

/** Digest format version. */
export const DIGEST_VERSION = 1;
/** The signature algorithm named in every digest. */
export const DIGEST_SIGNATURE_ALGORITHM = 'Ed25519';

/** The chain value before the first record of stream `stream` of a trail. */
export function genesisHash(trailId: string, stream: number): Buffer {
  return createHash('sha256').update(`keyhold/audit/v1/genesis\0${trailId}\0${stream}`, 'utf8').digest();
}

/** The chain value after appending `body` to a chain ending in `prev`. */
export function chainLink(prev: Buffer, body: string): Buffer {
  return oneShotHash('sha256', Buffer.concat([prev, Buffer.from(body, 'utf8')]), 'buffer') as unknown as Buffer;
}

/** Why a digest was written. */
export type DigestReason = 'start' | 'interval' | 'shutdown' | 'prune';

/** What a digest says about one stream. */
export interface DigestStream {
  readonly stream: number;
  /** Records covered: firstSeq..lastSeq (firstSeq = lastSeq + 1 when none are new). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Chain value before firstSeq and after lastSeq (hex). */
  readonly startHash: string;
  readonly endHash: string;
  /** Retention: records through this seq were removed on purpose. */
  readonly prunedThroughSeq: number;
}

/** The signed content of a digest. */
export interface Digest {
  readonly digestVersion: number;
  readonly trailId: string;
  readonly digestSeq: number;
  readonly reason: DigestReason;
  /** End time of the previous digest (null for the first). */
  readonly digestStartTime: string | null;
  readonly digestEndTime: string;
  readonly digestPublicKeyFingerprint: string;
  readonly digestSignatureAlgorithm: string;
  /** Every stream of the trail, by stream number. */
  readonly streams: readonly DigestStream[];
  readonly previousDigestSeq: number | null;
  readonly previousDigestHashValue: string | null;
  readonly previousDigestHashAlgorithm: 'SHA-256';
  readonly previousDigestSignature: string | null;
  /** Retention: digests through this one were removed on purpose. */
  readonly prunedThroughDigest: number;
}

/** SHA-256 hex of a string's UTF-8 bytes. */
export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Fingerprint of a public key: SHA-256 of its SubjectPublicKeyInfo DER, hex. */
export function publicKeyFingerprint(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return sha256Hex(key.export({ format: 'der', type: 'spki' }));
}

/** The CloudTrail-style string a digest's signature covers. */
export function digestSigningString(d: Pick<Digest, 'digestEndTime' | 'trailId' | 'digestSeq' | 'previousDigestSignature'>, body: string): string {
  return `${d.digestEndTime}\n${d.trailId}/${d.digestSeq}\n${sha256Hex(body)}\n${d.previousDigestSignature ?? 'null'}`;
}

/** Serialises and signs a digest; returns the stored JSON and the hex signature. */
export function signDigest(d: Digest, privateKey: KeyObject): { body: string; signature: string } {
  const body = JSON.stringify(d);
  const signature = sign(null, Buffer.from(digestSigningString(d, body), 'utf8'), privateKey).toString('hex');
  return { body, signature };
}

/** Whether `signature` is a valid signature of the digest `body` under `publicKey`. */
export function digestSignatureValid(body: string, signature: string, publicKey: KeyObject): boolean {
  let d: Digest;
  try {
    d = JSON.parse(body) as Digest;
  } catch {
    return false;
  }
  if (!/^[0-9a-f]{128}$/.test(signature)) return false;
  try {
    return verify(null, Buffer.from(digestSigningString(d, body), 'utf8'), publicKey, Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}

/** Inputs of the next digest besides the stream heads and the previous digest. */
export interface NextDigest {
  readonly trailId: string;
  readonly reason: DigestReason;
  readonly now: number;
  readonly fingerprint: string;
  /** Retention cut to declare (a prune digest), per stream; otherwise the previous digest's is kept. */
  readonly prune?: { readonly throughDigest: number; readonly throughSeq: ReadonlyMap<number, number> };
}

/**
 * The digest after `last` covering every stream up to its head in `heads`. A stream the
 * previous digest did not name starts at its genesis.
 */
export function nextDigest(
  heads: ReadonlyMap<number, { seq: number; hash: Buffer }>,
  last: { seq: number; body: string; signature: string } | undefined,
  next: NextDigest,
): Digest {
  const prev = last === undefined ? undefined : (JSON.parse(last.body) as Digest);
  const before = new Map((prev?.streams ?? []).map((s) => [s.stream, s]));
  const ids = [...new Set([...heads.keys(), ...before.keys()])].sort((a, b) => a - b);
  const streams: DigestStream[] = ids.map((stream) => {
    const p = before.get(stream);
    const head = heads.get(stream);
    const lastSeq = head?.seq ?? p?.lastSeq ?? 0;
    return {
      stream,
      firstSeq: (p?.lastSeq ?? 0) + 1,
      lastSeq,
      startHash: p?.endHash ?? genesisHash(next.trailId, stream).toString('hex'),
      endHash: head?.hash.toString('hex') ?? p?.endHash ?? genesisHash(next.trailId, stream).toString('hex'),
      prunedThroughSeq: next.prune?.throughSeq.get(stream) ?? p?.prunedThroughSeq ?? 0,
    };
  });
  return {
    digestVersion: DIGEST_VERSION,
    trailId: next.trailId,
    digestSeq: (last?.seq ?? 0) + 1,
    reason: next.reason,
    digestStartTime: prev?.digestEndTime ?? null,
    digestEndTime: isoSeconds(next.now),
    digestPublicKeyFingerprint: next.fingerprint,
    digestSignatureAlgorithm: DIGEST_SIGNATURE_ALGORITHM,
    streams,
    previousDigestSeq: last?.seq ?? null,
    previousDigestHashValue: last === undefined ? null : sha256Hex(last.body),
    previousDigestHashAlgorithm: 'SHA-256',
    previousDigestSignature: last?.signature ?? null,
    prunedThroughDigest: next.prune?.throughDigest ?? prev?.prunedThroughDigest ?? 0,
  };
}

/** ISO-8601 UTC to the second, as CloudTrail writes times: 2025-03-02T09:14:27Z. */
export function isoSeconds(ms: number): string {
  // Every record of a second shares its string: formatting a Date per record showed in profiles.
  const s = Math.floor(ms / 1000);
  if (s !== lastSecond) {
    lastSecond = s;
    lastIso = new Date(s * 1000).toISOString().replace('.000Z', 'Z');
  }
  return lastIso;
}
let lastSecond = Number.NaN;
let lastIso = '';
