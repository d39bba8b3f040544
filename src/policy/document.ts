/**
 * Policy documents: parse a JSON policy into a typed, validated document
 * (IAM User Guide, reference_policies_grammar and reference_policies_elements_*).
 *
 * Anything malformed throws MalformedPolicyDocumentException naming the statement (by position,
 * 1-based) and the element. Messages name elements and constraints, never the values, except
 * operator and condition-key names, which are policy structure.
 *
 * The policy kind decides the principal rules: resource-based policies (key policies) need
 * Principal or NotPrincipal; identity-based, session and service control policies must have
 * neither, and need Resource or NotResource. A key policy statement without Resource is
 * accepted but matches nothing (kms-reference.md §9.2).
 */
import { ServiceError } from '../errors';
import { checkConditionValue, parseOperatorName, type ConditionEntry } from './conditions';
import { checkAwsPrincipal, checkServicePrincipal, type PrincipalSpec } from './principal';

export type { ConditionEntry } from './conditions';
export type { PrincipalSpec } from './principal';

/** Which kind of policy a document is; it decides the Principal rules. */
export type PolicyKind = 'resource' | 'identity' | 'scp' | 'session';

/** The policy language versions; variables exist only in 2012-10-17. */
export type PolicyVersion = '2012-10-17' | '2008-10-17';

/** One validated statement. Exactly one of each element pair is set (Resource may be neither). */
export interface PolicyStatement {
  readonly sid: string | undefined;
  readonly effect: 'Allow' | 'Deny';
  readonly principal: PrincipalSpec | undefined;
  readonly notPrincipal: PrincipalSpec | undefined;
  readonly action: readonly string[] | undefined;
  readonly notAction: readonly string[] | undefined;
  readonly resource: readonly string[] | undefined;
  readonly notResource: readonly string[] | undefined;
  readonly conditions: readonly ConditionEntry[];
}

/** A validated policy document. */
export interface PolicyDocument {
  readonly kind: PolicyKind;
  /** The Version element; a document without one is 2008-10-17, as in AWS. */
  readonly version: PolicyVersion;
  readonly id: string | undefined;
  readonly statements: readonly PolicyStatement[];
}

/** Options for parsePolicy. */
export interface ParsePolicyOptions {
  readonly kind: PolicyKind;
  /** How messages name the document, e.g. "new key policy"; default "policy document". */
  readonly documentName?: string;
}

const TOP_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_KEYS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9_*?-]+$/;
const CONDITION_KEY = /^[A-Za-z0-9-]+:\S.*$/s;

const KIND_NAMES: Readonly<Record<PolicyKind, string>> = Object.freeze({
  resource: 'a resource-based policy',
  identity: 'an identity-based policy',
  scp: 'a service control policy',
  session: 'a session policy',
});

function malformed(message: string): ServiceError {
  return new ServiceError('MalformedPolicyDocumentException', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const has = (o: Record<string, unknown>, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/** A string or non-empty array of strings, as a list; undefined when it is neither. */
function stringList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

function parsePrincipal(where: string, element: 'Principal' | 'NotPrincipal', v: unknown): PrincipalSpec {
  const bad = (why: string): ServiceError => malformed(`${where} has an invalid principal: ${why}.`);
  if (v === '*') return { everyone: true, aws: [], service: [], federated: [], canonicalUser: [] };
  if (!isObject(v)) throw bad(`${element} must be "*" or an object with AWS, Service, Federated or CanonicalUser`);
  const keys = Object.keys(v);
  if (keys.length === 0) throw bad(`${element} must name at least one principal`);
  const lists: Record<string, string[]> = {};
  for (const k of keys) {
    if (!PRINCIPAL_KEYS.has(k)) throw bad(`${element} has an unknown principal type ${JSON.stringify(k)}`);
    const list = stringList(v[k]);
    if (list === undefined) throw bad(`${element}.${k} must be a string or a non-empty array of strings`);
    list.forEach((value, i) => {
      const member = Array.isArray(v[k]) ? `${element}.${k}[${i}]` : `${element}.${k}`;
      const why =
        k === 'AWS'
          ? checkAwsPrincipal(value)
          : k === 'Service'
            ? checkServicePrincipal(value)
            : value === '' || value.includes('*')
              ? 'must be a non-empty name without wildcards'
              : undefined;
      if (why !== undefined) throw bad(`${member} ${why}`);
    });
    lists[k] = list;
  }
  return {
    everyone: false,
    aws: lists.AWS ?? [],
    service: lists.Service ?? [],
    federated: lists.Federated ?? [],
    canonicalUser: lists.CanonicalUser ?? [],
  };
}

function parseActions(where: string, element: 'Action' | 'NotAction', v: unknown): string[] {
  const list = stringList(v);
  if (list === undefined) throw malformed(`${where} has an invalid ${element}: it must be a string or a non-empty array of strings.`);
  list.forEach((a, i) => {
    if (a !== '*' && !ACTION.test(a)) {
      const member = Array.isArray(v) ? `${element}[${i}]` : element;
      throw malformed(`${where} has an invalid ${element}: ${member} must be "*" or "service:action" (wildcards * and ? allowed).`);
    }
  });
  return list;
}

function parseResources(where: string, element: 'Resource' | 'NotResource', v: unknown): string[] {
  const list = stringList(v);
  if (list === undefined) throw malformed(`${where} has an invalid ${element}: it must be a string or a non-empty array of strings.`);
  list.forEach((r, i) => {
    if (r !== '*' && !r.startsWith('arn:')) {
      const member = Array.isArray(v) ? `${element}[${i}]` : element;
      throw malformed(`${where} has an invalid ${element}: ${member} must be "*" or an ARN.`);
    }
  });
  return list;
}

function parseConditions(where: string, v: unknown): ConditionEntry[] {
  const bad = (why: string): ServiceError => malformed(`${where} has an invalid Condition: ${why}.`);
  if (!isObject(v)) throw bad('it must be an object of condition operators');
  const entries: ConditionEntry[] = [];
  for (const operatorName of Object.keys(v)) {
    const parsed = parseOperatorName(operatorName);
    if (typeof parsed === 'string') throw bad(parsed);
    const block = v[operatorName];
    if (!isObject(block) || Object.keys(block).length === 0) {
      throw bad(`${operatorName} must be an object of condition keys and values`);
    }
    for (const key of Object.keys(block)) {
      if (!CONDITION_KEY.test(key)) throw bad(`${operatorName} has a condition key ${JSON.stringify(key)} that is not of the form "prefix:name"`);
      const raw = block[key];
      const items = Array.isArray(raw) ? raw : [raw];
      if (items.length === 0) throw bad(`${operatorName} needs at least one value for ${JSON.stringify(key)}`);
      const values = items.map((item) => {
        if (typeof item === 'string') return item;
        if (typeof item === 'number' && Number.isFinite(item)) return String(item);
        if (typeof item === 'boolean') return String(item);
        throw bad(`${operatorName} values for ${JSON.stringify(key)} must be strings, numbers or booleans`);
      });
      for (const value of values) {
        const why = checkConditionValue(parsed.operator.type, value);
        if (why !== undefined) throw bad(`${operatorName} value for ${JSON.stringify(key)} ${why}`);
      }
      entries.push({
        operator: operatorName,
        baseOperator: parsed.operator.name,
        qualifier: parsed.qualifier,
        ifExists: parsed.ifExists,
        key,
        values,
      });
    }
  }
  return entries;
}

function parseStatement(s: unknown, index: number, kind: PolicyKind): PolicyStatement {
  const where = `Statement ${index + 1}`;
  if (!isObject(s)) throw malformed(`${where} is not a JSON object.`);
  for (const k of Object.keys(s)) if (!STATEMENT_KEYS.has(k)) throw malformed(`${where} has an unknown element ${JSON.stringify(k)}.`);
  if (has(s, 'Sid') && typeof s.Sid !== 'string') throw malformed(`${where} has an invalid Sid: it must be a string.`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed(`${where} must have an Effect of "Allow" or "Deny".`);

  const hasPrincipal = has(s, 'Principal');
  const hasNotPrincipal = has(s, 'NotPrincipal');
  if (kind === 'resource') {
    if (hasPrincipal === hasNotPrincipal) throw malformed(`${where} must have exactly one of Principal or NotPrincipal.`);
  } else if (hasPrincipal || hasNotPrincipal) {
    throw malformed(`${where} must not have a Principal or NotPrincipal element in ${KIND_NAMES[kind]}.`);
  }
  if (has(s, 'Action') === has(s, 'NotAction')) throw malformed(`${where} must have exactly one of Action or NotAction.`);
  const hasResource = has(s, 'Resource');
  const hasNotResource = has(s, 'NotResource');
  if (hasResource && hasNotResource) throw malformed(`${where} must have exactly one of Resource or NotResource.`);
  if (kind !== 'resource' && !hasResource && !hasNotResource) throw malformed(`${where} must have exactly one of Resource or NotResource.`);

  return {
    sid: s.Sid as string | undefined,
    effect: s.Effect,
    principal: hasPrincipal ? parsePrincipal(where, 'Principal', s.Principal) : undefined,
    notPrincipal: hasNotPrincipal ? parsePrincipal(where, 'NotPrincipal', s.NotPrincipal) : undefined,
    action: has(s, 'Action') ? parseActions(where, 'Action', s.Action) : undefined,
    notAction: has(s, 'NotAction') ? parseActions(where, 'NotAction', s.NotAction) : undefined,
    resource: hasResource ? parseResources(where, 'Resource', s.Resource) : undefined,
    notResource: hasNotResource ? parseResources(where, 'NotResource', s.NotResource) : undefined,
    conditions: has(s, 'Condition') ? parseConditions(where, s.Condition) : [],
  };
}

/** Parses and validates a policy document; throws MalformedPolicyDocumentException. */
export function parsePolicy(text: string, options: ParsePolicyOptions): PolicyDocument {
  const name = options.documentName ?? 'policy document';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed(`The ${name} is not valid JSON.`);
  }
  return parsePolicyObject(doc, options);
}

/** Validates an already-parsed JSON value as a policy document. */
export function parsePolicyObject(doc: unknown, options: ParsePolicyOptions): PolicyDocument {
  const name = options.documentName ?? 'policy document';
  if (!isObject(doc)) throw malformed(`The ${name} must be a JSON object.`);
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) throw malformed(`The ${name} has an unknown element ${JSON.stringify(k)}.`);
  if (has(doc, 'Version') && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') {
    throw malformed('The policy Version must be "2012-10-17" or "2008-10-17".');
  }
  if (has(doc, 'Id') && typeof doc.Id !== 'string') throw malformed(`The ${name} has an invalid Id: it must be a string.`);
  const raw = doc.Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (statements.length === 0) throw malformed(`The ${name} has no Statement.`);
  return {
    kind: options.kind,
    version: (doc.Version as PolicyVersion | undefined) ?? '2008-10-17',
    id: doc.Id as string | undefined,
    statements: statements.map((s, i) => parseStatement(s, i, options.kind)),
  };
}
