import type { MessageType, PayloadOf } from '@order-saga/contracts';

/**
 * The order saga as its diagram, and nothing else: pure functions from (state, reply or deadline)
 * to (next state, messages to send, steps to record). No Nest, Prisma or Kafka here; the listener
 * and the deadline timer load the state, call these, and save the result with the messages in one
 * transaction.
 *
 *   RESERVING ──StockReserved──▶ CHARGING ──PaymentCharged──▶ SHIPPING ──ShipmentCreated──▶ CONFIRMED
 *      │ StockUnavailable            │ PaymentDeclined             │ ShipmentRefused
 *      ▼                             ▼                             ▼
 *   REJECTED                  COMPENSATING (release stock)  COMPENSATING (refund, release)
 *                                    │ every compensation acknowledged ──▶ CANCELLED
 *                                    │ a compensation unanswered after its retries ──▶ COMPENSATION_FAILED
 *                                                                                        │ late acknowledgements,
 *                                                                                        │ or an operator's retrySaga
 *                                                                                        ▼
 *                                                                        CANCELLED once nothing is pending
 *
 * A step without a reply by its deadline is re-sent (participants are idempotent per order);
 * after the last attempt it counts as failed and everything it may have done is compensated.
 * COMPENSATION_FAILED is an alert, not a dead end: acknowledgements still count, and an operator
 * can resume the compensations with {@link retrySaga}.
 */

export type ForwardStatus = 'RESERVING' | 'CHARGING' | 'SHIPPING';
export type TerminalStatus = 'CONFIRMED' | 'REJECTED' | 'CANCELLED' | 'COMPENSATION_FAILED';
export type SagaStatus = ForwardStatus | 'COMPENSATING' | TerminalStatus;
export type Participant = 'stock' | 'payment' | 'shipment';

export const terminalStatuses: readonly TerminalStatus[] = [
  'CONFIRMED',
  'REJECTED',
  'CANCELLED',
  'COMPENSATION_FAILED',
];

export interface OrderData {
  customerId: string;
  total: number;
  items: { sku: string; quantity: number }[];
  address: { country: string; city: string; line1: string };
}

export interface OrderSaga {
  orderId: string;
  status: SagaStatus;
  /** Attempt of the current step (forward) or compensation round. */
  attempt: number;
  deadlineAt: Date | null;
  /** Compensations sent and not yet acknowledged. */
  pending: Participant[];
  /** Compensations acknowledged. */
  compensated: Participant[];
  reason: string | null;
  data: OrderData;
}

/** A message to send through the outbox. */
export interface Send {
  type: MessageType;
  payload: unknown;
}

/** A line of the order's history (GET /orders/:id). */
export interface Step {
  name: string;
  outcome: string;
  detail?: string;
}

export interface Decision {
  saga: OrderSaga;
  send: Send[];
  steps: Step[];
  /**
   * Set when a reply does not belong to this saga (wrong amount, a step never requested): why.
   * The saga is then unchanged; the caller dead-letters the reply with this reason.
   */
  rejected?: string;
}

export interface SagaPolicy {
  /** How long a participant has to answer a step. */
  stepTimeoutMs: number;
  /** Sends of a forward step (first + retries) before it counts as failed. */
  stepMaxAttempts: number;
  /** Sends of a compensation round before the saga gives up as COMPENSATION_FAILED. */
  compensationMaxAttempts: number;
  /** First wait before re-sending a compensation; doubles per attempt. */
  compensationBackoffMs: number;
}

export type Reply =
  | { type: 'StockReserved'; payload: PayloadOf<'StockReserved'> }
  | { type: 'StockUnavailable'; payload: PayloadOf<'StockUnavailable'> }
  | { type: 'StockReleased'; payload: PayloadOf<'StockReleased'> }
  | { type: 'PaymentCharged'; payload: PayloadOf<'PaymentCharged'> }
  | { type: 'PaymentDeclined'; payload: PayloadOf<'PaymentDeclined'> }
  | { type: 'PaymentRefunded'; payload: PayloadOf<'PaymentRefunded'> }
  | { type: 'ShipmentCreated'; payload: PayloadOf<'ShipmentCreated'> }
  | { type: 'ShipmentRefused'; payload: PayloadOf<'ShipmentRefused'> }
  | { type: 'ShipmentCancelled'; payload: PayloadOf<'ShipmentCancelled'> };
export type ReplyType = Reply['type'];
type PayloadOfReply<T extends ReplyType> = Extract<Reply, { type: T }>['payload'];

// Commands, built from the saga's data. Every one is keyed by the order id (its payload's orderId).
const reserveStock = (s: OrderSaga): Send => ({
  type: 'ReserveStock',
  payload: { orderId: s.orderId, items: s.data.items },
});
const chargePayment = (s: OrderSaga): Send => ({
  type: 'ChargePayment',
  payload: { orderId: s.orderId, customerId: s.data.customerId, amount: s.data.total },
});
const createShipment = (s: OrderSaga): Send => ({
  type: 'CreateShipment',
  payload: { orderId: s.orderId, address: s.data.address, items: s.data.items },
});
const compensation: Record<Participant, { type: MessageType; make: (s: OrderSaga, reason: string) => Send }> =
  {
    shipment: {
      type: 'CancelShipment',
      make: (s, reason) => ({ type: 'CancelShipment', payload: { orderId: s.orderId, reason } }),
    },
    payment: {
      type: 'RefundPayment',
      make: (s, reason) => ({ type: 'RefundPayment', payload: { orderId: s.orderId, reason } }),
    },
    stock: {
      type: 'ReleaseStock',
      make: (s, reason) => ({ type: 'ReleaseStock', payload: { orderId: s.orderId, reason } }),
    },
  };

/** The forward step of each status: what to (re-)send, and what may have been taken by then. */
const forward: Record<
  ForwardStatus,
  { step: string; send: (s: OrderSaga) => Send; mayHaveTaken: Participant[] }
> = {
  RESERVING: { step: 'reserve-stock', send: reserveStock, mayHaveTaken: ['stock'] },
  CHARGING: { step: 'charge-payment', send: chargePayment, mayHaveTaken: ['payment', 'stock'] },
  SHIPPING: { step: 'create-shipment', send: createShipment, mayHaveTaken: ['shipment', 'payment', 'stock'] },
};

type Transition<T extends ReplyType> = (
  s: OrderSaga,
  reply: PayloadOfReply<T>,
  now: Date,
  policy: SagaPolicy,
) => Decision;
type Transitions = { [S in SagaStatus]?: { [T in ReplyType]?: Transition<T> } };

/** Which reply moves the saga where, per status. A reply not listed here is handled by {@link advance}. */
export const orderSaga: Transitions = {
  RESERVING: {
    StockReserved: (s, _, now, p) =>
      proceed(s, 'CHARGING', now, p, { name: 'reserve-stock', outcome: 'reserved' }),
    StockUnavailable: (s, e) =>
      finish(s, 'REJECTED', `${e.reason}: ${e.sku}`, {
        name: 'reserve-stock',
        outcome: 'unavailable',
        detail: `${e.reason}: ${e.sku}`,
      }),
  },
  CHARGING: {
    PaymentCharged: (s, _, now, p) =>
      proceed(s, 'SHIPPING', now, p, { name: 'charge-payment', outcome: 'charged' }),
    PaymentDeclined: (s, e, now, p) =>
      compensate(s, e.reason, ['stock'], now, p, {
        name: 'charge-payment',
        outcome: 'declined',
        detail: e.reason,
      }),
  },
  SHIPPING: {
    ShipmentCreated: (s) => finish(s, 'CONFIRMED', null, { name: 'create-shipment', outcome: 'created' }),
    ShipmentRefused: (s, e, now, p) =>
      compensate(s, e.reason, ['payment', 'stock'], now, p, {
        name: 'create-shipment',
        outcome: 'refused',
        detail: e.reason,
      }),
  },
  COMPENSATING: {
    StockReleased: (s) => acknowledged(s, 'stock'),
    PaymentRefunded: (s) => acknowledged(s, 'payment'),
    ShipmentCancelled: (s) => acknowledged(s, 'shipment'),
  },
  // The participant came back after the saga raised the alarm: its acknowledgement still finishes
  // the compensation, so an outage that outlasts the retries heals on its own.
  COMPENSATION_FAILED: {
    StockReleased: (s) => acknowledged(s, 'stock'),
    PaymentRefunded: (s) => acknowledged(s, 'payment'),
    ShipmentCancelled: (s) => acknowledged(s, 'shipment'),
  },
};

/** Starts the saga for a placed order: announce it, and ask for the stock. */
export function startSaga(orderId: string, data: OrderData, now: Date, policy: SagaPolicy): Decision {
  const saga: OrderSaga = {
    orderId,
    status: 'RESERVING',
    attempt: 1,
    deadlineAt: after(now, policy.stepTimeoutMs),
    pending: [],
    compensated: [],
    reason: null,
    data,
  };
  return {
    saga,
    send: [
      {
        type: 'OrderPlaced',
        payload: {
          orderId,
          customerId: data.customerId,
          items: data.items,
          total: data.total,
          shippingAddress: data.address,
        },
      },
      reserveStock(saga),
    ],
    steps: [{ name: 'reserve-stock', outcome: 'requested' }],
  };
}

/** Applies a participant's reply. */
export function advance(saga: OrderSaga, reply: Reply, now: Date, policy: SagaPolicy): Decision {
  const mismatch = mismatchOf(saga, reply);
  if (mismatch) return { saga, send: [], steps: [], rejected: mismatch };
  const transition = orderSaga[saga.status]?.[reply.type] as Transition<ReplyType> | undefined;
  if (transition) return transition(saga, reply.payload, now, policy);
  const lateSuccess = lateSuccessOf[reply.type];
  if (lateSuccess) return undoLateSuccess(saga, lateSuccess);
  // A duplicate or out-of-date reply (e.g. a re-sent command answered twice): nothing to do.
  return { saga, send: [], steps: [] };
}

/** What happens when the current step's deadline passes without a reply. */
export function onDeadline(saga: OrderSaga, now: Date, policy: SagaPolicy): Decision {
  if (saga.status === 'COMPENSATING' || (saga.status === 'COMPENSATION_FAILED' && saga.pending.length > 0))
    return retryCompensations(saga, now, policy);
  if (!(saga.status in forward)) return { saga: { ...saga, deadlineAt: null }, send: [], steps: [] };
  const step = forward[saga.status as ForwardStatus];
  if (saga.attempt < policy.stepMaxAttempts) {
    return {
      saga: { ...saga, attempt: saga.attempt + 1, deadlineAt: after(now, policy.stepTimeoutMs) },
      send: [step.send(saga)],
      steps: [
        {
          name: step.step,
          outcome: 'retried',
          detail: `no reply in ${policy.stepTimeoutMs} ms; attempt ${saga.attempt + 1}`,
        },
      ],
    };
  }
  // Unknown whether the participant acted: undo everything it and the steps before may have done.
  // A participant that never acted acknowledges the compensation as a no-op.
  const reason = `${step.step} timed out after ${saga.attempt} attempts`;
  return compensate(saga, reason, step.mayHaveTaken, now, policy, {
    name: step.step,
    outcome: 'timed-out',
    detail: reason,
  });
}

function proceed(s: OrderSaga, next: ForwardStatus, now: Date, policy: SagaPolicy, done: Step): Decision {
  const saga: OrderSaga = { ...s, status: next, attempt: 1, deadlineAt: after(now, policy.stepTimeoutMs) };
  return {
    saga,
    send: [forward[next].send(saga)],
    steps: [done, { name: forward[next].step, outcome: 'requested' }],
  };
}

function finish(s: OrderSaga, status: 'CONFIRMED' | 'REJECTED', reason: string | null, done: Step): Decision {
  const event: Send =
    status === 'CONFIRMED'
      ? { type: 'OrderConfirmed', payload: { orderId: s.orderId } }
      : { type: 'OrderRejected', payload: { orderId: s.orderId, reason: reason ?? 'rejected' } };
  return {
    saga: { ...s, status, reason, deadlineAt: null },
    send: [event],
    steps: [done, { name: 'order', outcome: status.toLowerCase() }],
  };
}

function compensate(
  s: OrderSaga,
  reason: string,
  undo: Participant[],
  now: Date,
  policy: SagaPolicy,
  done: Step,
): Decision {
  const saga: OrderSaga = {
    ...s,
    status: 'COMPENSATING',
    reason,
    attempt: 1,
    pending: undo,
    deadlineAt: after(now, policy.stepTimeoutMs),
  };
  return {
    saga,
    send: undo.map((p) => compensation[p].make(saga, reason)),
    steps: [done, ...undo.map((p) => ({ name: compensation[p].type, outcome: 'requested' }))],
  };
}

function acknowledged(s: OrderSaga, participant: Participant): Decision {
  if (!s.pending.includes(participant)) return { saga: s, send: [], steps: [] };
  const pending = s.pending.filter((p) => p !== participant);
  const compensated = [...s.compensated, participant];
  const step = { name: compensation[participant].type, outcome: 'done' };
  if (pending.length > 0) return { saga: { ...s, pending, compensated }, send: [], steps: [step] };
  const reason = s.reason ?? 'cancelled';
  const detail =
    s.status === 'COMPENSATION_FAILED'
      ? `every compensation acknowledged after COMPENSATION_FAILED (${reason})`
      : reason;
  return {
    saga: { ...s, pending, compensated, status: 'CANCELLED', deadlineAt: null },
    send: [{ type: 'OrderCancelled', payload: { orderId: s.orderId, reason } }],
    steps: [step, { name: 'order', outcome: 'cancelled', detail }],
  };
}

/**
 * Whether an operator can resume the saga's compensations with {@link retrySaga}: it is
 * compensating (failed or not) and some compensation is still unacknowledged.
 */
export function isRetryable(saga: OrderSaga): boolean {
  return (saga.status === 'COMPENSATION_FAILED' || saga.status === 'COMPENSATING') && saga.pending.length > 0;
}

/**
 * An operator resumes a saga's compensations (`pnpm saga retry`): every pending compensation is
 * re-sent as attempt 1 with a fresh deadline, and the saga is COMPENSATING again, so it gets the
 * full retry budget before it would alert again. A saga that is not {@link isRetryable} is
 * returned unchanged (the same object, no messages, no steps): callers answer "not retryable".
 */
export function retrySaga(saga: OrderSaga, now: Date, policy: SagaPolicy): Decision {
  if (!isRetryable(saga)) return { saga, send: [], steps: [] };
  const reason = saga.reason ?? 'compensating';
  return {
    saga: { ...saga, status: 'COMPENSATING', attempt: 1, deadlineAt: after(now, policy.stepTimeoutMs) },
    send: saga.pending.map((p) => compensation[p].make(saga, reason)),
    steps: [
      { name: 'order', outcome: 'retried', detail: `operator retry from ${saga.status}` },
      ...saga.pending.map((p) => ({
        name: compensation[p].type,
        outcome: 'requested',
        detail: 'operator retry',
      })),
    ],
  };
}

/**
 * Longest wait between two sends of a compensation. Why compensations never stop being re-sent:
 * an outage of the broker, a relay or a participant that outlasts the retry budget (~55 s by
 * default) is ordinary (a deploy, a failover), and telling such an outage apart from one broken
 * participant would need health knowledge the saga does not have. So after
 * `compensationMaxAttempts` sends the saga raises the alarm (COMPENSATION_FAILED,
 * OrderCompensationFailed, a metric) and keeps re-sending with doubling waits capped here:
 * compensations are idempotent per order, a re-send costs one small outbox row, and the saga then
 * heals on its own at most this long after everything is back, with no person involved. The cap
 * bounds the history to ~290 steps a day per pending compensation during a very long outage.
 */
export const COMPENSATION_BACKOFF_CAP_MS = 300_000;

function retryCompensations(s: OrderSaga, now: Date, policy: SagaPolicy): Decision {
  // Capped doubling: the first retries come quickly, later ones leave a struggling participant room.
  const wait = Math.min(policy.compensationBackoffMs * 2 ** (s.attempt - 1), COMPENSATION_BACKOFF_CAP_MS);
  const deadlineAt = after(now, policy.stepTimeoutMs + wait);
  if (s.status === 'COMPENSATING' && s.attempt >= policy.compensationMaxAttempts) {
    const failed = s.pending.map((p) => compensation[p].type);
    const reason = `${failed.join(', ')} unanswered after ${s.attempt} attempts (${s.reason ?? 'compensating'})`;
    return {
      // Still waiting: the deadline stays, so the saga keeps re-sending and counts as in flight.
      saga: { ...s, status: 'COMPENSATION_FAILED', deadlineAt },
      send: [
        {
          type: 'OrderCompensationFailed',
          payload: { orderId: s.orderId, step: failed[0] ?? 'ReleaseStock', reason },
        },
      ],
      steps: [{ name: 'order', outcome: 'compensation-failed', detail: reason }],
    };
  }
  const failedAlready = s.status === 'COMPENSATION_FAILED' ? ' after COMPENSATION_FAILED' : '';
  return {
    saga: { ...s, attempt: s.attempt + 1, deadlineAt },
    send: s.pending.map((p) => compensation[p].make(s, s.reason ?? 'compensating')),
    steps: s.pending.map((p) => ({
      name: compensation[p].type,
      outcome: 'retried',
      detail: `attempt ${s.attempt + 1}${failedAlready}`,
    })),
  };
}

/** Which participant sends a reply, and whether it answers a forward step or a compensation. */
const replyOf: Record<ReplyType, { participant: Participant; answers: 'forward' | 'compensation' }> = {
  StockReserved: { participant: 'stock', answers: 'forward' },
  StockUnavailable: { participant: 'stock', answers: 'forward' },
  StockReleased: { participant: 'stock', answers: 'compensation' },
  PaymentCharged: { participant: 'payment', answers: 'forward' },
  PaymentDeclined: { participant: 'payment', answers: 'forward' },
  PaymentRefunded: { participant: 'payment', answers: 'compensation' },
  ShipmentCreated: { participant: 'shipment', answers: 'forward' },
  ShipmentRefused: { participant: 'shipment', answers: 'forward' },
  ShipmentCancelled: { participant: 'shipment', answers: 'compensation' },
};
/** The forward steps in the order the saga takes them. */
const stepOrder: Participant[] = ['stock', 'payment', 'shipment'];
const stepOfStatus: Partial<Record<SagaStatus, Participant>> = {
  RESERVING: 'stock',
  CHARGING: 'payment',
  SHIPPING: 'shipment',
  CONFIRMED: 'shipment',
  REJECTED: 'stock',
};

const linesKey = (items: readonly { sku: string; quantity: number }[]): string => {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of items) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).join(';');
};

/**
 * Why a reply cannot be this saga's, or `null` when it can. Anyone who can write to a reply topic
 * could otherwise confirm an order with a charge of 1 cent. Late and duplicate replies to steps
 * the saga did request stay legitimate (they are handled by {@link advance}); replies to steps it
 * never requested, with figures that are not the order's, are refused. While compensating, which
 * steps were requested is not recorded, so only the figures are checked there.
 */
function mismatchOf(s: OrderSaga, reply: Reply): string | null {
  if (reply.payload.orderId !== s.orderId)
    return `${reply.type} is for order ${reply.payload.orderId}, not ${s.orderId}`;
  if (reply.type === 'PaymentCharged' && reply.payload.amount !== s.data.total)
    return `PaymentCharged amount ${reply.payload.amount} does not match the order total ${s.data.total}`;
  if (reply.type === 'PaymentRefunded' && reply.payload.amount > s.data.total)
    return `PaymentRefunded amount ${reply.payload.amount} exceeds the order total ${s.data.total}`;
  if (reply.type === 'StockReserved' && linesKey(reply.payload.items) !== linesKey(s.data.items))
    return 'StockReserved items do not match the order lines';
  const step = stepOfStatus[s.status];
  if (step === undefined) return null;
  const { participant, answers } = replyOf[reply.type];
  if (answers === 'compensation')
    return `${reply.type} answers a compensation that ${s.status} never requested`;
  if (stepOrder.indexOf(participant) > stepOrder.indexOf(step))
    return `${reply.type} answers ${forwardStepOf[participant]}, which ${s.status} never requested`;
  return null;
}
const forwardStepOf: Record<Participant, string> = {
  stock: 'reserve-stock',
  payment: 'charge-payment',
  shipment: 'create-shipment',
};

const lateSuccessOf: Partial<Record<ReplyType, Participant>> = {
  StockReserved: 'stock',
  PaymentCharged: 'payment',
  ShipmentCreated: 'shipment',
};

/**
 * A participant succeeded after the saga stopped waiting for it (e.g. the charge went through after
 * its deadline). Whatever it took must be given back: unless its compensation is already on its way
 * or done, send it now, even if the saga has ended.
 */
function undoLateSuccess(s: OrderSaga, participant: Participant): Decision {
  // While the saga moves forward, a repeated success of an earlier step is a duplicate answer to a
  // re-sent command: the step's result is being kept, not abandoned.
  const keeping = s.status === 'CONFIRMED' || s.status in forward;
  if (keeping || s.pending.includes(participant) || s.compensated.includes(participant)) {
    return { saga: s, send: [], steps: [] };
  }
  const stillCompensating = s.status === 'COMPENSATING' || s.status === 'COMPENSATION_FAILED';
  const reason = `late ${participant} success after the saga ${stillCompensating ? 'began compensating' : 'ended'}`;
  return {
    saga: stillCompensating ? { ...s, pending: [...s.pending, participant] } : s,
    send: [compensation[participant].make(s, reason)],
    steps: [{ name: compensation[participant].type, outcome: 'requested', detail: reason }],
  };
}

function after(now: Date, ms: number): Date {
  return new Date(now.getTime() + ms);
}
