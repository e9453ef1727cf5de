import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Where integration tests get their real broker and database:
 * - `local`: processes on this machine (Kafka started by `scripts/kafka.sh`, PostgreSQL as it runs);
 * - `containers`: testcontainers, when a Docker engine answers.
 * `auto` (default) picks `containers` if `docker info` succeeds, else `local`.
 * Override with `ORDER_SAGA_TEST_INFRA=local|containers`.
 */
export type InfraMode = 'local' | 'containers';

export const INFRA_MODE_VARIABLE = 'ORDER_SAGA_TEST_INFRA';

export function chooseInfraMode(env: NodeJS.ProcessEnv = process.env): InfraMode {
  const wanted = env[INFRA_MODE_VARIABLE] ?? 'auto';
  if (wanted === 'local' || wanted === 'containers') return wanted;
  if (wanted !== 'auto')
    throw new Error(`${INFRA_MODE_VARIABLE} must be local, containers or auto, got "${wanted}"`);
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 5000 });
    return 'containers';
  } catch {
    return 'local';
  }
}

/** Connection facts the global setup hands to every suite through the environment. */
export interface TestInfra {
  kafkaBrokers: string[];
  /** Superuser URL of the server tests create their scratch databases on. */
  adminDatabaseUrl: string;
}

export function testInfra(env: NodeJS.ProcessEnv = process.env): TestInfra {
  const brokers = env.TEST_KAFKA_BROKERS ?? env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  return {
    kafkaBrokers: brokers.split(','),
    adminDatabaseUrl:
      env.TEST_DATABASE_ADMIN_URL ??
      env.DATABASE_ADMIN_URL ??
      'postgresql://postgres@127.0.0.1:5432/postgres',
  };
}

/** A topic prefix no other suite or earlier run uses, e.g. `t-outbox-1a2b3c.`. */
export function uniqueTopicPrefix(suite: string): string {
  return `t-${suite}-${randomBytes(3).toString('hex')}.`;
}
