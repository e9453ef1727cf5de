import type { TopicKey } from '@order-saga/contracts';
import type { ServiceName } from './topology.js';

/** What a customer orders in a simulation. `no` names the order (o1, o2, …) in traces. */
export interface OrderSpec {
  no: number;
  customerId: string;
  items: { sku: string; quantity: number }[];
  country: string;
}

/** Something that can go down for a while: a service's process, or the whole broker. */
export type OutageTarget = ServiceName | 'broker';

/**
 * One step of a schedule. An action names what it acts on (a service, a partition, an order), never
 * a position in the state, so a schedule with some actions removed (shrinking) still means the same
 * thing; an action that is not possible at its turn is skipped.
 */
export type Action =
  /** A customer places an order (POST /orders): the saga starts in the order service's database. */
  | { kind: 'place'; order: OrderSpec }
  /** A service's relay publishes its oldest unpublished outbox row; `crash`: it dies before marking it published. */
  | { kind: 'relay'; service: ServiceName; crash?: boolean }
  /**
   * A service's consumer takes the next message of a partition and applies it in one transaction
   * with its inbox record; `crash`: the process dies before or after that transaction commits.
   */
  | {
      kind: 'deliver';
      service: ServiceName;
      topic: TopicKey;
      partition: number;
      crash?: 'before-commit' | 'after-commit';
    }
  /** A service's handler fails for good on the next message of a partition: it is dead-lettered, not applied. */
  | { kind: 'dead-letter'; service: ServiceName; topic: TopicKey; partition: number }
  /** An operator replays a dead letter to its topic, message id unchanged. */
  | { kind: 'replay-dead-letter'; messageId: string }
  /** A service's consumer commits the offsets of what it applied. */
  | { kind: 'commit'; service: ServiceName }
  /** A service's process dies and restarts at once: its consumer resumes from the committed offsets. */
  | { kind: 'crash'; service: ServiceName }
  | { kind: 'outage'; target: OutageTarget; down: boolean }
  | { kind: 'tick'; ms: number }
  /** The clock moves to the earliest saga deadline still ahead. */
  | { kind: 'jump' }
  /** The order service's deadline timer acts on the saga whose deadline passed first. */
  | { kind: 'timer' }
  /** An operator asks the order service to resume a saga's compensations (alerted, or impatient). */
  | { kind: 'retry'; orderNo: number };

export type ActionKind = Action['kind'];
