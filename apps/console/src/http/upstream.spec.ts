import { describe, expect, it } from 'vitest';
import { metricSamples } from './upstream.js';

describe('metric samples', () => {
  it('reads_the_named_families_with_their_labels', () => {
    const text = [
      '# HELP outbox_unpublished_rows rows not yet published',
      'outbox_unpublished_rows{service="order"} 12',
      'consumer_lag_messages{group="order",topic="payment.events",partition="0"} 3',
      'process_cpu_seconds_total 1.5',
    ].join('\n');
    expect(metricSamples(text, ['outbox_unpublished_rows', 'consumer_lag_messages'])).toEqual([
      { name: 'outbox_unpublished_rows', labels: { service: 'order' }, value: 12 },
      { name: 'consumer_lag_messages', labels: { group: 'order', topic: 'payment.events', partition: '0' }, value: 3 },
    ]);
  });
});
