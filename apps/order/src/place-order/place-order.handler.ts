import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CONFIG, type ServiceConfig } from '@order-saga/platform';
import { currentMessageContext, runWithMessageContext } from '@order-saga/telemetry';
import { v7 as uuidv7 } from 'uuid';
import { Prisma } from '../generated/prisma/client.js';
import { PrismaSagaStore, orderStatusOf } from '../infra/prisma-saga.store.js';
import { PrismaService, type Tx } from '../infra/prisma.service.js';
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
    private readonly prisma: PrismaService,
    private readonly sagas: PrismaSagaStore,
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
      return await this.prisma.$transaction(
        async (tx) => {
          const orderId = uuidv7();
          const response = acceptedResponse(orderId);
          // The key row comes first. A twin request with the same key blocks on this row's
          // unique index until we commit, then finds our answer; if we roll back (an unknown
          // sku), the twin's insert goes through and it proceeds as if it were first. A key
          // older than IDEMPOTENCY_KEY_TTL_HOURS is taken over: the request is a new one.
          const claimed = await tx.$queryRaw<unknown[]>`
            INSERT INTO idempotency_key (key, request_hash, order_id, response)
            VALUES (${idempotencyKey}, ${hash}, ${orderId}::uuid, ${JSON.stringify(response)}::jsonb)
            ON CONFLICT (key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
              order_id = EXCLUDED.order_id, response = EXCLUDED.response, created_at = now()
              WHERE idempotency_key.created_at < now() - make_interval(hours => ${this.config.idempotencyKeyTtlHours}::int)
            RETURNING key`;
          if (claimed.length === 0) return replay(idempotencyKey, hash, tx);

          const pricing = priceOrder(request.items, await prices(request.items, tx));
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

          await tx.order.create({
            data: {
              id: orderId,
              customerId,
              status: orderStatusOf(decision.saga.status),
              total: pricing.total,
              ...address,
              correlationId,
              items: { create: pricing.lines },
            },
          });
          await this.sagas.start(decision, tx, now);
          return { kind: 'accepted', response, replayed: false };
        },
        // Read committed is what makes the twin's wait work: after the first request commits,
        // the twin's next statement sees the stored answer. Under repeatable read the twin's
        // insert would fail with a serialization error instead. The waits are long enough for a
        // burst of retries on one key to queue behind the first.
        { isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted, maxWait: 10_000, timeout: 10_000 },
      );
    } catch (error) {
      if (error instanceof Refused) return error.outcome;
      throw error;
    }
  }
}

async function replay(key: string, hash: string, tx: Tx): Promise<PlaceOrderOutcome> {
  const stored = await tx.idempotencyKey.findUniqueOrThrow({ where: { key } });
  if (stored.requestHash !== hash) return { kind: 'key-reused' };
  return { kind: 'accepted', response: stored.response as PlaceOrderAccepted, replayed: true };
}

async function prices(items: readonly { sku: string }[], tx: Tx): Promise<Map<string, number>> {
  const products = await tx.product.findMany({ where: { sku: { in: items.map((item) => item.sku) } } });
  return new Map(products.map((product) => [product.sku, product.price]));
}
