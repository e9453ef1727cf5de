import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DLT_HEADERS } from '@order-saga/consumer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic, scenario, type Scenario } from './scenario.js';

const dltCli = fileURLToPath(new URL('../../../libs/consumer/dist/cli/dlt.cli.js', import.meta.url));
const run = promisify(execFile);

describe('dead-letter replay and the inbox retention', () => {
  let s: Scenario;
  const dlt = (env: Record<string, string>, ...args: string[]) =>
    run(process.execPath, [dltCli, ...args], {
      env: { ...process.env, KAFKA_BROKERS: s.brokers.join(','), KAFKA_TOPIC_PREFIX: s.prefix, ...env },
    });

  /** A dead letter as the consumer writes it, for a message created `hoursAgo` hours ago. */
  const deadLetter = (id: string, hoursAgo: number) => {
    const at = new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
    return {
      key: 'agg-h',
      value: JSON.stringify({ aggregateId: 'agg-h', seq: 1 }),
      headers: {
        id,
        type: 'LedgerEntryRecorded',
        'schema-version': '1',
        'occurred-at': at,
        'aggregate-type': 'ledger',
        'correlation-id': 'horizon-test',
        [DLT_HEADERS.originalTopic]: s.topic,
        [DLT_HEADERS.originalPartition]: '0',
        [DLT_HEADERS.originalOffset]: '0',
        [DLT_HEADERS.consumer]: 'ledger',
        [DLT_HEADERS.errorClass]: 'LedgerFault',
        [DLT_HEADERS.errorMessage]: 'test',
        [DLT_HEADERS.attempts]: '3',
        [DLT_HEADERS.firstFailureAt]: at,
        [DLT_HEADERS.lastFailureAt]: at,
      },
    };
  };
  const oldId = '0190f5a0-0000-7000-8000-0000000000a1';
  const newId = '0190f5a0-0000-7000-8000-0000000000a2';

  beforeAll(async () => {
    s = await scenario('dlthorizon');
    const producer = s.kafka.producer();
    await producer.connect();
    await producer.send({ topic: s.dlt, messages: [deadLetter(oldId, 3), deadLetter(newId, 0.5)] });
    await producer.disconnect();
  });
  afterAll(async () => {
    await s?.dispose();
  });

  it('refuses to replay a message older than the inbox retention, with the reason, and replays nothing', async () => {
    const attempt = dlt({ INBOX_RETENTION_HOURS: '2' }, 'replay', '--topic', s.topic, '--all');
    await expect(attempt).rejects.toMatchObject({
      code: 3,
      stderr: expect.stringMatching(
        /refused: 1 of 2 message\(s\) are older than the inbox retention \(INBOX_RETENTION_HOURS=2 h\)[\s\S]*0190f5a0-0000-7000-8000-0000000000a1/,
      ),
    });
    // Only within the horizon: replayed.
    const { stdout } = await dlt(
      { INBOX_RETENTION_HOURS: '2' },
      'replay',
      '--topic',
      s.topic,
      '--message-id',
      newId,
    );
    expect(stdout).toMatch(/1 message\(s\) replayed/);
    const onTopic = await readTopic(s.kafka, s.topic, (m) => m.some((x) => x.id === newId));
    expect(onTopic.map((m) => m.id)).toEqual([newId]);
  });
});
