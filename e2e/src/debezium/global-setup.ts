import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { cdcScriptEnv } from './cdc.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * Vitest global setup of the Debezium project: one PostgreSQL cluster with logical decoding and
 * one Kafka Connect worker for the whole run (each suite registers a connector per scratch
 * database). Both are removed afterwards; the worker's group is new each run, so connectors of
 * an interrupted run are not resurrected from its config topic.
 */
export default function setup(): () => void {
  process.env.TEST_RELAY = 'debezium';
  process.env.TEST_CONNECT_GROUP ??= `order-saga-test-connect-${randomBytes(4).toString('hex')}`;
  const script = (name: string, command: string) =>
    execFileSync('bash', [`${repoRoot}/scripts/${name}`, command], { stdio: 'inherit', env: cdcScriptEnv() });
  script('pg-logical.sh', 'start');
  script('connect.sh', 'start');
  return () => {
    script('connect.sh', 'stop');
    script('pg-logical.sh', 'drop');
  };
}
