/**
 * Condition operators: one frozen table of every operator the IAM User Guide documents
 * (reference_policies_elements_condition_operators), the `...IfExists` suffix, the
 * `ForAnyValue:`/`ForAllValues:` set qualifiers (reference_policies_multi-value-conditions), and
 * the evaluation of one condition against a request context.
 *
 * Semantics, from the guide:
 * - Several values for one key in the policy are ORed; for negated operators (StringNotEquals,
 *   NotIpAddress, ArnNotLike, …) the request value must match none of them (a logical AND).
 * - A key missing from the request context makes the condition false, except that negated
 *   operators are then true; `...IfExists` makes a missing key true; `Null` tests presence.
 * - `ForAllValues` is true when every request value matches (and when the key is missing or
 *   empty); `ForAnyValue` is true when at least one does (false when missing or empty). With a
 *   negated operator, "matches" means "matches none of the policy values".
 * - Condition keys are case-insensitive, values case-sensitive except for the IgnoreCase
 *   operators. Dates are W3C ISO 8601 or epoch seconds. IpAddress takes IPv4 and IPv6 CIDR;
 *   an address without a prefix is /32 (/128).
 * An empty multivalued key is treated like a missing one.
 */
import { compilePattern, compileTemplate, type VariableSource } from './glob';
import { cidrContains, parseCidrBlock, parseIp, type CidrBlock } from './ip';

/** The value family an operator compares. */
export type ConditionType = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'IpAddress' | 'Arn' | 'Null';

/** A set qualifier for multivalued keys. */
export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

/** Whether one request value matches at least one of the condition's policy values. */
export type ValueMatcher = (requestValue: string, source: VariableSource) => boolean;

/** One operator: its family, whether it is negated, and how its policy values compile. */
export interface ConditionOperator {
  readonly name: string;
  readonly type: ConditionType;
  readonly negated: boolean;
  /** Builds the positive matcher (the negation is applied by the evaluator). */
  readonly compile: (values: readonly string[], variables: boolean) => ValueMatcher;
}

/** One condition in a statement, as written (after validation). */
export interface ConditionEntry {
  /** The operator as written, e.g. `ForAnyValue:StringLikeIfExists`. */
  readonly operator: string;
  /** The base operator, e.g. `StringLike`. */
  readonly baseOperator: string;
  readonly qualifier: SetQualifier | undefined;
  readonly ifExists: boolean;
  /** The condition key as written (keys compare case-insensitively). */
  readonly key: string;
  readonly values: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Value parsing

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH = /^[+-]?\d+(?:\.\d+)?$/;
// W3C profile of ISO 8601 (https://www.w3.org/TR/NOTE-datetime); a missing zone means UTC.
const ISO_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?)?)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses a policy or request number; undefined when it is not one. */
export function parseNumber(s: string): number | undefined {
  return NUMBER.test(s) ? Number(s) : undefined;
}

/**
 * Parses an ISO 8601 date-time or epoch seconds to epoch milliseconds; undefined when invalid.
 * Four bare digits are a year (the W3C `YYYY` form), longer digit strings epoch seconds.
 */
export function parseDate(s: string): number | undefined {
  if (EPOCH.test(s) && !/^\d{4}$/.test(s)) return Number(s) * 1000;
  const m = ISO_DATE.exec(s);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0${m[7]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const base = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), millis);
  if (new Date(base).getUTCDate() !== day) return undefined; // 31 February and friends
  let offset = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.replace(':', '');
    const sign = digits[0] === '-' ? -1 : 1;
    const zh = Number(digits.slice(1, 3));
    const zm = Number(digits.slice(3, 5));
    if (zh > 23 || zm > 59) return undefined;
    offset = sign * (zh * 60 + zm) * 60_000;
  }
  return base - offset;
}

/** The constraint a policy value breaks for an operator family, or undefined when it is valid. */
export function checkConditionValue(type: ConditionType, value: string): string | undefined {
  switch (type) {
    case 'Numeric':
      return parseNumber(value) === undefined ? 'must be a number' : undefined;
    case 'Date':
      return parseDate(value) === undefined ? 'must be an ISO 8601 date-time or epoch seconds' : undefined;
    case 'Binary':
      return value !== '' && BASE64.test(value) ? undefined : 'must be base64-encoded';
    case 'IpAddress':
      return parseCidrBlock(value) === undefined ? 'must be an IPv4 or IPv6 address or CIDR block' : undefined;
    case 'Null':
      return /^(true|false)$/i.test(value) ? undefined : 'must be "true" or "false"';
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Matchers (positive form: the request value matches at least one policy value)

function stringEquals(values: readonly string[], variables: boolean): ValueMatcher {
  const templates = values.map((v) => compileTemplate(v, variables));
  if (!templates.some((t) => t.hasVariables)) {
    const set = new Set(values);
    return (v) => set.has(v);
  }
  return (v, source) => templates.some((t) => t.resolve(source) === v);
}

function stringEqualsIgnoreCase(values: readonly string[], variables: boolean): ValueMatcher {
  const templates = values.map((v) => compileTemplate(v, variables));
  if (!templates.some((t) => t.hasVariables)) {
    const set = new Set(values.map((v) => v.toLowerCase()));
    return (v) => set.has(v.toLowerCase());
  }
  return (v, source) => {
    const lower = v.toLowerCase();
    return templates.some((t) => t.resolve(source)?.toLowerCase() === lower);
  };
}

function patterns(dialect: 'plain' | 'arn'): (values: readonly string[], variables: boolean) => ValueMatcher {
  return (values, variables) => {
    const compiled = values.map((v) => compilePattern(v, dialect, variables));
    if (compiled.length === 1) {
      const only = compiled[0]!;
      return (v, source) => only.test(v, source);
    }
    return (v, source) => compiled.some((p) => p.test(v, source));
  };
}

function numeric(cmp: (request: number, policy: number) => boolean): (values: readonly string[]) => ValueMatcher {
  return (values) => {
    const policy = values.map((v) => parseNumber(v) as number);
    return (v) => {
      const n = parseNumber(v);
      return n !== undefined && policy.some((p) => cmp(n, p));
    };
  };
}

function date(cmp: (request: number, policy: number) => boolean): (values: readonly string[]) => ValueMatcher {
  return (values) => {
    const policy = values.map((v) => parseDate(v) as number);
    return (v) => {
      const t = parseDate(v);
      return t !== undefined && policy.some((p) => cmp(t, p));
    };
  };
}

function bool(values: readonly string[], variables: boolean): ValueMatcher {
  const templates = values.map((v) => compileTemplate(v, variables));
  return (v, source) => {
    const lower = v.toLowerCase();
    return templates.some((t) => t.resolve(source)?.toLowerCase() === lower);
  };
}

function binary(values: readonly string[]): ValueMatcher {
  const policy = values.map((v) => Buffer.from(v, 'base64'));
  return (v) => {
    if (!BASE64.test(v)) return false;
    const bytes = Buffer.from(v, 'base64');
    return policy.some((p) => p.equals(bytes));
  };
}

function ipAddress(values: readonly string[]): ValueMatcher {
  const blocks = values.map((v) => parseCidrBlock(v) as CidrBlock);
  return (v) => {
    const ip = parseIp(v);
    return ip !== undefined && blocks.some((b) => cidrContains(b, ip));
  };
}

const never: ValueMatcher = () => false;

function op(
  name: string,
  type: ConditionType,
  negated: boolean,
  compile: (values: readonly string[], variables: boolean) => ValueMatcher,
): ConditionOperator {
  return Object.freeze({ name, type, negated, compile });
}

/** Every condition operator, by its documented name. Adding an operator is one line. */
export const CONDITION_OPERATORS: Readonly<Record<string, ConditionOperator>> = Object.freeze({
  StringEquals: op('StringEquals', 'String', false, stringEquals),
  StringNotEquals: op('StringNotEquals', 'String', true, stringEquals),
  StringEqualsIgnoreCase: op('StringEqualsIgnoreCase', 'String', false, stringEqualsIgnoreCase),
  StringNotEqualsIgnoreCase: op('StringNotEqualsIgnoreCase', 'String', true, stringEqualsIgnoreCase),
  StringLike: op('StringLike', 'String', false, patterns('plain')),
  StringNotLike: op('StringNotLike', 'String', true, patterns('plain')),
  NumericEquals: op('NumericEquals', 'Numeric', false, numeric((r, p) => r === p)),
  NumericNotEquals: op('NumericNotEquals', 'Numeric', true, numeric((r, p) => r === p)),
  NumericLessThan: op('NumericLessThan', 'Numeric', false, numeric((r, p) => r < p)),
  NumericLessThanEquals: op('NumericLessThanEquals', 'Numeric', false, numeric((r, p) => r <= p)),
  NumericGreaterThan: op('NumericGreaterThan', 'Numeric', false, numeric((r, p) => r > p)),
  NumericGreaterThanEquals: op('NumericGreaterThanEquals', 'Numeric', false, numeric((r, p) => r >= p)),
  DateEquals: op('DateEquals', 'Date', false, date((r, p) => r === p)),
  DateNotEquals: op('DateNotEquals', 'Date', true, date((r, p) => r === p)),
  DateLessThan: op('DateLessThan', 'Date', false, date((r, p) => r < p)),
  DateLessThanEquals: op('DateLessThanEquals', 'Date', false, date((r, p) => r <= p)),
  DateGreaterThan: op('DateGreaterThan', 'Date', false, date((r, p) => r > p)),
  DateGreaterThanEquals: op('DateGreaterThanEquals', 'Date', false, date((r, p) => r >= p)),
  Bool: op('Bool', 'Bool', false, bool),
  BinaryEquals: op('BinaryEquals', 'Binary', false, binary),
  IpAddress: op('IpAddress', 'IpAddress', false, ipAddress),
  NotIpAddress: op('NotIpAddress', 'IpAddress', true, ipAddress),
  ArnEquals: op('ArnEquals', 'Arn', false, patterns('arn')),
  ArnLike: op('ArnLike', 'Arn', false, patterns('arn')),
  ArnNotEquals: op('ArnNotEquals', 'Arn', true, patterns('arn')),
  ArnNotLike: op('ArnNotLike', 'Arn', true, patterns('arn')),
  Null: op('Null', 'Null', false, () => never),
});

/** Operator families whose values may hold policy variables (reference_policies_variables). */
const VARIABLE_TYPES: ReadonlySet<ConditionType> = new Set<ConditionType>(['String', 'Arn', 'Bool']);

const BY_LOWER_NAME: ReadonlyMap<string, ConditionOperator> = new Map(
  Object.values(CONDITION_OPERATORS).map((o) => [o.name.toLowerCase(), o] as const),
);

/** A parsed operator name: qualifier, base operator and IfExists. */
export interface ParsedOperator {
  readonly operator: ConditionOperator;
  readonly qualifier: SetQualifier | undefined;
  readonly ifExists: boolean;
}

/**
 * Parses `[ForAnyValue:|ForAllValues:]Operator[IfExists]`; returns the reason on failure.
 * Names are matched case-insensitively.
 */
export function parseOperatorName(name: string): ParsedOperator | string {
  let rest = name;
  let qualifier: SetQualifier | undefined;
  const colon = rest.indexOf(':');
  if (colon >= 0) {
    const q = rest.slice(0, colon).toLowerCase();
    if (q === 'foranyvalue') qualifier = 'ForAnyValue';
    else if (q === 'forallvalues') qualifier = 'ForAllValues';
    else return `the set qualifier of ${JSON.stringify(name)} must be ForAnyValue or ForAllValues`;
    rest = rest.slice(colon + 1);
  }
  let operator = BY_LOWER_NAME.get(rest.toLowerCase());
  let ifExists = false;
  if (operator === undefined && rest.toLowerCase().endsWith('ifexists')) {
    operator = BY_LOWER_NAME.get(rest.slice(0, -'IfExists'.length).toLowerCase());
    ifExists = operator !== undefined;
  }
  if (operator === undefined) return `${JSON.stringify(name)} is not a condition operator`;
  if (operator.type === 'Null' && ifExists) return 'the Null operator cannot take the IfExists suffix';
  if (operator.type === 'Null' && qualifier !== undefined) return 'the Null operator cannot take a set qualifier';
  return { operator, qualifier, ifExists };
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/** A condition compiled once; `test` reads the request context only. */
export interface CompiledCondition {
  /** The lowercased condition key. */
  readonly key: string;
  test(context: VariableSource): boolean;
}

/** Compiles one validated condition entry. `variables`: the policy Version allows variables. */
export function compileCondition(entry: ConditionEntry, variables: boolean): CompiledCondition {
  const parsed = parseOperatorName(entry.operator);
  if (typeof parsed === 'string') throw new TypeError(`unvalidated condition operator: ${parsed}`);
  const { operator, qualifier, ifExists } = parsed;
  const key = entry.key.toLowerCase();

  if (operator.type === 'Null') {
    const wantAbsent = entry.values.some((v) => v.toLowerCase() === 'true');
    const wantPresent = entry.values.some((v) => v.toLowerCase() === 'false');
    return {
      key,
      test: (context) => {
        const raw = context.get(key);
        const absent = raw === undefined || (typeof raw !== 'string' && raw.length === 0);
        return absent ? wantAbsent : wantPresent;
      },
    };
  }

  const matches = operator.compile(entry.values, variables && VARIABLE_TYPES.has(operator.type));
  const negated = operator.negated;
  return {
    key,
    test: (context) => {
      const raw = context.get(key);
      if (raw === undefined || (typeof raw !== 'string' && raw.length === 0)) {
        if (ifExists) return true;
        if (qualifier === 'ForAllValues') return true;
        if (qualifier === 'ForAnyValue') return false;
        return negated;
      }
      if (typeof raw === 'string') {
        const m = matches(raw, context);
        return negated ? !m : m;
      }
      const values = raw as readonly string[];
      if (qualifier === 'ForAllValues') {
        for (const v of values) if (matches(v, context) === negated) return false;
        return true;
      }
      if (qualifier === 'ForAnyValue') {
        for (const v of values) if (matches(v, context) !== negated) return true;
        return false;
      }
      // No qualifier on a multivalued key: any value matching decides, negated operators invert.
      let any = false;
      for (const v of values) {
        if (matches(v, context)) {
          any = true;
          break;
        }
      }
      return negated ? !any : any;
    },
  };
}
