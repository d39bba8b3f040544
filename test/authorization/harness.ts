/**
 * The authorization suite's harness (issue 3, "Tests"): one real `keyhold serve` per test file,
 * principals made through the IAM, STS and Organizations wire APIs (and `keyhold credentials
 * create` for the root of a second account), and table-driven cases: who calls, what request,
 * and the expected outcome — allowed, or AccessDeniedException with AWS's exact message. Every
 * request is a real SigV4-signed @aws-sdk/client-kms call over a socket.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateKeyCommand, type CreateKeyCommandInput, type KMSClient } from '@aws-sdk/client-kms';
import { credsFrom, kmsClient, organizations, query, type Creds } from '../identity/wire';
import { keyhold } from '../helpers/keyhold-cli';
import { startServer, stopAndRemove, type StartOptions, type TestServer } from '../helpers/server';

/** A principal that can call KMS. */
export interface Principal {
  readonly label: string;
  readonly arn: string;
  readonly accountId: string;
  readonly creds: Creds;
  readonly kms: KMSClient;
}

/** A key made for a case table. */
export interface Key {
  readonly id: string;
  readonly arn: string;
}

/** A policy statement or document, as plain JSON. */
export type Json = Record<string, unknown>;

/** A policy document of `statements`. */
export function doc(...statements: Json[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** An identity-policy Allow statement. */
export function allow(action: string | string[], resource: string | string[] = '*', extra: Json = {}): Json {
  return { Effect: 'Allow', Action: action, Resource: resource, ...extra };
}

/** An identity-policy Deny statement. */
export function deny(action: string | string[], resource: string | string[] = '*', extra: Json = {}): Json {
  return { Effect: 'Deny', Action: action, Resource: resource, ...extra };
}

/** A key-policy statement for `principal` (an ARN, account id, "*", or a Principal object). */
export function kp(principal: string | string[] | Json, action: string | string[], effect: 'Allow' | 'Deny' = 'Allow', extra: Json = {}): Json {
  const p = typeof principal === 'string' && principal === '*' ? '*' : typeof principal === 'object' && !Array.isArray(principal) ? principal : { AWS: principal };
  return { Effect: effect, Principal: p, Action: action, Resource: '*', ...extra };
}

/** The statement of the default key policy: the account root, kms:*. */
export function rootStatement(accountId: string): Json {
  return kp(`arn:aws:iam::${accountId}:root`, 'kms:*', 'Allow', { Sid: 'Enable IAM User Permissions' });
}

/** Why a request is refused, as AccessDeniedException messages say it. */
export type Why =
  | 'no-resource'
  | 'no-identity'
  | 'no-scp'
  | 'no-session'
  | 'deny-resource'
  | 'deny-identity'
  | 'deny-scp'
  | 'deny-session';

const POLICY_NAMES: Readonly<Record<string, string>> = {
  resource: 'resource-based policy',
  identity: 'identity-based policy',
  scp: 'service control policy',
  session: 'session policy',
};

/** AWS's AccessDeniedException message (IAM User Guide, troubleshoot_access-denied). */
export function deniedMessage(principalArn: string, action: string, resource: string, why: Why): string {
  const [kind, type] = why.split('-') as ['no' | 'deny', string];
  const head = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource}`;
  const name = POLICY_NAMES[type] as string;
  if (kind === 'deny') return `${head} with an explicit deny in ${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;
  return `${head} because no ${name} allows the ${action} action`;
}

/** What a case expects. */
export type Expect =
  | { readonly allow: true }
  /** Allowed by policy, then failed for another reason (key state, usage, DryRun, …). */
  | { readonly allow: true; readonly thenError: string }
  | { readonly deny: Why; readonly action: string; readonly resource: string }
  | { readonly error: string; readonly message?: string | RegExp };

export const ALLOW: Expect = Object.freeze({ allow: true });

/** Allowed, then failing with `name` (proves authorization passed). */
export function allowedThen(name: string): Expect {
  return { allow: true, thenError: name };
}

/** Denied for `why` doing `action` on `resource`. */
export function denied(action: string, resource: string, why: Why): Expect {
  return { deny: why, action, resource };
}

/** A non-AccessDenied failure. */
export function fails(error: string, message?: string | RegExp): Expect {
  return message === undefined ? { error } : { error, message };
}

/** One case of a table: evaluated lazily, when its test runs. */
export interface AuthzCase {
  readonly name: string;
  readonly who: () => Principal;
  readonly call: (kms: KMSClient) => Promise<unknown>;
  readonly expect: () => Expect;
}

/** Runs one case's request and checks the outcome. */
export async function check(c: AuthzCase): Promise<void> {
  const who = c.who();
  let outcome: { ok: true } | { ok: false; err: Error };
  try {
    await c.call(who.kms);
    outcome = { ok: true };
  } catch (e) {
    outcome = { ok: false, err: e as Error };
  }
  // After the call: a case may make its resource as it runs.
  const expect = c.expect();
  const got = outcome.ok ? 'success' : `${outcome.err.name}: ${outcome.err.message}`;
  if ('deny' in expect) {
    assert.ok(!outcome.ok, `expected AccessDeniedException, got success`);
    assert.equal(outcome.err.name, 'AccessDeniedException', got);
    assert.equal(outcome.err.message, deniedMessage(who.arn, expect.action, expect.resource, expect.deny));
  } else if ('error' in expect) {
    assert.ok(!outcome.ok, `expected ${expect.error}, got success`);
    assert.equal(outcome.err.name, expect.error, got);
    if (typeof expect.message === 'string') assert.equal(outcome.err.message, expect.message);
    else if (expect.message !== undefined) assert.match(outcome.err.message, expect.message);
  } else if ('thenError' in expect) {
    assert.ok(!outcome.ok, `expected ${expect.thenError} after authorization, got success`);
    assert.equal(outcome.err.name, expect.thenError, got);
  } else {
    assert.ok(outcome.ok, `expected success, got ${got}`);
  }
}

/** Registers one node:test test per case. */
export function runCases(cases: readonly AuthzCase[]): void {
  for (const c of cases) test(c.name, () => check(c));
}

let serial = 0;

/** Tags the API accepts, and the operator's `keyhold:` ones (set with `keyhold principals tag`). */
function splitTags(tags: Record<string, string> | undefined): { api: Record<string, string>; operator: Record<string, string> } {
  const api: Record<string, string> = {};
  const operator: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags ?? {})) (k.toLowerCase().startsWith('keyhold:') ? operator : api)[k] = v;
  return { api, operator };
}

/** A running server and the principals of one test file. */
export class World {
  readonly server: TestServer;
  readonly root: Principal;

  private constructor(server: TestServer) {
    this.server = server;
    this.root = this.principal('root', `arn:aws:iam::${server.accountId}:root`, server.accountId, server.credentials);
  }

  /** Starts a server (one worker unless told). */
  static async start(opts: StartOptions = {}): Promise<World> {
    return new World(await startServer(opts));
  }

  get account(): string {
    return this.server.accountId;
  }

  get region(): string {
    return this.server.region;
  }

  async stop(): Promise<void> {
    await stopAndRemove(this.server);
  }

  principal(label: string, arn: string, accountId: string, creds: Creds): Principal {
    return { label, arn, accountId, creds, kms: kmsClient(this.server.endpoint, creds, this.server.region) };
  }

  /** An IAM or STS Query call that must succeed; its XML body. */
  async query(service: 'iam' | 'sts', action: string, params: Record<string, string | number>, creds: Creds = this.root.creds): Promise<string> {
    const a = await query(this.server.port, service, action, params, creds);
    assert.equal(a.status, 200, `${service}:${action}: ${a.body}`);
    return a.body;
  }

  /** An Organizations call that must succeed. */
  async org(op: string, input: Json = {}, creds: Creds = this.root.creds): Promise<any> {
    const r = await organizations(this.server.port, op, input, creds);
    assert.equal(r.status, 200, `${op}: ${JSON.stringify(r.json)}`);
    return r.json;
  }

  /** A new IAM user with an access key, optional inline policy statements and tags. */
  async user(
    name: string,
    opts: { statements?: Json[]; tags?: Record<string, string>; path?: string; owner?: Principal } = {},
  ): Promise<Principal> {
    const owner = opts.owner ?? this.root;
    const params: Record<string, string | number> = { UserName: name, ...(opts.path !== undefined ? { Path: opts.path } : {}) };
    const { api, operator } = splitTags(opts.tags);
    Object.entries(api).forEach(([k, v], i) => {
      params[`Tags.member.${i + 1}.Key`] = k;
      params[`Tags.member.${i + 1}.Value`] = v;
    });
    await this.query('iam', 'CreateUser', params, owner.creds);
    await this.operatorTag('user', name, owner.accountId, operator);
    if (opts.statements !== undefined && opts.statements.length > 0) {
      await this.query('iam', 'PutUserPolicy', { UserName: name, PolicyName: 'p', PolicyDocument: doc(...opts.statements) }, owner.creds);
    }
    const creds = credsFrom(await this.query('iam', 'CreateAccessKey', { UserName: name }, owner.creds));
    return this.principal(name, `arn:aws:iam::${owner.accountId}:user${opts.path ?? '/'}${name}`, owner.accountId, creds);
  }

  /**
   * Sets tags of the operator's reserved `keyhold:` namespace, which the API refuses, the only way
   * there is: `keyhold principals tag` on the data directory (next to the running server).
   */
  async operatorTag(kind: 'user' | 'role', name: string, accountId: string, tags: Record<string, string>): Promise<void> {
    const entries = Object.entries(tags);
    if (entries.length === 0) return;
    const r = await keyhold([
      'principals', 'tag', '--data-dir', this.server.dataDir, '--account-id', accountId, `--${kind}`, name,
      ...entries.flatMap(([k, v]) => ['--tag', `${k}=${v}`]),
    ]);
    assert.equal(r.code, 0, `keyhold principals tag: ${r.stderr}`);
  }

  /** Replaces a user's inline policy. */
  async setUserPolicy(user: Principal, statements: Json[], owner: Principal = this.root): Promise<void> {
    await this.query('iam', 'PutUserPolicy', { UserName: user.label, PolicyName: 'p', PolicyDocument: doc(...statements) }, owner.creds);
  }

  /** A role trusting `trusted` (ARNs), with an inline policy and tags; returns its ARN. */
  async role(
    name: string,
    trusted: string[],
    opts: { statements?: Json[]; tags?: Record<string, string>; owner?: Principal; tagSession?: boolean } = {},
  ): Promise<string> {
    const owner = opts.owner ?? this.root;
    const actions = opts.tagSession === true ? ['sts:AssumeRole', 'sts:TagSession'] : 'sts:AssumeRole';
    const params: Record<string, string | number> = {
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: trusted }, Action: actions }] }),
    };
    const { api, operator } = splitTags(opts.tags);
    Object.entries(api).forEach(([k, v], i) => {
      params[`Tags.member.${i + 1}.Key`] = k;
      params[`Tags.member.${i + 1}.Value`] = v;
    });
    await this.query('iam', 'CreateRole', params, owner.creds);
    await this.operatorTag('role', name, owner.accountId, operator);
    if (opts.statements !== undefined && opts.statements.length > 0) {
      await this.query('iam', 'PutRolePolicy', { RoleName: name, PolicyName: 'p', PolicyDocument: doc(...opts.statements) }, owner.creds);
    }
    return `arn:aws:iam::${owner.accountId}:role/${name}`;
  }

  /** An STS session of `roleArn` assumed by `by`, with an optional session policy and session tags. */
  async assume(roleArn: string, session: string, by: Principal, opts: { policy?: Json[]; tags?: Record<string, string> } = {}): Promise<Principal> {
    const params: Record<string, string | number> = { RoleArn: roleArn, RoleSessionName: session };
    if (opts.policy !== undefined) params.Policy = doc(...opts.policy);
    Object.entries(opts.tags ?? {}).forEach(([k, v], i) => {
      params[`Tags.member.${i + 1}.Key`] = k;
      params[`Tags.member.${i + 1}.Value`] = v;
    });
    const creds = credsFrom(await this.query('sts', 'AssumeRole', params, by.creds));
    const accountId = roleArn.split(':')[4] as string;
    const roleName = roleArn.split('/').pop() as string;
    return this.principal(session, `arn:aws:sts::${accountId}:assumed-role/${roleName}/${session}`, accountId, creds);
  }

  /** The root of another account, made with `keyhold credentials create` while the server runs. */
  async accountRoot(accountId: string): Promise<Principal> {
    serial += 1;
    const id = `AKIAAUTHZ${accountId}${serial}`.slice(0, 24);
    const secret = `authz-secret-${accountId}-${serial}-0123456789abcdef`;
    const r = await keyhold(['credentials', 'create', '--data-dir', this.server.dataDir, '--access-key-id', id, '--secret-access-key', secret, '--account-id', accountId]);
    assert.equal(r.code, 0, r.stderr);
    return this.principal(`root-${accountId}`, `arn:aws:iam::${accountId}:root`, accountId, { accessKeyId: id, secretAccessKey: secret });
  }

  /** A key made by `by` (the root by default). */
  async key(input: CreateKeyCommandInput = {}, by: Principal = this.root): Promise<Key> {
    const m = (await by.kms.send(new CreateKeyCommand(input))).KeyMetadata!;
    return { id: m.KeyId!, arn: m.Arn! };
  }

  /** A key with `statements` as its key policy (made with BypassPolicyLockoutSafetyCheck by the root). */
  async keyWithPolicy(statements: Json[], input: CreateKeyCommandInput = {}): Promise<Key> {
    return this.key({ ...input, Policy: doc(...statements), BypassPolicyLockoutSafetyCheck: true });
  }

  aliasArn(name: string, accountId = this.account): string {
    return `arn:aws:kms:${this.region}:${accountId}:${name}`;
  }
}

/** A lazily bound value (principals and keys exist only once `before` ran). */
export class Slot<T> {
  #value: T | undefined;
  set(v: T): T {
    this.#value = v;
    return v;
  }
  get(): T {
    if (this.#value === undefined) throw new Error('slot read before it was set');
    return this.#value;
  }
}

/** Adds a profile for `p` to the server's credentials file (what the AWS CLI reads); returns its name. */
export function addCliProfile(server: TestServer, p: Principal): string {
  const token = p.creds.sessionToken === undefined ? '' : `aws_session_token = ${p.creds.sessionToken}\n`;
  appendFileSync(
    join(server.dataDir, 'credentials'),
    `\n[${p.label}]\naws_access_key_id = ${p.creds.accessKeyId}\naws_secret_access_key = ${p.creds.secretAccessKey}\n${token}region = us-east-1\n`,
  );
  return p.label;
}
