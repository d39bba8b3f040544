/**
 * STS session credentials: an ASIA… access key id, a secret access key and a session token.
 *
 * Token design: the session token is 48 random bytes (base64), an opaque bearer value that
 * names nothing and cannot be forged or derived. The server keeps the secret and the token only
 * wrapped together by the root of trust (AES-256-GCM; AAD binds them to the access key id), in
 * the sts_sessions row that also holds the session's role, policies, tags and expiry. SigV4
 * verification compares the X-Amz-Security-Token header with the unwrapped token in constant
 * time (src/protocol/sigv4.ts), so a request needs the secret (to sign) and the token (to
 * present). Expiry is checked on every request against the server clock.
 */
import { randomBytes } from 'node:crypto';
import type { StsSessionRecord } from '../store/identity-store';
import type { RootOfTrust } from '../trust/root-of-trust';
import { assumedRoleArn } from './arns';
import type { Caller } from './caller';

const TOKEN_BYTES = 48;

/** A new session token: 48 random bytes, base64 (64 characters). */
export function newSessionToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64');
}

function sessionAad(accessKeyId: string): Buffer {
  return Buffer.from(`keyhold/sts-session/v1\0${accessKeyId}`);
}

/** Wraps a session's secret and token together under the root of trust. */
export async function wrapSessionCredentials(trust: RootOfTrust, accessKeyId: string, secret: string, token: string): Promise<Buffer> {
  const plain = Buffer.from(`${secret}\0${token}`, 'utf8');
  try {
    return await trust.wrap(plain, sessionAad(accessKeyId));
  } finally {
    plain.fill(0);
  }
}

/** Unwraps what wrapSessionCredentials made. */
export async function unwrapSessionCredentials(trust: RootOfTrust, accessKeyId: string, wrapped: Buffer): Promise<{ secret: string; token: string }> {
  const plain = await trust.unwrap(wrapped, sessionAad(accessKeyId));
  try {
    const text = plain.toString('utf8');
    const nul = text.indexOf('\0');
    return { secret: text.slice(0, nul), token: text.slice(nul + 1) };
  } finally {
    plain.fill(0);
  }
}

/** The Caller a session authenticates. */
export function sessionCaller(s: StsSessionRecord): Caller {
  const tags: Record<string, string> = {};
  for (const t of s.sessionTags) tags[t.Key] = t.Value;
  return {
    accountId: s.accountId,
    principalArn: assumedRoleArn(s.accountId, s.roleName, s.sessionName),
    principalId: `${s.roleId}:${s.sessionName}`,
    principalType: 'AssumedRole',
    userName: null,
    accessKeyId: s.accessKeyId,
    uniqueId: s.roleId,
    session: {
      issuer: { type: 'Role', principalId: s.roleId, arn: s.roleArn, accountId: s.accountId, userName: s.roleName },
      sessionName: s.sessionName,
      creationDate: s.createdAt,
      expiration: s.expiresAt,
      sessionTags: Object.freeze(tags),
      transitiveTagKeys: s.transitiveTagKeys,
      sessionPolicy: s.sessionPolicy,
      policyArns: s.policyArns,
      sourceIdentity: s.sourceIdentity,
      mfaAuthenticated: false,
    },
  };
}
