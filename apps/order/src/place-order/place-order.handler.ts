import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { PgTx } from '@order-saga/consumer';
import { CONFIG, Transactions, type ServiceConfig } from '@order-saga/platform';
import { currentMessageContext, runWithMessageContext } from '@order-saga/telemetry';
import { v7 as uuidv7 } from 'uuid';
import type { IdempotencyKey, Product } from '../generated/prisma/client.js';
import { SagaStore } from '../infra/saga.store.js';
import { startSaga, type SagaPolicy } from '../saga/order.saga.js';
import { SAGA_POLICY } from '../saga/saga-policy.js';
import { acceptedResponse, type PlaceOrderAccepted, type PlaceOrderRequest } from './place-order.request.js';
import { priceOrder, type Pricing } from './pricing.js';
import { requestHash } from './request-hash.js';

export type PlaceOrderOutcome =
  | { kind: 'accepted'; response: PlaceOrderAccepted; replayed: boolean }
  | { kind: 'key-reused' }
  | Exclude<Pricing, { kind: 'priced' }>;

/** Place an order, at most once per idempotency key. */
export class PlaceOrder extends Command<PlaceOrderOutcome> {
  constructor(
    readonly idempotencyKey: string,
    readonly request: PlaceOrderRequest,
  ) {
    super();
  }
}

/** Thrown inside the transaction to roll it back (the key row included) and answer `outcome`. */
class Refused extends Error {
  constructor(readonly outcome: PlaceOrderOutcome) {
    super(outcome.kind);
  }
}

@CommandHandler(PlaceOrder)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrder> {
  constructor(
    private readonly transactions: Transactions,
    private readonly sagas: SagaStore,
    @Inject(SAGA_POLICY) private readonly policy: SagaPolicy,
    @Inject(CONFIG) private readonly config: ServiceConfig,
  ) {}

  async execute(command: PlaceOrder): Promise<PlaceOrderOutcome> {
    // The HTTP middleware normally opens the correlation context; a command sent from anywhere
    // else gets one here, so OrderPlaced and ReserveStock share one correlation id.
    const correlationId = currentMessageContext()?.correlationId;
    if (correlationId) return this.place(command, correlationId);
    const fresh = uuidv7();
    return runWithMessageContext({ correlationId: fresh }, () => this.place(command, fresh));
  }

  private async place(
    { idempotencyKey, request }: PlaceOrder,
    correlationId: string,
  ): Promise<PlaceOrderOutcome> {
    const hash = requestHash(request);
    try {
      // Read committed (what BEGIN opens) is what makes the twin's wait work: after the first
      // request commits, the twin's next statement sees the stored answer. Under repeatable read
      // the twin's insert would fail with a serialization error instead. The timeout is long
      // enough for a burst of retries on one key to queue behind the first.
      return await this.transactions.run(
        async (tx) => {
          const orderId = uuidv7();
          const response = acceptedResponse(orderId);
          const { claimed, prices } = await claim(
            { key: idempotencyKey, requestHash: hash, orderId, response },
            request.items.map((item) => item.sku),
            this.config.idempotencyKeyTtlHours,
            tx,
          );
          if (!claimed) return replay(idempotencyKey, hash, tx);

          const pricing = priceOrder(request.items, new Map(prices.map((p) => [p.sku, p.price])));
          if (pricing.kind !== 'priced') throw new Refused(pricing);
          const { customerId, shippingAddress: address } = request;
          const items = pricing.lines.map(({ sku, quantity }) => ({ sku, quantity }));
          const now = new Date();
          const decision = startSaga(
            orderId,
            { customerId, total: pricing.total, items, address },
            now,
            this.policy,
          );
          // The order, its lines, its saga and history in one statement; the messages in another.
          await this.sagas.start(decision, { correlationId, lines: pricing.lines }, tx, now);
          return { kind: 'accepted', response, replayed: false };
        },
        { timeoutMs: 10_000 },
      );
    } catch (error) {
      if (error instanceof Refused) return error.outcome;
      throw error;
    }
  }
}

/**
 * Claims the idempotency key for this request and reads the prices of its skus, in one statement.
 *
 * The key row comes first. A twin request with the same key blocks on this row's unique index
 * until we commit, then finds the key taken (`claimed` false) and reads our answer in its next
 * statement; if we roll back (an unknown sku), the twin's insert goes through and it proceeds as
 * if it were first. A key older than IDEMPOTENCY_KEY_TTL_HOURS is taken over: the request is a new
 * one.
 */
async function claim(
  key: Pick<IdempotencyKey, 'key' | 'requestHash' | 'orderId'> & { response: PlaceOrderAccepted },
  skus: string[],
  ttlHours: number,
  tx: PgTx,
): Promise<{ claimed: boolean; prices: Pick<Product, 'sku' | 'price'>[] }> {
  const [row] = await tx.query<{ claimed: boolean; prices: Pick<Product, 'sku' | 'price'>[] }>(
    `WITH claimed AS (
       INSERT INTO idempotency_key (key, request_hash, order_id, response)
       VALUES ($1, $2, $3::uuid, $4::jsonb)
       ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
         order_id = EXCLUDED.order_id, response = EXCLUDED.response, created_at = now()
         WHERE idempotency_key.created_at < now() - make_interval(hours => $5::int)
       RETURNING key)
     SELECT EXISTS (SELECT 1 FROM claimed) AS claimed,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('sku', sku, 'price', price)), '[]'::jsonb)
               FROM product WHERE sku = ANY($6::text[])) AS prices`,
    [key.key, key.requestHash, key.orderId, JSON.stringify(key.response), ttlHours, skus],
  );
  return row!;
}

async function replay(key: string, hash: string, tx: PgTx): Promise<PlaceOrderOutcome> {
  const [stored] = await tx.query<Pick<IdempotencyKey, 'requestHash' | 'response'>>(
    'SELECT request_hash AS "requestHash", response FROM idempotency_key WHERE key = $1',
    [key],
  );
  if (!stored) throw new Error(`idempotency key ${key} was taken but is not stored`);
  if (stored.requestHash !== hash) return { kind: 'key-reused' };
  return { kind: 'accepted', response: stored.response as PlaceOrderAccepted, replayed: true };
}
