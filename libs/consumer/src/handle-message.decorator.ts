import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { MessageType, PayloadOf } from '@order-saga/contracts';
import type { SqlTx } from '@order-saga/outbox';
import type { InboxContext } from './inbox-context.js';

type MessageHandlerMethod<T extends MessageType> = (
  payload: PayloadOf<T>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service narrows the transaction type
  context: InboxContext<SqlTx & any>,
) => Promise<void> | void;

/** The key of {@link HandleMessageOptions.isolation} in the handler's Nest `extras`. */
export const ISOLATION_EXTRA = 'isolation';

export interface HandleMessageOptions {
  /**
   * `'chunk'` (default): the message is applied in one transaction with its neighbours on the
   * partition, up to the transport's chunk size, which is what makes consuming cheap.
   * `'per-message'`: the message gets a transaction of its own. Use it for handlers that lock
   * rows other messages lock too (stock of a product, a customer's balance): a chunk holds every
   * lock it took until it commits, in message order, so two partitions whose chunks reach the
   * same rows in opposite orders deadlock, however carefully each handler orders its own locks.
   */
  isolation?: 'chunk' | 'per-message';
}

/**
 * Declares the handler of one contract message type, served by {@link KafkaInboxTransport}: the
 * topic comes from the contract, the payload arrives validated and typed, and the context holds
 * the transaction the effect must be written in.
 *
 * ```ts
 * @HandleMessage('ReserveStock', { isolation: 'per-message' })
 * async reserve(command: ReserveStock, ctx: InboxContext<Tx>) { … }
 * ```
 */
export function HandleMessage<T extends MessageType>(type: T, options: HandleMessageOptions = {}) {
  return <M extends MessageHandlerMethod<T>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    // The explicit `string` type argument picks Nest's untyped overload; the typing is ours.
    EventPattern<string>(type, { [ISOLATION_EXTRA]: options.isolation ?? 'chunk' })(target, key, descriptor);
    // Bind (payload, context) to the first two parameters, so handlers need no @Payload()/@Ctx().
    Payload()(target, key, 0);
    Ctx()(target, key, 1);
  };
}
