import { z } from 'zod';
import { messageSpecs, type MessageSpec } from '../registry.js';

/** A JSON Schema document, as `z.toJSONSchema` produces it. */
export type JsonSchema = { [keyword: string]: unknown };

/** For every message type, for every version: the JSON Schema of its payload. */
export type SchemaSnapshot = Record<string, Record<string, JsonSchema>>;

/**
 * The JSON Schema of every registered message version, sorted by type then version so the
 * committed file diffs cleanly. Schemas describe what a consumer accepts (zod's input side).
 */
export function schemaSnapshot(specs: readonly MessageSpec[] = messageSpecs): SchemaSnapshot {
  const sorted = [...specs].sort((a, b) => a.type.localeCompare(b.type) || a.schemaVersion - b.schemaVersion);
  const snapshot: SchemaSnapshot = {};
  for (const spec of sorted) {
    (snapshot[spec.type] ??= {})[String(spec.schemaVersion)] = z.toJSONSchema(spec.schema, {
      io: 'input',
    }) as JsonSchema;
  }
  return snapshot;
}

/** The snapshot as it is written to `schemas.snapshot.json`. */
export function serializeSnapshot(snapshot: SchemaSnapshot): string {
  return `${JSON.stringify(snapshot, null, 2)}\n`;
}
