import { describe, expect, it } from 'vitest';
import { KAFKA_TOPIC_PREFIX, deadLetterTopic, topicName, topics, topicsFor } from './topics.js';

describe('topics', () => {
  it('production names are <service>.commands and <service>.events', () => {
    expect(topics).toEqual({
      inventory: { commands: 'inventory.commands', events: 'inventory.events' },
      payment: { commands: 'payment.commands', events: 'payment.events' },
      shipping: { commands: 'shipping.commands', events: 'shipping.events' },
      order: { events: 'order.events' },
      ledger: { events: 'ledger.events' },
    });
  });

  it('a prefix is prepended to every topic, so test runs never share one', () => {
    const prefixed = topicsFor('t123');
    expect(prefixed.inventory.commands).toBe('t123.inventory.commands');
    expect(prefixed.order.events).toBe('t123.order.events');
    expect(prefixed.ledger.events).toBe('t123.ledger.events');
  });

  it('a prefix that already ends with a dot is not doubled', () => {
    expect(topicName('payment.events', 't123.')).toBe('t123.payment.events');
  });

  it('the dead-letter topic is <topic>.dlt, prefixed or not', () => {
    expect(deadLetterTopic(topics.payment.commands)).toBe('payment.commands.dlt');
    expect(deadLetterTopic(topicsFor('t9').payment.commands)).toBe('t9.payment.commands.dlt');
  });

  it('names the environment variable that carries the prefix', () => {
    expect(KAFKA_TOPIC_PREFIX).toBe('KAFKA_TOPIC_PREFIX');
  });
});
