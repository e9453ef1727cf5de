import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { createKafka } from '@order-saga/outbox';
import { testInfra, waitFor } from '@order-saga/testing';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Where the Debezium suite's infrastructure lives: its own logical-decoding cluster and Connect
 * worker, apart from what `./scripts/start --relay debezium` runs (5442, 8083), so tests never
 * touch a developer's connectors.
 */
export const cdcTestInfra = {
  pgPort: 5443,
  pgCluster: 'order_saga_cdc_test',
  connectPort: 8093,
  connectRunDir: `${repoRoot}.run/connect-test`,
} as const;

/** Which relay publishes the outbox in this test run: the Debezium project sets `TEST_RELAY`. */
export function relayMode(): 'inprocess' | 'debezium' {
  return process.env.TEST_RELAY === 'debezium' ? 'debezium' : 'inprocess';
}

/** Admin connection of the server scratch databases go to: the logical-decoding one in Debezium mode. */
export function scratchAdminUrl(): string {
  return relayMode() === 'debezium'
    ? `postgresql://postgres@127.0.0.1:${cdcTestInfra.pgPort}/postgres`
    : testInfra().adminDatabaseUrl;
}

/** The environment scripts/connect.sh and scripts/pg-logical.sh need to find the test instances. */
export function cdcScriptEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PG_LOGICAL_PORT: String(cdcTestInfra.pgPort),
    PG_LOGICAL_CLUSTER: cdcTestInfra.pgCluster,
    CONNECT_PORT: String(cdcTestInfra.connectPort),
    CONNECT_RUN_DIR: cdcTestInfra.connectRunDir,
    CONNECT_GROUP: process.env.TEST_CONNECT_GROUP ?? 'order-saga-test-connect',
    KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
  };
}

/** Runs scripts/connect.sh with the test instances' settings. */
export async function connectScript(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [`${repoRoot}/scripts/connect.sh`, ...args], {
    env: cdcScriptEnv(),
    timeout: 180_000,
  });
  return stdout;
}

/**
 * Starts Debezium capture of one database's outbox, the way `./scripts/start --relay debezium`
 * does (scripts/connect.sh register), and returns when the connector streams. The returned
 * function deletes the connector and its replication slot (the database cannot be dropped
 * while the slot exists).
 */
export async function captureOutbox(database: string): Promise<() => Promise<void>> {
  await connectScript('register', database);
  return async () => {
    await connectScript('unregister', database);
    // Debezium's heartbeat topic is named after the connector's topic.prefix: cdc.<database>.
    const admin = createKafka({ clientId: 'cdc-cleanup', brokers: testInfra().kafkaBrokers }).admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [`__debezium-heartbeat.cdc.${database}`] }).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
  };
}

/** kill -9 of the test Connect worker: no shutdown, no last offset flush. */
export async function killConnect(): Promise<void> {
  const pid = Number(readFileSync(`${cdcTestInfra.connectRunDir}/connect.pid`, 'utf8'));
  process.kill(pid, 'SIGKILL');
  await waitFor(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    { timeoutMs: 10_000, message: () => `Connect worker ${pid} survived SIGKILL` },
  );
}

/** Starts the test Connect worker again; its connectors come back from the group's config topic. */
export async function startConnect(): Promise<void> {
  await connectScript('start');
}

/** Admin URL of the Debezium suite's logical-decoding cluster. */
export function cdcAdminUrl(): string {
  return `postgresql://postgres@127.0.0.1:${cdcTestInfra.pgPort}/postgres`;
}

/**
 * Pauses or resumes one database's connector (Connect's REST API) and returns once the connector
 * and its task report the new state: Connect answers the request at once and the task stops
 * polling a moment later (seen: one of slot-lag's orders moved after the pause was only requested).
 */
export async function setConnectorState(database: string, state: 'pause' | 'resume'): Promise<void> {
  const url = `http://127.0.0.1:${cdcTestInfra.connectPort}/connectors/outbox-${database}`;
  const response = await fetch(`${url}/${state}`, { method: 'PUT' });
  if (!response.ok) throw new Error(`${state} outbox-${database}: HTTP ${response.status}`);
  const wanted = state === 'pause' ? 'PAUSED' : 'RUNNING';
  let seen = '';
  await waitFor(
    async () => {
      const status = (await (await fetch(`${url}/status`)).json()) as {
        connector: { state: string };
        tasks: { state: string }[];
      };
      seen = JSON.stringify(status);
      return (
        status.connector.state === wanted &&
        status.tasks.length > 0 &&
        status.tasks.every((t) => t.state === wanted)
      );
    },
    { timeoutMs: 30_000, intervalMs: 100, message: () => `outbox-${database} not ${wanted}: ${seen}` },
  );
}
