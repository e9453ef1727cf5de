/**
 * The DBOS peer as a process of its own, like one of our services: `POST /orders` starts the order
 * saga as a workflow whose id is the request's idempotency key (a repeated request starts nothing
 * new) and answers 202 once DBOS has recorded the workflow; DBOS runs it in this process.
 *
 *   PEERS_DATABASE_URL=… DBOS_SYSTEM_DATABASE_URL=… PORT=… node dbos-app.main.js
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { text } from 'node:stream/consumers';
import { DBOS } from '@dbos-inc/dbos-sdk';
import pg from 'pg';
import type { PeerOrder } from '../orders/order-steps.js';
import { registerOrderSaga } from './dbos-saga.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const db = new pg.Pool({ connectionString: env('PEERS_DATABASE_URL'), max: 8 });
// A session the server ends (a restart, a terminated backend) is dropped from the pool; the step
// that was using it fails, and the engine retries or records that.
db.on('error', (error) => console.error(`database session ended: ${error.message}`));
const orderSaga = registerOrderSaga(db);
DBOS.setConfig({
  name: 'order-saga-peer',
  applicationVersion: '0.1.0',
  systemDatabaseUrl: env('DBOS_SYSTEM_DATABASE_URL'),
  logLevel: 'warn',
});
await DBOS.launch();

async function placeOrder(request: IncomingMessage): Promise<{ orderId: string }> {
  const header = request.headers['idempotency-key'];
  const orderId = typeof header === 'string' ? header : randomUUID();
  const body = JSON.parse(await text(request)) as Omit<PeerOrder, 'orderId'>;
  await DBOS.startWorkflow(orderSaga, { workflowID: orderId })({ ...body, orderId });
  return { orderId };
}

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/health') return void response.end('ok');
  if (request.method !== 'POST' || request.url !== '/orders') return void response.writeHead(404).end();
  placeOrder(request).then(
    (placed) => response.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify(placed)),
    (error: unknown) => response.writeHead(500).end(String(error)),
  );
});
server.listen(Number(env('PORT')), '127.0.0.1', () => console.log(`DBOS peer listening on ${env('PORT')}`));

process.once('SIGTERM', () => {
  server.close();
  void DBOS.shutdown()
    .then(() => db.end())
    .finally(() => process.exit(0));
});
