import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prometheus-text.js';

describe('parsePrometheusText', () => {
  it('reads a histogram without labels written count and sum first, as OpenTelemetry writes it', () => {
    const text = [
      '# HELP outbox_publish_batch_size Rows per produce request of the relay',
      '# TYPE outbox_publish_batch_size histogram',
      'outbox_publish_batch_size_count 3',
      'outbox_publish_batch_size_sum 12',
      'outbox_publish_batch_size_bucket{le="1"} 1',
      'outbox_publish_batch_size_bucket{le="10"} 3',
      'outbox_publish_batch_size_bucket{le="+Inf"} 3',
      '# HELP up Whether the target answers',
      '# TYPE up gauge',
      'up 1',
      '',
    ].join('\n');

    const [histogram, gauge] = parsePrometheusText(text);

    expect(histogram).toMatchObject({
      name: 'outbox_publish_batch_size',
      type: 'HISTOGRAM',
      metrics: [{ count: '3', sum: '12', buckets: { '1': '1', '10': '3', '+Inf': '3' } }],
    });
    expect(gauge).toMatchObject({ name: 'up', type: 'GAUGE', metrics: [{ value: '1' }] });
  });
});
