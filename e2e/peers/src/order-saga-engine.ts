import { postgresProcess, removeTopics, SagaSystem } from '@order-saga/e2e/harness';
import { cleanUp, type Engine } from './engine.js';

// As in bench:saga: the order service's backpressure bounds would shed load at saturation and cap
// the figure being measured.
const BACKPRESSURE_BOUNDS = { ORDER_MAX_SAGAS_IN_FLIGHT: '1000000', ORDER_MAX_UNPUBLISHED_OUTBOX: '1000000' };

/** order-saga itself: the four services on their scratch databases and topics, driven through its HTTP API as `bench:saga` does. */
export async function startOrderSaga(): Promise<Engine> {
  const system = await SagaSystem.start('peers', BACKPRESSURE_BOUNDS);
  const names = [...system.databases.values()].map((db) => db.name);
  return {
    name: 'order-saga',
    orders: system.db('order'),
    databases: names,
    placeOrder: (body, key) => system.placeOrder(body, key),
    query: (tables, sql) => system.query(tables, sql),
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
