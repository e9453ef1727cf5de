import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findProcesses, postgresProcess, removeTopics, SagaSystem } from '@order-saga/e2e/harness';
import { cleanUp, type Engine } from './engine.js';

// As in bench:saga: the order service's backpressure bounds would shed load at saturation and cap
// the figure being measured.
const BACKPRESSURE_BOUNDS = { ORDER_MAX_SAGAS_IN_FLIGHT: '1000000', ORDER_MAX_UNPUBLISHED_OUTBOX: '1000000' };

/** The local broker's log directory, from the properties file its command line names; null if not found. */
async function kafkaLogDir(): Promise<string | null> {
  try {
    const brokers = await findProcesses(({ cmdline }) => (cmdline.includes('kafka.Kafka') ? 'broker' : null));
    const pid = brokers.get('broker')?.[0];
    if (pid === undefined) return null;
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    // kafka.Kafka <server.properties>: the one argument that is a properties file and no JVM option.
    const properties = args.filter((arg) => arg.endsWith('.properties') && !arg.startsWith('-')).at(-1);
    if (!properties) return null;
    return /^log\.dirs=([^,\n]+)/m.exec(await readFile(properties, 'utf8'))?.[1] ?? null;
  } catch {
    return null; // a broker elsewhere, or not ours to read: the figure is left out
  }
}

/** Bytes in the log segments of the topics named `<prefix>…` (index files are preallocated: left out). */
async function topicBytes(logDir: string, prefix: string): Promise<number> {
  let bytes = 0;
  for (const partition of (await readdir(logDir)).filter((name) => name.startsWith(prefix)))
    for (const file of (await readdir(join(logDir, partition))).filter((name) => name.endsWith('.log')))
      bytes += (await stat(join(logDir, partition, file))).size;
  return bytes;
}

/** order-saga itself: the four services on their scratch databases and topics, driven through its HTTP API as `bench:saga` does. */
export async function startOrderSaga(): Promise<Engine> {
  // The broker is shared: only our topics' own logs are ours to count.
  const logDir = await kafkaLogDir();
  const system = await SagaSystem.start('peers', BACKPRESSURE_BOUNDS);
  const names = [...system.databases.values()].map((db) => db.name);
  return {
    name: 'order-saga',
    orders: system.db('order'),
    databases: names,
    placeOrder: (body, key) => system.placeOrder(body, key),
    query: (tables, sql) => system.query(tables, sql),
    ...(logDir ? { storageBytes: () => topicBytes(logDir, system.prefix) } : {}),
    classify: ({ ppid, cmdline }) => {
      if (ppid === process.pid && /apps\/\w+\/dist\/main\.js/.test(cmdline)) return 'Node';
      if (postgresProcess(cmdline, names)) return 'PostgreSQL';
      return cmdline.includes('kafka.Kafka') ? 'Kafka' : null;
    },
    stop: () =>
      cleanUp(
        () => system.stop(),
        () => removeTopics(system.prefix),
      ),
  };
}
