import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSchemaCheck, snapshotPath } from './check.js';
import { compareSnapshots } from './compare.js';
import { schemaSnapshot, serializeSnapshot, type SchemaSnapshot } from './snapshot.js';

const committed = (): SchemaSnapshot => JSON.parse(readFileSync(snapshotPath, 'utf8')) as SchemaSnapshot;

/** A copy of the committed snapshot with one field of one message deleted. */
function withoutField(snapshot: SchemaSnapshot, type: string, fieldName: string): SchemaSnapshot {
  const copy = structuredClone(snapshot);
  const schema = copy[type]!['1']! as { properties: Record<string, unknown>; required: string[] };
  delete schema.properties[fieldName];
  schema.required = schema.required.filter((name) => name !== fieldName);
  return copy;
}

function tempSnapshot(snapshot: SchemaSnapshot): string {
  const path = join(mkdtempSync(join(tmpdir(), 'contracts-')), 'schemas.snapshot.json');
  writeFileSync(path, serializeSnapshot(snapshot));
  return path;
}

describe('committed schema snapshot', () => {
  // Compared as data, not bytes, so a formatter reflowing the file is not a schema change.
  it('equals the current schemas (run `pnpm contracts:snapshot` after a compatible change)', () => {
    expect(committed()).toStrictEqual(schemaSnapshot());
  });

  it('a field removed from a snapshotted schema fails the check', () => {
    const changes = compareSnapshots(committed(), withoutField(committed(), 'PaymentCharged', 'amount'));
    expect(changes).toEqual(['PaymentCharged v1: field "amount" removed']);
  });
});

describe('check-schemas command', () => {
  it('passes when the schemas match the snapshot', () => {
    expect(runSchemaCheck({ snapshotPath: tempSnapshot(schemaSnapshot()) })).toEqual({
      exitCode: 0,
      lines: ['21 message schemas match the snapshot.'],
    });
  });

  it('exits 1 and names each breaking change', () => {
    const current = withoutField(schemaSnapshot(), 'OrderPlaced', 'shippingAddress');
    const result = runSchemaCheck({ snapshotPath: tempSnapshot(schemaSnapshot()), current });
    expect(result.exitCode).toBe(1);
    expect(result.lines).toContain('  OrderPlaced v1: field "shippingAddress" removed');
  });

  it('exits 1 when a compatible change was not snapshotted', () => {
    const previous = withoutField(schemaSnapshot(), 'LedgerEntryRecorded', 'note');
    const result = runSchemaCheck({ snapshotPath: tempSnapshot(previous) });
    expect(result.exitCode).toBe(1);
    expect(result.lines[0]).toMatch(/snapshot is out of date/);
  });

  it('--update writes a compatible change', () => {
    const path = tempSnapshot(withoutField(schemaSnapshot(), 'LedgerEntryRecorded', 'note'));
    expect(runSchemaCheck({ snapshotPath: path, update: true }).exitCode).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(serializeSnapshot(schemaSnapshot()));
  });

  it('--update refuses a breaking change unless told it is deliberate', () => {
    const path = tempSnapshot(schemaSnapshot());
    const current = withoutField(schemaSnapshot(), 'PaymentCharged', 'amount');
    const refused = runSchemaCheck({ snapshotPath: path, current, update: true });
    expect(refused.exitCode).toBe(1);
    expect(readFileSync(path, 'utf8')).toBe(serializeSnapshot(schemaSnapshot()));

    expect(runSchemaCheck({ snapshotPath: path, current, update: true, allowBreaking: true }).exitCode).toBe(
      0,
    );
    expect(readFileSync(path, 'utf8')).toBe(serializeSnapshot(current));
  });
});
