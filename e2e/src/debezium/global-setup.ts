import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createKafka } from '@order-saga/outbox';
import { testInfra } from '@order-saga/testing';
import { cdcScriptEnv } from './cdc.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Vitest global setup of the Debezium project: one PostgreSQL cluster with logical decoding and
 * one Kafka Connect worker for the whole run (each suite registers a connector per scratch
 * database). Both are removed afterwards; the worker's group is new each run, so connectors of
 * an interrupted run are not resurrected from its config topic.
 */
export default function setup(): () => Promise<void> {
  process.env.TEST_RELAY = 'debezium';
  process.env.TEST_CONNECT_GROUP ??= `order-saga-test-connect-${randomBytes(4).toString('hex')}`;
  const script = (name: string, command: string) =>
    execFileSync('bash', [`${repoRoot}/scripts/${name}`, command], { stdio: 'inherit', env: cdcScriptEnv() });
  script('pg-logical.sh', 'start');
  script('connect.sh', 'start');
  return async () => {
    script('connect.sh', 'stop');
    script('pg-logical.sh', 'drop');
    // The worker group's config, offset and status topics are this run's alone.
    const group = process.env.TEST_CONNECT_GROUP!;
    const admin = createKafka({ clientId: 'cdc-teardown', brokers: testInfra().kafkaBrokers }).admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${group}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
  };
}
