/**
 * DeriveSharedSecret: ECDH between a KEY_AGREEMENT key's private key and a peer's public key,
 * answering the raw shared secret (API_DeriveSharedSecret.html; src/crypto/key-agreement.ts).
 * The peer key is DER SubjectPublicKeyInfo on the KMS key's own curve; anything else is a
 * ValidationException (docs/compatibility.md: AWS does not document its error). The secret is in
 * the response only: audit records drop blob members (src/audit/request-parameters.ts).
 * `Recipient` (Nitro Enclaves attestation) is refused, as for Decrypt.
 */
import { peerPublicKey, PeerKeyError } from '../crypto/key-agreement';
import { ServiceError } from '../errors';
import { keySpecFacts } from '../keys/key-specs';
import { KMS_INPUTS } from '../model/kms-inputs';
import type { KeyRecord } from '../store/records';
import { assertKeyUse, resolveAndAuthorize } from './key-use';
import type { Operation } from './operation';
import type { KmsAuthorizationStore } from './authorize';
import { KMS_OUTPUTS, type DeriveSharedSecretOutput } from '../model/kms-outputs';
import { dryRunSucceeded } from './symmetric';
import { rejectUnsupportedMembers } from './unsupported-members';

interface DeriveSharedSecretInput {
  KeyId: string;
  KeyAgreementAlgorithm: string;
  PublicKey: Buffer;
  GrantTokens?: string[];
  DryRun?: boolean;
  Recipient?: Record<string, unknown>;
}

/** AWS's error for a peer key that cannot be used with `key` (the key's spec names the curve). */
function badPeerKey(key: KeyRecord, e: PeerKeyError): ServiceError {
  return new ServiceError(
    'ValidationException',
    e.problem === 'malformed'
      ? 'PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo of an elliptic curve public key.'
      : `PublicKey is not on the curve of the KMS key: key spec ${key.keySpec} requires a public key on the same curve.`,
  );
}

/** OpenSSL's name of the curve of an ECC key spec. */
function curveOf(key: KeyRecord): string {
  const g = keySpecFacts(key.keySpec).generation;
  if (g?.type !== 'ec') throw new Error(`${key.keySpec} is not an ECC key spec`);
  return g.namedCurve;
}

export const deriveSharedSecret: Operation<DeriveSharedSecretInput, DeriveSharedSecretOutput, KmsAuthorizationStore> = {
  name: 'DeriveSharedSecret',
  output: KMS_OUTPUTS.DeriveSharedSecret,
  readOnly: true,
  input: KMS_INPUTS.DeriveSharedSecret,
  async invoke(input, ctx, svc) {
    rejectUnsupportedMembers('DeriveSharedSecret', input, ['Recipient']);
    const { key } = await resolveAndAuthorize(
      input.KeyId,
      { action: 'kms:DeriveSharedSecret', grantTokens: input.GrantTokens, conditions: { 'kms:KeyAgreementAlgorithm': input.KeyAgreementAlgorithm } },
      ctx,
      svc,
    );
    assertKeyUse(key, 'KEY_AGREEMENT', input.KeyAgreementAlgorithm);
    try {
      // Checked before DryRun, so a dry run tells whether the real call would succeed.
      peerPublicKey(input.PublicKey, curveOf(key));
      if (input.DryRun === true) throw dryRunSucceeded();
      const secret = await svc.backend.deriveSharedSecret({ key, version: key.currentVersion }, input.PublicKey);
      // Handed over: the encoder zeroes SharedSecret once written (src/protocol/json-encoder.ts).
      return { KeyId: key.arn, SharedSecret: secret, KeyAgreementAlgorithm: input.KeyAgreementAlgorithm, KeyOrigin: key.origin };
    } catch (e) {
      if (e instanceof PeerKeyError) throw badPeerKey(key, e);
      throw e;
    }
  },
};
