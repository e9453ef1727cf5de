import { execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chooseInfraMode } from './infra.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 1000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/**
 * Vitest global setup: makes sure a broker and a database answer before any suite starts, and
 * publishes where they are through the environment (inherited by the test workers).
 */
export default async function setup(): Promise<() => Promise<void>> {
  const mode = chooseInfraMode();
  if (mode === 'containers') {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    // Confluent Platform 8.1 is Apache Kafka 4.1, the version the local script runs.
    const kafka = await new KafkaContainer('confluentinc/cp-kafka:8.1.0').withKraft().start();
    const postgres = await new PostgreSqlContainer('postgres:15').start();
    process.env.TEST_KAFKA_BROKERS = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
    process.env.TEST_DATABASE_ADMIN_URL = postgres.getConnectionUri();
    return async () => {
      await kafka.stop();
      await postgres.stop();
    };
  }
  const port = Number(process.env.KAFKA_PORT ?? 9092);
  if (!(await reachable('127.0.0.1', port))) {
    execFileSync('bash', [`${repoRoot}/scripts/kafka.sh`, 'start'], { stdio: 'inherit' });
  }
  if (!(await reachable('127.0.0.1', 5432))) {
    throw new Error('PostgreSQL is not reachable at 127.0.0.1:5432; start it (see README, Requirements)');
  }
  process.env.TEST_KAFKA_BROKERS ??= `127.0.0.1:${port}`;
  return async () => {};
}
