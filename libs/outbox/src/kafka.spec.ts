import { KafkaJSProtocolError, type Consumer, type ConsumerSubscribeTopics } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { subscribeRetrying } from './kafka.js';

/** A consumer whose subscribe fails with the given errors, in turn, then succeeds. */
function consumerFailing(errors: Error[]): { consumer: Consumer; calls: ConsumerSubscribeTopics[] } {
  const calls: ConsumerSubscribeTopics[] = [];
  const consumer = {
    subscribe: async (subscription: ConsumerSubscribeTopics) => {
      calls.push(subscription);
      const error = errors.shift();
      if (error) throw error;
    },
  } as unknown as Consumer;
  return { consumer, calls };
}

describe('subscribeRetrying', () => {
  it('subscribes again while a broker does not know the new topic yet (retriable)', async () => {
    const unknown = () => new KafkaJSProtocolError('This server does not host this topic-partition');
    const { consumer, calls } = consumerFailing([unknown(), unknown()]);
    await subscribeRetrying(consumer, { topics: ['orders'], fromBeginning: true });
    expect(calls).toHaveLength(3);
  });

  it('gives up at once on an error no retry can cure', async () => {
    const { consumer, calls } = consumerFailing([new Error('topics must be strings')]);
    await expect(subscribeRetrying(consumer, { topics: ['orders'] })).rejects.toThrow(
      'topics must be strings',
    );
    expect(calls).toHaveLength(1);
  });
});
