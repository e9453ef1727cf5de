import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkaInboxTransport } from './inbox.transport.js';

const options = { consumerName: 'inventory', kafka: {} as Kafka, transaction: async () => undefined as never };

describe('KafkaInboxTransport settings', () => {
  it('refuses a transaction timeout that is not shorter than the session timeout', () => {
    expect(() => new KafkaInboxTransport({ ...options, transactionTimeoutMs: 30_000 })).toThrow(
      /transactionTimeoutMs \(30000\) must be shorter than sessionTimeoutMs \(10000\)/,
    );
    expect(() => new KafkaInboxTransport({ ...options, transactionTimeoutMs: 6000, sessionTimeoutMs: 6000 })).toThrow();
  });

  it('accepts its defaults and a transaction timeout below the session timeout', () => {
    expect(() => new KafkaInboxTransport(options)).not.toThrow();
    expect(() => new KafkaInboxTransport({ ...options, transactionTimeoutMs: 1500, sessionTimeoutMs: 6000 })).not.toThrow();
  });
});
