import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ServiceConfig } from '@order-saga/config';
import { pgTransaction, type PgTx } from '@order-saga/consumer';
import pg from 'pg';

/** The service's node-postgres pool (`pg.Pool`): the hot paths' connections, shared with Prisma. */
export const PG_POOL = Symbol('PG_POOL');

/**
 * One pool per service for every connection it opens to its database except the relay's session:
 * the hot paths' transactions and, through `new PrismaPg(pool)`, Prisma's cold paths. Two pools
 * would double the connections each service holds on a server whose limit is shared.
 */
export function createServicePool(config: ServiceConfig): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: 10,
    // A pool exhausted for this long is an outage; the error ("timeout exceeded when trying to
    // connect") is transient to the consumer, which waits it out.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: config.serviceName,
    // The hot paths' statements are named (PgTx): parsed once per connection, but planned for
    // their parameters on every execution. A generic plan would be cached once per connection, and
    // one made while a table was small (a sequential scan) stays until the next ANALYZE while the
    // table grows (seen in the saga benchmark on databases that started empty: the relay's marks
    // fell ~100 ms behind once a few thousand orders had been placed).
    options: '-c plan_cache_mode=force_custom_plan',
  });
  // An idle connection the server dropped (restart, idle_session_timeout) is an event, not a crash.
  const log = new Logger('DatabasePool');
  pool.on('error', (error) => log.warn(`idle database connection failed: ${error.message}`));
  return pool;
}

/** Ends the pool after everything that uses it (consumer, HTTP, Prisma) has stopped. */
@Injectable()
export class DatabasePoolCloser implements OnApplicationShutdown {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

/**
 * Runs work in one node-postgres transaction, rolled back after its timeout: `POST /orders`, the
 * deadline sweep and every other request path that is hot. The consumer's handlers get theirs from
 * the inbox transport, which runs on the same pool.
 */
@Injectable()
export class Transactions {
  private readonly runner: ReturnType<typeof pgTransaction>;

  constructor(@Inject(PG_POOL) pool: pg.Pool) {
    this.runner = pgTransaction(pool);
  }

  run<T>(work: (tx: PgTx) => Promise<T>, { timeoutMs = 5_000 }: { timeoutMs?: number } = {}): Promise<T> {
    return this.runner(work, { timeoutMs });
  }
}
