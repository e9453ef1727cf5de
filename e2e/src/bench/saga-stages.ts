import { services, type SagaSystem, type Service } from '../saga/system.js';
import type { Outcome } from './saga-load.js';

/** The three forward steps of a happy saga: the command the order service sends, who answers, and the reply. */
const hops = [
  { command: 'ReserveStock', participant: 'inventory', reply: 'StockReserved' },
  { command: 'ChargePayment', participant: 'payment', reply: 'PaymentCharged' },
  { command: 'CreateShipment', participant: 'shipping', reply: 'ShipmentCreated' },
] as const satisfies readonly { command: string; participant: Service; reply: string }[];

/** Milliseconds per confirmed saga in each stage, summed over its three steps. */
export interface SagaStages {
  /** Client sends `POST /orders` → the order service's transaction starts (HTTP, validation, pool). */
  request: number[];
  /** Order service: its transaction started (POST or reply) → the relay marked the command sent. */
  orderTxAndRelay: number[];
  /** Command marked sent → the participant's handler transaction started (Kafka, consumer). */
  toParticipant: number[];
  /** Participant transaction started → its relay marked the reply sent. */
  participantTxAndRelay: number[];
  /** Reply marked sent → the order service's handler transaction started (Kafka, consumer). */
  toOrder: number[];
  /** The last reply's transaction started → the order row turned terminal (the order's handler work). */
  finish: number[];
  /** Request start → terminal: the stages above add up to it. */
  total: number[];
  /** Sagas whose rows were all found (the others were left out). */
  sagas: number;
}

interface Row {
  id: string;
  aggregate_id: string;
  type: string;
  occurred_ms: number;
  published_ms: number | null;
}

const outboxRows = (system: SagaSystem, service: Service, orderIds: string[]) =>
  system.query<Row>(
    service,
    `SELECT id, aggregateid AS aggregate_id, type,
            extract(epoch FROM occurred_at)::float8 * 1000 AS occurred_ms,
            extract(epoch FROM published_at)::float8 * 1000 AS published_ms
       FROM outbox WHERE aggregateid = ANY($1::text[])`,
    [orderIds],
  );

const inboxTimes = async (system: SagaSystem, service: Service, messageIds: string[]) =>
  new Map(
    (
      await system.query<{ message_id: string; processed_ms: number }>(
        service,
        `SELECT message_id, extract(epoch FROM processed_at)::float8 * 1000 AS processed_ms
           FROM inbox WHERE message_id = ANY($1::uuid[])`,
        [messageIds],
      )
    ).map((r) => [r.message_id, r.processed_ms]),
  );

/**
 * Where a confirmed saga's time goes, from the rows the services wrote anyway: outbox
 * `occurred_at` (transaction start) and `published_at` (the relay's mark after the broker's ack),
 * inbox `processed_at` (the handler's transaction start), in every service's database. One clock
 * (this machine's), millisecond precision; a consumer can see a message before its relay commits
 * the mark, so a Kafka stage can read slightly negative.
 */
export async function sagaStages(system: SagaSystem, outcomes: Outcome[]): Promise<SagaStages> {
  const confirmed = outcomes.filter((o) => o.kind === 'happy' && o.status === 'CONFIRMED');
  const ids = confirmed.map((o) => o.orderId);
  const stages: SagaStages = {
    request: [],
    orderTxAndRelay: [],
    toParticipant: [],
    participantTxAndRelay: [],
    toOrder: [],
    finish: [],
    total: [],
    sagas: 0,
  };
  if (ids.length === 0) return stages;

  const commands = await outboxRows(system, 'order', ids);
  const replies = (await Promise.all(hops.map((h) => outboxRows(system, h.participant, ids)))).flat();
  const participantInbox = new Map<string, number>();
  for (const hop of hops) {
    const sent = commands.filter((c) => c.type === hop.command).map((c) => c.id);
    for (const [id, at] of await inboxTimes(system, hop.participant, sent)) participantInbox.set(id, at);
  }
  const orderInbox = await inboxTimes(
    system,
    'order',
    replies.map((r) => r.id),
  );
  const byOrder = (rows: Row[]) => {
    const map = new Map<string, Map<string, Row>>();
    for (const row of rows) {
      const types = map.get(row.aggregate_id) ?? new Map<string, Row>();
      // A re-sent command or a duplicate reply: the first one is the one the saga waited for.
      if (!types.has(row.type) || types.get(row.type)!.occurred_ms > row.occurred_ms)
        types.set(row.type, row);
      map.set(row.aggregate_id, types);
    }
    return map;
  };
  const commandsOf = byOrder(commands);
  const repliesOf = byOrder(replies);

  for (const outcome of confirmed) {
    const sums = { orderTxAndRelay: 0, toParticipant: 0, participantTxAndRelay: 0, toOrder: 0 };
    let lastReplyHandled: number | undefined;
    let complete = true;
    for (const hop of hops) {
      const command = commandsOf.get(outcome.orderId)?.get(hop.command);
      const reply = repliesOf.get(outcome.orderId)?.get(hop.reply);
      const received = command && participantInbox.get(command.id);
      const handled = reply && orderInbox.get(reply.id);
      if (!command?.published_ms || !reply?.published_ms || received === undefined || handled === undefined) {
        complete = false;
        break;
      }
      sums.orderTxAndRelay += command.published_ms - command.occurred_ms;
      sums.toParticipant += received - command.published_ms;
      sums.participantTxAndRelay += reply.published_ms - received;
      sums.toOrder += handled - reply.published_ms;
      lastReplyHandled = handled;
    }
    if (!complete) continue;
    stages.sagas += 1;
    stages.request.push(commandsOf.get(outcome.orderId)!.get(hops[0].command)!.occurred_ms - outcome.startMs);
    for (const [stage, ms] of Object.entries(sums)) stages[stage as keyof typeof sums].push(ms);
    stages.finish.push(outcome.terminalMs - lastReplyHandled!);
    stages.total.push(outcome.terminalMs - outcome.startMs);
  }
  return stages;
}

/**
 * Transactions committed per order, counted rather than assumed: its POST, plus one inbox row for
 * every message about it that any service handled (each handler commits its inbox row with its
 * work). The relays' "mark sent" updates are batched across orders and not counted.
 */
export async function transactionsPerSaga(system: SagaSystem, orderIds: string[]): Promise<number> {
  if (orderIds.length === 0) return Number.NaN;
  const messages = await Promise.all(
    services.map((s) =>
      system.query<{ id: string }>(s, 'SELECT id FROM outbox WHERE aggregateid = ANY($1::text[])', [
        orderIds,
      ]),
    ),
  );
  const messageIds = messages.flat().map((m) => m.id);
  const handled = await Promise.all(
    services.map(
      async (s) =>
        (
          await system.query<{ n: number }>(
            s,
            'SELECT count(*)::int AS n FROM inbox WHERE message_id = ANY($1::uuid[])',
            [messageIds],
          )
        )[0]!.n,
    ),
  );
  return (orderIds.length + handled.reduce((a, b) => a + b, 0)) / orderIds.length;
}
