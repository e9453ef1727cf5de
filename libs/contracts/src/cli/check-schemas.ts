#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runSchemaCheck } from '../compat/check.js';

// Usage: check-schemas [--update [--allow-breaking]] [--snapshot <path>]
const { values } = parseArgs({
  options: {
    update: { type: 'boolean', default: false },
    'allow-breaking': { type: 'boolean', default: false },
    snapshot: { type: 'string' },
  },
});

const result = runSchemaCheck({
  update: values.update,
  allowBreaking: values['allow-breaking'],
  ...(values.snapshot === undefined ? {} : { snapshotPath: values.snapshot }),
});
const print = result.exitCode === 0 ? console.log : console.error;
for (const line of result.lines) print(line);
process.exitCode = result.exitCode;
