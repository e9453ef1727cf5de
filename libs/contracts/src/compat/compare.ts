import type { JsonSchema, SchemaSnapshot } from './snapshot.js';

/**
 * Lists the changes from `previous` to `current` that would break a consumer, one sentence
 * each, such as `PaymentCharged v1: field "amount" removed`. An empty list means compatible.
 *
 * The rule is backward compatibility: a schema must still accept every payload its previous
 * version accepted, because messages already written (in Kafka, in outboxes, on dead-letter
 * topics) are read again after a deploy. Adding an optional field, a new enum value, or a new
 * message type or version passes; removing or renaming a field, changing a field's type,
 * removing enum values, dropping `null`, tightening a bound, or adding a required field fails.
 * Payloads are strict objects, so consumers must be deployed before the producers that start
 * filling a new optional field. A breaking change is made by registering a new version.
 */
export function compareSnapshots(previous: SchemaSnapshot, current: SchemaSnapshot): string[] {
  const changes: string[] = [];
  for (const [type, versions] of Object.entries(previous)) {
    for (const [version, schema] of Object.entries(versions)) {
      const label = `${type} v${version}`;
      const next = current[type]?.[version];
      if (next === undefined) {
        changes.push(`${label}: message removed (old messages of this version could no longer be read)`);
        continue;
      }
      changes.push(...compareSchemas(schema, next, '').map((change) => `${label}: ${change}`));
    }
  }
  return changes;
}

/** Compares two schemas by the same rule as {@link compareSnapshots}; paths are relative to them. */
export function compareSchemas(previous: JsonSchema, current: JsonSchema, path: string): string[] {
  const newBranches = branches(current);
  if (newBranches.some((branch) => branch.type === 'any')) return [];
  const changes: string[] = [];
  for (const old of branches(previous)) {
    const candidates = newBranches.filter(
      (branch) => branch.type === old.type || (old.type === 'integer' && branch.type === 'number'),
    );
    if (candidates.length === 0) {
      changes.push(
        old.type === 'null'
          ? `${field(path)} is no longer nullable`
          : `${field(path)} changed type from ${describe(previous)} to ${describe(current)}`,
      );
      continue;
    }
    // With several branches of one type (a union of object shapes), one accepting match is enough.
    const attempts = candidates.map((candidate) => compareBranch(old, candidate, path));
    if (!attempts.some((attempt) => attempt.length === 0)) changes.push(...(attempts[0] ?? []));
  }
  return changes;
}

type Branch = JsonSchema & { type: string };

function compareBranch(old: Branch, next: Branch, path: string): string[] {
  const changes: string[] = [];
  const oldValues = allowedValues(old);
  const newValues = allowedValues(next);
  if (newValues !== undefined) {
    if (oldValues === undefined) {
      changes.push(`${field(path)} now only accepts ${newValues.map(show).join(', ')}`);
    } else {
      const removed = oldValues.filter((value) => !newValues.some((kept) => kept === value));
      if (removed.length > 0) changes.push(`${field(path)}: values removed: ${removed.map(show).join(', ')}`);
    }
  }

  for (const keyword of ['pattern', 'format'] as const) {
    if (next[keyword] !== undefined && next[keyword] !== old[keyword]) {
      changes.push(`${field(path)}: ${keyword} changed from ${show(old[keyword])} to ${show(next[keyword])}`);
    }
  }
  changes.push(...compareBounds(old, next, path));

  if (old.type === 'object') changes.push(...compareObjects(old, next, path));
  if (old.type === 'array' && isSchema(old.items) && isSchema(next.items)) {
    changes.push(...compareSchemas(old.items, next.items, `${path}[]`));
  }
  return changes;
}

function compareObjects(old: Branch, next: Branch, path: string): string[] {
  const changes: string[] = [];
  const oldProperties = properties(old);
  const newProperties = properties(next);
  const oldRequired = new Set(required(old));
  const newRequired = new Set(required(next));
  for (const [name, schema] of Object.entries(oldProperties)) {
    const child = join(path, name);
    const replacement = newProperties[name];
    if (replacement === undefined) {
      changes.push(`${field(child)} removed`);
      continue;
    }
    changes.push(...compareSchemas(schema, replacement, child));
    if (newRequired.has(name) && !oldRequired.has(name)) changes.push(`${field(child)} became required`);
  }
  for (const name of Object.keys(newProperties)) {
    if (!(name in oldProperties) && newRequired.has(name))
      changes.push(`required ${field(join(path, name))} added`);
  }
  return changes;
}

type Bound = { value: number; exclusive: boolean };

// Bounds are compared as "lowest (highest) accepted value", so positive() → nonnegative() is a
// loosening even though it swaps exclusiveMinimum for minimum.
function compareBounds(old: Branch, next: Branch, path: string): string[] {
  const changes: string[] = [];
  const integer = old.type === 'integer' && next.type === 'integer';
  const lowers: [string, string, string][] = [
    ['minimum', 'exclusiveMinimum', 'minimum'],
    ['minLength', '', 'minimum length'],
    ['minItems', '', 'minimum number of items'],
  ];
  for (const [inclusive, exclusive, what] of lowers) {
    const before = bound(old, inclusive, exclusive, integer, 1);
    const after = bound(next, inclusive, exclusive, integer, 1);
    if (
      after &&
      (!before ||
        after.value > before.value ||
        (after.value === before.value && after.exclusive && !before.exclusive))
    ) {
      changes.push(`${field(path)}: ${what} raised from ${showBound(before)} to ${showBound(after)}`);
    }
  }
  const uppers: [string, string, string][] = [
    ['maximum', 'exclusiveMaximum', 'maximum'],
    ['maxLength', '', 'maximum length'],
    ['maxItems', '', 'maximum number of items'],
  ];
  for (const [inclusive, exclusive, what] of uppers) {
    const before = bound(old, inclusive, exclusive, integer, -1);
    const after = bound(next, inclusive, exclusive, integer, -1);
    if (
      after &&
      (!before ||
        after.value < before.value ||
        (after.value === before.value && after.exclusive && !before.exclusive))
    ) {
      changes.push(`${field(path)}: ${what} lowered from ${showBound(before)} to ${showBound(after)}`);
    }
  }
  return changes;
}

/** The tighter of an inclusive and an exclusive bound; for integers an exclusive bound becomes the next integer. */
function bound(
  schema: JsonSchema,
  inclusive: string,
  exclusive: string,
  integer: boolean,
  direction: 1 | -1,
): Bound | undefined {
  const found: Bound[] = [];
  if (typeof schema[inclusive] === 'number') found.push({ value: schema[inclusive], exclusive: false });
  if (exclusive !== '' && typeof schema[exclusive] === 'number') {
    const value = schema[exclusive];
    found.push(
      integer
        ? { value: direction === 1 ? Math.floor(value) + 1 : Math.ceil(value) - 1, exclusive: false }
        : { value, exclusive: true },
    );
  }
  return found.reduce<Bound | undefined>((tightest, candidate) => {
    if (!tightest) return candidate;
    const tighter = direction === 1 ? candidate.value > tightest.value : candidate.value < tightest.value;
    const sameButExclusive = candidate.value === tightest.value && candidate.exclusive;
    return tighter || sameButExclusive ? candidate : tightest;
  }, undefined);
}

function branches(schema: JsonSchema): Branch[] {
  const union = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(union)) return union.filter(isSchema).flatMap(branches);
  const { type } = schema;
  if (Array.isArray(type)) return type.map((one) => ({ ...schema, type: String(one) }));
  if (typeof type === 'string') return [{ ...schema, type }];
  const values = allowedValues(schema);
  if (values !== undefined) {
    const kinds = [...new Set(values.map(jsonType))];
    return kinds.map((kind) => ({
      ...schema,
      type: kind,
      enum: values.filter((value) => jsonType(value) === kind),
    }));
  }
  return [{ ...schema, type: 'any' }];
}

function allowedValues(schema: JsonSchema): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function describe(schema: JsonSchema): string {
  return [...new Set(branches(schema).map((branch) => branch.type))].join(' | ');
}

function properties(schema: JsonSchema): Record<string, JsonSchema> {
  return isSchema(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
}

function required(schema: JsonSchema): string[] {
  return Array.isArray(schema.required) ? schema.required.map(String) : [];
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function field(path: string): string {
  return path === '' ? 'payload' : `field "${path}"`;
}

function show(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}

function showBound(value: Bound | undefined): string {
  if (!value) return 'none';
  return value.exclusive ? `more than ${value.value}` : String(value.value);
}
