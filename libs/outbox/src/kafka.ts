import { createLogger } from '@order-saga/telemetry';
import { CompressionTypes, Kafka, logLevel, type KafkaConfig, type logCreator } from 'kafkajs';
import pRetry from 'p-retry';

/** Codecs the relay and the dead-letter producer can use without extra native packages. */
export const compressionCodecs = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP } as const;
export type CompressionName = keyof typeof compressionCodecs;

/**
 * kafkajs's lines in our log format (service, JSON or pretty). kafkajs's connection logs each
 * failure at ERROR (a broker's error response, "coordinator is loading", "not the leader" while a
 * new topic settles, a connect that timed out) and then rejects the caller's request with the same
 * error; the caller retries it or reports it. Those lines go to debug, so a normal start logs no
 * error, and what our code decides about the failure is what is logged.
 */
function kafkaLogCreator(clientId: string): logCreator {
  return () => {
    const logger = createLogger({ service: process.env['SERVICE_NAME'] ?? clientId }).child({
      context: 'kafkajs',
    });
    return ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, ...fields } = log;
      const line = { namespace, ...fields };
      if (namespace === 'Connection') logger.debug(line, message);
      else if (level === logLevel.ERROR) logger.error(line, message);
      else if (level === logLevel.WARN) logger.warn(line, message);
      else if (level === logLevel.INFO) logger.info(line, message);
      else logger.debug(line, message);
    };
  };
}

/** A kafkajs client with quiet logs, written as our own lines; our own logger reports what matters. */
export function createKafka(options: { clientId: string; brokers: string[] } & Partial<KafkaConfig>): Kafka {
  return new Kafka({ logLevel: logLevel.ERROR, logCreator: kafkaLogCreator(options.clientId), ...options });
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
