import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testInfra } from '@order-saga/testing';
import { describe, expect, it } from 'vitest';

// In a child process of its own: kafkajs must run on Node's own timers and warnings, which a test
// worker's globals do not reach. The built module, as the services load it.
const kafkaModule = fileURLToPath(new URL('../dist/kafka.js', import.meta.url));
const idleClient = `
  const { createKafka } = await import(${JSON.stringify(kafkaModule)});
  const warnings = [];
  process.on('warning', (warning) => warnings.push(warning.name));
  const negativeDelays = [];
  const setTimeoutOf = globalThis.setTimeout;
  globalThis.setTimeout = (fn, delay, ...args) => {
    if (delay < 0) negativeDelays.push(delay);
    return setTimeoutOf(fn, delay, ...args);
  };
  const admin = createKafka({ clientId: 'kafka-int', brokers: process.env.BROKERS.split(',') }).admin();
  await admin.connect();
  await admin.listTopics();
  await new Promise((resolve) => setTimeoutOf(resolve, 200));
  await admin.disconnect();
  console.log(JSON.stringify({ warnings, negativeDelays: negativeDelays.length }));
`;

describe('createKafka', () => {
  it('an idle client arms no timer with a negative delay (no TimeoutNegativeWarning, no 1 ms loop)', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--input-type=module', '-e', idleClient],
        { env: { ...process.env, BROKERS: testInfra().kafkaBrokers.join(','), LOG_LEVEL: 'silent' } },
        (error, out) => (error ? reject(error) : resolve(out)),
      ),
    );
    // Each answered request used to re-arm the request queue's check at (-1 - Date.now()) ms,
    // which Node turns into 1 ms, forever.
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({ warnings: [], negativeDelays: 0 });
  });
});
