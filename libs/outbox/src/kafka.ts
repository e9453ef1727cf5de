import { createLogger } from '@order-saga/telemetry';
import {
  CompressionTypes,
  Kafka,
  logLevel,
  type ConfigResourceTypes,
  type Consumer,
  type ConsumerSubscribeTopics,
  type KafkaConfig,
  type logCreator,
} from 'kafkajs';
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
      // BrokerPool's "Failed to connect to seed broker, trying another broker" is the same kind of
      // line: the pool retries, and a connect that finally fails reaches the caller.
      if (namespace === 'Connection' || (namespace === 'BrokerPool' && /^Failed to connect/.test(message)))
        logger.debug(line, message);
      else if (level === logLevel.ERROR) logger.error(line, message);
      else if (level === logLevel.WARN) logger.warn(line, message);
      else if (level === logLevel.INFO) logger.info(line, message);
      else logger.debug(line, message);
    };
  };
}

/** A kafkajs client with quiet logs, written as our own lines; our own logger reports what matters. */
export function createKafka(options: { clientId: string; brokers: string[] } & Partial<KafkaConfig>): Kafka {
  return new Kafka({
    logLevel: logLevel.ERROR,
    logCreator: kafkaLogCreator(options.clientId),
    // kafkajs' 1 s connect timeout is hit by a busy host (a deploy starting every service at once),
    // which turns a slow start into a retry storm.
    connectionTimeout: 5_000,
    ...options,
  });
}

/**
 * Default topic retention: 30 days, written down instead of inherited from the broker. Long enough
 * for a projection rebuild or a replay after a bug fix to cover a month of history; older history
 * is archived with `pnpm topics export` (README "Read side", Retention).
 */
export const DEFAULT_TOPIC_RETENTION_HOURS = 720;

/**
 * Longest a segment stays open. Kafka deletes whole segments only, once their NEWEST record is older
 * than the retention, so a record can outlive `retention.ms` by up to one segment's lifetime. With
 * the segment capped at a day, "still on the topic" means at most retention + 24 h: the horizon the
 * inbox retention must cover (see `INBOX_RETENTION_HOURS`).
 */
export const TOPIC_SEGMENT_HOURS = 24;

/** How topics are created by {@link ensureTopics}. */
export interface TopicSettings {
  /** Partitions of a new topic. Default 3. */
  numPartitions?: number;
  /**
   * `retention.ms` of a new topic, in hours (default {@link DEFAULT_TOPIC_RETENTION_HOURS}). Set
   * explicitly so the replay horizon is known to the consumers' inbox retention rather than being
   * whatever the broker's `log.retention.hours` happens to be.
   */
  retentionHours?: number;
  /**
   * Replicas of a new topic. Default: the broker's `default.replication.factor` (kafkajs sends -1),
   * so a topic follows the cluster it is created on: 1 on the single local broker, 3 on a cluster
   * of 3 (scripts/kafka.sh sets both).
   */
  replicationFactor?: number;
}

const ensured = new Set<string>();

/**
 * Creates the topics that do not exist yet and waits until every partition has a leader. Topics are
 * created explicitly, with a known partition count and retention, instead of relying on the broker's
 * auto-creation settings, which differ between the local broker and docker-compose. Right after a
 * creation the broker may still answer "does not host this topic-partition": retried. Existing
 * topics are left as they are.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  settings: number | TopicSettings = {},
): Promise<void> {
  const {
    numPartitions = 3,
    retentionHours = DEFAULT_TOPIC_RETENTION_HOURS,
    replicationFactor = -1,
  } = typeof settings === 'number' ? { numPartitions: settings } : settings;
  const missing = topics.filter((t) => !ensured.has(t));
  if (missing.length === 0) return;
  const retentionMs = retentionHours * 3_600_000;
  const configEntries = [
    { name: 'retention.ms', value: String(retentionMs) },
    { name: 'segment.ms', value: String(Math.min(retentionMs, TOPIC_SEGMENT_HOURS * 3_600_000)) },
  ];
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
              topics: toCreate.map((topic) => ({ topic, numPartitions, replicationFactor, configEntries })),
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

/**
 * `consumer.subscribe`, retried while the broker's answer is a retriable error. Brokers learn of a
 * new topic one after the other: on a cluster, the broker a subscribe asks may not know yet a topic
 * that another one just reported with leaders (UNKNOWN_TOPIC_OR_PARTITION), and kafkajs retries a
 * producer's send but not a subscribe. Seen on a 3-broker cluster: a service died at start.
 */
export async function subscribeRetrying(
  consumer: Consumer,
  subscription: ConsumerSubscribeTopics,
): Promise<void> {
  await pRetry(() => consumer.subscribe(subscription), {
    retries: 10,
    minTimeout: 100,
    maxTimeout: 2000,
    shouldRetry: ({ error }) => (error as { retriable?: boolean }).retriable === true,
  });
}

/** The broker's default `message.max.bytes` (1 MiB + 12 bytes of batch overhead). */
export const KAFKA_DEFAULT_MESSAGE_MAX_BYTES = 1_048_588;

/**
 * Reads `message.max.bytes` from one broker of the cluster: the largest record batch it accepts.
 * Returns `undefined` when the broker does not answer (e.g. no DescribeConfigs permission); the
 * caller then falls back to its setting.
 */
export async function brokerMessageMaxBytes(kafka: Kafka): Promise<number | undefined> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    const broker = brokers[0];
    if (!broker) return undefined;
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      // ConfigResourceTypes.BROKER: kafkajs's enum is not importable by name from ES modules.
      resources: [
        { type: 4 as ConfigResourceTypes, name: String(broker.nodeId), configNames: ['message.max.bytes'] },
      ],
    });
    const value = resources[0]?.configEntries.find((e) => e.configName === 'message.max.bytes')?.configValue;
    const bytes = Number(value);
    return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// Errors by which the broker refuses the records themselves: sending the same records again can
// never succeed. Other non-retriable errors (e.g. OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID)
// are about the producer's state, not the records: a new producer sends the same records fine.
const RECORD_REFUSALS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
  'UNSUPPORTED_COMPRESSION_TYPE',
]);

/**
 * Whether the broker refused the produced records for good, so that retrying them can never
 * succeed: too large, invalid, not authorised for the topic, ... Everything else counts as
 * retriable: connection loss, leader moves, timeouts, "retries exhausted" on any of those (kafkajs
 * wraps them in a non-retriable error whose cause is the retriable one, so the root cause decides,
 * not the wrapper), and errors of the producer's own state, which a new producer clears.
 */
export function isPermanentKafkaError(error: unknown): boolean {
  let root = error as { cause?: unknown; type?: string; name?: string } | undefined;
  while (root?.cause && root.cause !== root) root = root.cause as typeof root;
  return root?.name === 'KafkaJSProtocolError' && RECORD_REFUSALS.has(root.type ?? '');
}
