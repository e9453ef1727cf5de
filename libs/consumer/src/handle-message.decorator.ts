import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { MessageType, PayloadOf } from '@order-saga/contracts';
import type { SqlTx } from '@order-saga/outbox';
import type { InboxContext } from './inbox-context.js';

type MessageHandlerMethod<T extends MessageType> = (
  payload: PayloadOf<T>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each service narrows the transaction type
  context: InboxContext<SqlTx & any>,
) => Promise<void> | void;

/**
 * Declares the handler of one contract message type, served by {@link KafkaInboxTransport}: the
 * topic comes from the contract, the payload arrives validated and typed, and the context holds
 * the transaction the effect must be written in.
 *
 * ```ts
 * @HandleMessage('ReserveStock')
 * async reserve(command: ReserveStock, ctx: InboxContext<Tx>) { … }
 * ```
 */
export function HandleMessage<T extends MessageType>(type: T) {
  return <M extends MessageHandlerMethod<T>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    // The explicit `string` type argument picks Nest's untyped overload; the typing is ours.
    EventPattern<string>(type)(target, key, descriptor);
    // Bind (payload, context) to the first two parameters, so handlers need no @Payload()/@Ctx().
    Payload()(target, key, 0);
    Ctx()(target, key, 1);
  };
}
