import { BaseRpcContext } from '@nestjs/microservices';
import type { Envelope } from '@order-saga/contracts';
import type { SqlTx } from '@order-saga/outbox';

type InboxContextArgs<Tx> = [
  tx: Tx,
  envelope: Envelope,
  topic: string,
  partition: number,
  offset: string,
  attempt: number,
];

/**
 * What a message handler gets beside the payload: the open transaction in which its effect, its
 * outgoing messages and the inbox record commit together, and the message's envelope.
 */
export class InboxContext<Tx extends SqlTx = SqlTx> extends BaseRpcContext<InboxContextArgs<Tx>> {
  /** The transaction to write the effect and enqueue outgoing messages in. */
  get tx(): Tx {
    return this.args[0];
  }
  get envelope(): Envelope {
    return this.args[1];
  }
  get topic(): string {
    return this.args[2];
  }
  get partition(): number {
    return this.args[3];
  }
  get offset(): string {
    return this.args[4];
  }
  /** 1 on first delivery to the handler, 2 on the first retry, … */
  get attempt(): number {
    return this.args[5];
  }
}
