import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatorOutput } from './generate.js';
import { READ_SIDE_SERVICES, SERVICES, allSchemas, serviceSchema, workspaceRoot } from './workspace.js';

const read = (path: string) => readFileSync(path, 'utf8');
const model = (schema: string, name: string) =>
  new RegExp(`^model ${name} \\{[^}]*\\}`, 'm').exec(schema)?.[0];

describe('the workspace schemas', () => {
  it('every schema declares the same Outbox and Inbox models, so the messaging libs fit every database', () => {
    // The read side commits its checkpoints with its views: it has neither outbox nor inbox.
    const readSide = new Set(READ_SIDE_SERVICES.map((service) => serviceSchema(service).schemaPath));
    const [first, ...rest] = allSchemas()
      .filter((s) => !readSide.has(s.schemaPath))
      .map((s) => read(s.schemaPath));
    for (const name of ['Outbox', 'Inbox']) {
      expect(model(first!, name)).toBeDefined();
      for (const schema of rest) expect(model(schema, name)).toBe(model(first!, name));
    }
  });

  it('each service generates its client inside its own app, so clients never overwrite each other', () => {
    for (const service of SERVICES) {
      const { schemaPath } = serviceSchema(service);
      expect(relative(workspaceRoot(), generatorOutput(schemaPath, read(schemaPath)))).toBe(
        join('apps', service, 'src', 'generated', 'prisma'),
      );
    }
  });
});
