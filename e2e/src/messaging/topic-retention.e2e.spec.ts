import { createKafka, ensureTopics } from '@order-saga/outbox';
import { testInfra, uniqueTopicPrefix } from '@order-saga/testing';
import { describe, expect, it } from 'vitest';

describe('topics the services create', () => {
  it('carry an explicit retention (30 days unless told) and daily segments: the replay horizon is known', async () => {
    const kafka = createKafka({ clientId: 'test-retention', brokers: testInfra().kafkaBrokers });
    const prefix = uniqueTopicPrefix('retention');
    const [byDefault, twoDays] = [`${prefix}default`, `${prefix}two-days`];
    await ensureTopics(kafka, [byDefault]);
    await ensureTopics(kafka, [twoDays], { retentionHours: 48 });

    const admin = kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        // 2 = ConfigResourceTypes.TOPIC (not importable by name from ES modules).
        resources: [byDefault, twoDays].map((name) => ({
          type: 2,
          name,
          configNames: ['retention.ms', 'segment.ms'],
        })),
      });
      const configs = Object.fromEntries(
        resources.map((r) => [
          r.resourceName,
          Object.fromEntries(r.configEntries.map((e) => [e.configName, e.configValue])),
        ]),
      );
      expect(configs[byDefault]).toEqual({
        'retention.ms': String(720 * 3_600_000),
        'segment.ms': String(24 * 3_600_000),
      });
      expect(configs[twoDays]).toEqual({
        'retention.ms': String(48 * 3_600_000),
        'segment.ms': String(24 * 3_600_000),
      });
    } finally {
      await admin.deleteTopics({ topics: [byDefault, twoDays] }).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
