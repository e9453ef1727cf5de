import type { AddressInfo } from 'node:net';
import { Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleConfig } from './config.js';
import { createConsoleServer, type ConsoleServer } from './server.js';

// No broker is reached by these requests: the Kafka client is never connected.
const kafka = new Kafka({ clientId: 'console-spec', brokers: ['127.0.0.1:9'] });
let console_: ConsoleServer;
let base: string;

beforeAll(async () => {
  const config = loadConsoleConfig({ SERVICE_NAME: 'console', KAFKA_BROKERS: '127.0.0.1:9', KAFKA_TOPIC_PREFIX: 't-run-1.' });
  console_ = createConsoleServer(config, kafka, '/nonexistent');
  await new Promise<void>((resolve) => console_.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(console_.server.address() as AddressInfo).port}`;
});
afterAll(() => console_.close());

describe('the console API for dead letters', () => {
  it('a_topic_name_that_is_not_one_of_its_dead_letter_topics_is_refused_naming_those_it_reads', async () => {
    // The prefix ends with a dot: `${prefix}.inventory.commands.dlt` doubles it.
    const response = await fetch(`${base}/api/dead-letters/t-run-1..inventory.commands.dlt`);
    expect(response.status).toBe(404);
    const { message } = (await response.json()) as { message: string };
    expect(message).toContain('t-run-1..inventory.commands.dlt is not a dead-letter topic of this console');
    expect(message).toContain('t-run-1.inventory.commands.dlt');
  });

  it('replaying_a_dead_letter_without_an_admin_session_is_refused', async () => {
    const response = await fetch(`${base}/api/dead-letters/t-run-1.inventory.commands.dlt/replay`, { method: 'POST' });
    expect(response.status).toBe(401);
  });
});
