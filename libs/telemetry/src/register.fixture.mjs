// A minimal ESM service for register.int.spec.ts: started with `--import` of the register hook,
// it serves one request that queries PostgreSQL, calls itself once, and prints what it saw.
// Named and default imports on purpose: the loader hook must patch both under ESM.
import http, { get } from 'node:http';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
const server = http.createServer(async (request, response) => {
  const { rows } = await pool.query('SELECT 1 AS one');
  response.end(JSON.stringify({ traceparent: request.headers.traceparent ?? null, one: rows[0].one }));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const reply = await new Promise((resolve, reject) => {
  get({ host: '127.0.0.1', port: server.address().port, path: '/orders/42' }, (response) => {
    let body = '';
    response.on('data', (chunk) => (body += chunk));
    response.on('end', () => resolve(JSON.parse(body)));
  }).on('error', reject);
});
console.log(JSON.stringify(reply));
// Outside any span, like the outbox relay's polls: no trace of its own.
await pool.query('SELECT 2 AS parentless');
await pool.end();

if (process.env.WAIT_FOR_SIGNAL) console.log('ready');
else server.close();
