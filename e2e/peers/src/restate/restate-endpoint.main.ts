/**
 * The Restate peer's service endpoint: an HTTP/2 server the Restate server calls to run the
 * workflow's handler, replaying its journal. It holds no state of its own.
 *
 *   PEERS_DATABASE_URL=… PORT=… node restate-endpoint.main.js
 */
import * as restate from '@restatedev/restate-sdk';
import pg from 'pg';
import { orderSagaWorkflow } from './restate-saga.js';

const url = process.env.PEERS_DATABASE_URL;
if (!url) throw new Error('PEERS_DATABASE_URL is not set');
const db = new pg.Pool({ connectionString: url, max: 8 });
// A session the server ends (a restart, a terminated backend) is dropped from the pool; the step
// that was using it fails, and the engine retries or records that.
db.on('error', (error) => console.error(`database session ended: ${error.message}`));

const port = await restate.serve({ services: [orderSagaWorkflow(db)], port: Number(process.env.PORT) });
console.log(`Restate endpoint listening on ${port}`);

process.once('SIGTERM', () => void db.end().finally(() => process.exit(0)));
