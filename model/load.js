'use strict';
/**
 * Reads the vendored AWS service models of model/sources/ (model/README.md):
 *  - schemas_0.js, the compiled smithy schemas of an @aws-sdk/client-* package: every operation,
 *    structure member, `sensitive` trait and error (with its HTTP status, fault and Query code);
 *  - service-2.json, botocore's JSON model: the length/pattern/range/enum constraints and the
 *    documentation that the compiled schemas leave out.
 * The compiled schemas are ES modules of plain array literals; they are evaluated in an empty
 * vm context with their imports replaced by inert stand-ins, so no package code runs.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');

const SOURCES = join(__dirname, 'sources');

/** The services Keyhold speaks, with their wire protocol. */
const SERVICES = Object.freeze({
  kms: { protocol: 'json' },
  iam: { protocol: 'query' },
  sts: { protocol: 'query' },
  organizations: { protocol: 'json' },
  cloudtrail: { protocol: 'json' },
});

/** Evaluates a schemas_0.js and returns every top-level schema by variable name. */
function evaluateSchemas(service) {
  let text = readFileSync(join(SOURCES, service, 'schemas_0.js'), 'utf8');
  const stubs = [];
  text = text.replace(/^import\s*\{([^}]*)\}\s*from\s*"[^"]+";$/gm, (_, names) => {
    for (const n of names.split(',').map((s) => s.trim()).filter(Boolean)) stubs.push(n);
    return '';
  });
  text = text.replace(/^export (var|const) /gm, '$1 ');
  const names = [...text.matchAll(/^(?:var|const) ([\w$]+) = /gm)].map((m) => m[1]);
  const prelude =
    'class TypeRegistry { static for() { return new TypeRegistry(); } registerError() {} }\n' +
    stubs.filter((n) => n !== 'TypeRegistry').map((n) => `var ${n} = null;`).join('\n') + '\n';
  const epilogue = `\n__out = { ${names.map((n) => `${JSON.stringify(n)}: ${n}`).join(', ')} };`;
  const context = vm.createContext({ __out: undefined });
  vm.runInContext(prelude + text + epilogue, context, { timeout: 5000 });
  return context.__out;
}

/** Smithy schema codes of @smithy/core/schema (simple types). */
const SIMPLE = Object.freeze({ 0: 'string', 1: 'number', 2: 'boolean', 4: 'timestamp', 5: 'timestamp', 6: 'timestamp', 7: 'timestamp', 15: 'document', 17: 'number', 19: 'number', 21: 'blob', 42: 'blob' });
const LIST_MODIFIER = 64;
const MAP_MODIFIER = 128;
/** Trait bit of `sensitive` in a numeric trait set (@smithy/core/schema translateTraits). */
const SENSITIVE_BIT = 8;

/** A member schema reference -> { kind, name?, sensitive } (structure/list/map by reference). */
function describe(ref, memberTraits) {
  let sensitive = typeof memberTraits === 'number' ? (memberTraits & SENSITIVE_BIT) !== 0 : Boolean(memberTraits && memberTraits.sensitive !== undefined);
  if (typeof ref === 'function') ref = ref();
  if (Array.isArray(ref) && ref.length === 2 && (typeof ref[0] === 'function' || Array.isArray(ref[0]) || typeof ref[0] === 'number')) {
    // [schema, memberTraits]
    return describe(ref[0], ref[1]).withSensitive(sensitive);
  }
  const result = (kind, extra = {}) => ({ kind, ...extra, sensitive, withSensitive(s) { return { ...this, sensitive: this.sensitive || s }; } });
  if (typeof ref === 'number') {
    if (ref & LIST_MODIFIER) return result('list', { member: describe(ref & ~LIST_MODIFIER) });
    if (ref & MAP_MODIFIER) return result('map', { value: describe(ref & ~MAP_MODIFIER) });
    return result(SIMPLE[ref] ?? 'unknown');
  }
  if (typeof ref === 'string') return result(ref === 'unit' ? 'unit' : 'unknown');
  const [code, , name, traits] = ref;
  const traitSensitive = typeof traits === 'number' ? (traits & SENSITIVE_BIT) !== 0 : false;
  sensitive = sensitive || traitSensitive;
  switch (code) {
    case 0: return describe(ref[4]).withSensitive(sensitive);
    case 1: return result('list', { name, member: describe(ref[4]) });
    case 2: return result('map', { name, value: describe(ref[5]) });
    case 3: case -3: return result('structure', { name });
    case 4: return result('union', { name });
    default: return result('unknown', { name });
  }
}

/** Structure schema -> [{ name, shape, required }] in model order. */
function membersOf(schema) {
  const [, , , , names, types, requiredCount] = schema;
  return names.map((n, i) => ({ name: n, shape: describe(types[i]), required: i < (requiredCount ?? 0) }));
}

/** The compiled schemas of one service: operations, structures by name, errors. */
function loadSchemas(service) {
  const all = evaluateSchemas(service);
  const operations = {};
  const structures = {};
  const errors = {};
  for (const value of Object.values(all)) {
    if (!Array.isArray(value)) continue;
    const [code, , name] = value;
    if (code === 9) operations[name] = { name, input: value[4](), output: value[5]() };
    else if (code === 3) structures[name] = value;
    else if (code === -3 && !/ServiceException$/.test(name)) {
      const t = value[3] || {};
      const query = t.awsQueryError;
      errors[name] = { name, status: t.httpError ?? (t.error === 'server' ? 500 : 400), fault: t.error === 'server' ? 'server' : 'client', queryCode: query ? query[0] : undefined, queryStatus: query ? query[1] : undefined };
      structures[name] = value;
    }
  }
  return { operations, structures, errors };
}

/** botocore's service-2.json. */
function loadBotocore(service) {
  return JSON.parse(readFileSync(join(SOURCES, service, 'service-2.json'), 'utf8'));
}

/** The SDK's enums (dist-es/models/enums.js): name -> values, newer than botocore's (ML-KEM...). */
function loadEnums(service) {
  let text;
  try { text = readFileSync(join(SOURCES, service, 'enums.js'), 'utf8'); } catch { return {}; }
  text = text.replace(/^export const /gm, 'const ');
  const names = [...text.matchAll(/^const ([\w$]+) = /gm)].map((m) => m[1]);
  const context = vm.createContext({ __out: undefined });
  vm.runInContext(`${text}\n__out = { ${names.map((n) => `${JSON.stringify(n)}: ${n}`).join(', ')} };`, context, { timeout: 5000 });
  const out = {};
  for (const [n, v] of Object.entries(context.__out)) if (v && typeof v === 'object') out[n] = Object.values(v);
  return out;
}

/** The pinned SDK version the schemas came from. */
function sdkVersion(service) {
  return readFileSync(join(SOURCES, service, 'sdk-version'), 'utf8').trim();
}

module.exports = { SERVICES, loadSchemas, loadBotocore, loadEnums, membersOf, describe, sdkVersion };
