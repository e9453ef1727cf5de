import { CompressionTypes, Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import pRetry from 'p-retry';

/** Codecs the relay and the dead-letter producer can use without extra native packages. */
export const compressionCodecs = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as const;
export type CompressionName = keyof typeof compressionCodecs;

/** A kafkajs client with quiet logs; our own logger reports what matters. */
export function createKafka(options: { clientId: string; brokers: string[] } & Partial<KafkaConfig>): Kafka {
  return new Kafka({ logLevel: logLevel.ERROR, ...options });
}

const ensured = new Set<string>();

/**
 * Creates the topics that do not exist yet and waits until every partition has a leader. Topics are
 * created explicitly, with a known partition count, instead of relying on the broker's
 * auto-creation settings, which differ between the local broker and docker-compose. Right after a
 * creation the broker may still answer "does not host this topic-partition": retried.
 */
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions = 3): Promise<void> {
  const missing = topics.filter((t) => !ensured.has(t));
  if (missing.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await pRetry(
      async () => {
        const existing = new Set(await admin.listTopics());
        const toCreate = missing.filter((t) => !existing.has(t));
        if (toCreate.length > 0) {
          await admin
            .createTopics({
              topics: toCreate.map((topic) => ({ topic, numPartitions })),
              waitForLeaders: false,
            })
            .catch((error: unknown) => {
              // Two processes creating the same topic race; the loser's "already exists" is fine.
              if (!String((error as Error).message).includes('already exists')) throw error;
            });
        }
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: missing });
        const leaderless = metadata.filter(
          (t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0),
        );
        if (leaderless.length > 0)
          throw new Error(`no leader yet for ${leaderless.map((t) => t.name).join(', ')}`);
      },
      { retries: 20, minTimeout: 100, maxTimeout: 1000 },
    );
    missing.forEach((t) => ensured.add(t));
  } finally {
    await admin.disconnect();
  }
}
