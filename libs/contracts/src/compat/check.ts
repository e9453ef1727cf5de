import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { compareSnapshots } from './compare.js';
import { schemaSnapshot, serializeSnapshot, type SchemaSnapshot } from './snapshot.js';

/** `libs/contracts/schemas.snapshot.json`: the same relative path from `src/compat` and `dist/compat`. */
export const snapshotPath = fileURLToPath(new URL('../../schemas.snapshot.json', import.meta.url));

/** What the schema check was asked to do. */
export interface SchemaCheckOptions {
  /** The committed snapshot; defaults to {@link snapshotPath}. */
  snapshotPath?: string;
  /** The schemas as they are now; defaults to the registry's. */
  current?: SchemaSnapshot;
  /** Rewrite the snapshot when the schemas changed compatibly. */
  update?: boolean;
  /** With `update`, also write a breaking change (after every consumer has moved off the old version). */
  allowBreaking?: boolean;
}

/** The outcome: the process exit code and the lines to print. */
export interface SchemaCheckResult {
  exitCode: 0 | 1;
  lines: string[];
}

/**
 * Checks the current schemas against the committed snapshot. Fails on any breaking change and,
 * without `update`, also when the snapshot is merely out of date, so that CI notices a schema
 * changed without its snapshot.
 */
export function runSchemaCheck(options: SchemaCheckOptions = {}): SchemaCheckResult {
  const path = options.snapshotPath ?? snapshotPath;
  const current = options.current ?? schemaSnapshot();
  if (!existsSync(path) && !options.update) {
    return { exitCode: 1, lines: [`No snapshot at ${path}: run \`pnpm contracts:snapshot\` and commit it.`] };
  }
  // A first `--update` starts from nothing: every message is new, so nothing can break.
  const committed = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as SchemaSnapshot) : {};
  const breaking = compareSnapshots(committed, current);
  const count = Object.values(current).reduce((sum, versions) => sum + Object.keys(versions).length, 0);

  if (options.update) {
    if (breaking.length > 0 && !options.allowBreaking) {
      return {
        exitCode: 1,
        lines: [
          'Snapshot NOT updated: these changes break consumers of messages already written.',
          ...breaking.map((change) => `  ${change}`),
          'Register a new version of the message instead, or pass --allow-breaking once no one reads the old one.',
        ],
      };
    }
    writeFileSync(path, serializeSnapshot(current));
    return { exitCode: 0, lines: [`Wrote ${count} message schemas to ${path}`] };
  }

  if (breaking.length > 0) {
    return {
      exitCode: 1,
      lines: [
        `${breaking.length} breaking schema change(s) against ${path}:`,
        ...breaking.map((change) => `  ${change}`),
        'Register a new version of the message instead of changing this one.',
      ],
    };
  }
  if (!isDeepStrictEqual(committed, current)) {
    return {
      exitCode: 1,
      lines: [
        'Schemas changed compatibly but the snapshot is out of date: run `pnpm contracts:snapshot` and commit it.',
      ],
    };
  }
  return { exitCode: 0, lines: [`${count} message schemas match the snapshot.`] };
}
