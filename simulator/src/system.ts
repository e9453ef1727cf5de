import {
  currentVersion,
  topicKeys,
  validateMessage,
  type MessageType,
  type TopicKey,
} from '@order-saga/contracts';
import {
  commit,
  release,
  reserve,
  type Reservation,
  type Decision as StockDecision,
} from '@order-saga/inventory/domain';
import { priceOrder } from '@order-saga/order/pricing';
import {
  terminalStatuses,
  type advance,
  type Decision,
  type onDeadline,
  type OrderData,
  type OrderSaga,
  type Reply,
  type SagaPolicy,
  type Send,
  type startSaga,
} from '@order-saga/order/saga';
import { decideCharge, decideRefund, type Outcome, type Payment } from '@order-saga/payment/domain';
import { decideCancelShipment, decideCreateShipment, type Shipment } from '@order-saga/shipping/domain';
import type { Action, OrderSpec, OutageTarget } from './actions.js';
import { handledBy, partitionOf, subscriptions, topicOf, type ServiceName } from './topology.js';

/** The saga's pure functions, passed in so a spec can also run a deliberately broken saga. */
export interface SagaCode {
  startSaga: typeof startSaga;
  advance: typeof advance;
  onDeadline: typeof onDeadline;
  /** The operator's resume command; without one, an operator's retry changes nothing. */
  retrySaga?: (saga: OrderSaga, now: Date, policy: SagaPolicy) => Decision;
}

/** The participants' pure decisions, passed in so a spec can also run a deliberately broken one. */
export interface ParticipantCode {
  reserve: typeof reserve;
  release: typeof release;
  commit: typeof commit;
  decideCharge: typeof decideCharge;
  decideRefund: typeof decideRefund;
  decideCreateShipment: typeof decideCreateShipment;
  decideCancelShipment: typeof decideCancelShipment;
}

/** The participants' decisions as the services run them. */
export const realParticipants: ParticipantCode = {
  reserve,
  release,
  commit,
  decideCharge,
  decideRefund,
  decideCreateShipment,
  decideCancelShipment,
};

/** The world a simulation starts from. */
export interface Setup {
  partitions: number;
  policy: SagaPolicy;
  /** sku → units on hand at the start; also the catalogue (`prices`) the order service prices from. */
  stock: Record<string, number>;
  prices: Record<string, number>;
  /** customer id → credit in cents; a customer not listed is unknown to the payment service. */
  credit: Record<string, number>;
  unservedCountries: readonly string[];
}

/** An invariant that does not hold: the simulation stops here. `rule` names it for the shrinker. */
export class InvariantViolation extends Error {
  constructor(
    readonly rule: string,
    readonly detail: string,
  ) {
    super(`${rule}: ${detail}`);
  }
}

interface LogRecord {
  messageId: string;
  type: MessageType;
  key: string;
  payload: { orderId: string } & Record<string, unknown>;
}

interface DeadLetter {
  topic: TopicKey;
  record: LogRecord;
}

/** One service's process and what survives it: its database (outbox, inbox) and its committed offsets. */
interface Process {
  readonly name: ServiceName;
  down: boolean;
  /** Unpublished outbox rows, oldest first; the relay removes a row once it is marked published. */
  readonly outbox: LogRecord[];
  /** Outbox sequence, in the database: message ids stay unique across crashes. */
  sent: number;
  /** Message ids applied: a delivery whose id is here changes nothing. */
  readonly inbox: Set<string>;
  /** Offset per partition slot (see {@link SimulatedSystem.slot}), kept by the broker. */
  readonly committed: number[];
  /** Next offset to read per partition slot, in memory only: a crash loses it. */
  position: number[];
}

interface Product {
  onHand: number;
  reserved: number;
  shipped: number;
}

/** What the participants did, counted as it happened (the ledger a test would keep): never rolled back. */
interface Effects {
  captures: number;
  captured: number;
  refunds: number;
  refunded: number;
  shipments: number;
}

const MINUTE = 60_000;

/**
 * The order saga's system in memory: four services, each with its database (domain rows, inbox,
 * outbox) and its consumer, connected by a log of partitioned topics. Every decision is taken by the
 * real code: the saga's `startSaga` / `advance` / `onDeadline` and the participants' domain
 * functions, called the way their handlers call them (load, decide, save in one transaction).
 *
 * What the messaging libs guarantee, and nothing more, is modelled: a message is published at least
 * once (the relay can die between publishing and marking a row), consumed at least once (offsets are
 * committed after the transaction, and a process restarts from the last commit), in order within a
 * partition (the key is the order id), and applied at most once per message id (the inbox).
 */
export class SimulatedSystem {
  now: number;
  readonly start: number;
  brokerDown = false;

  private readonly processes: Record<ServiceName, Process>;
  private readonly deadLetters: DeadLetter[] = [];
  /** Every partition of every topic, by slot. */
  private readonly log: LogRecord[][];
  private readonly partitionOfOrder = new Map<string, number>();

  // The order service's database.
  readonly orders = new Map<string, { spec: OrderSpec; data: OrderData }>();
  readonly sagas = new Map<string, OrderSaga>();
  // The inventory service's database.
  readonly products = new Map<string, Product>();
  readonly reservations = new Map<string, Reservation>();
  // The payment service's database.
  readonly credit = new Map<string, number>();
  readonly payments = new Map<string, Payment>();
  // The shipping service's database.
  readonly shipments = new Map<string, Shipment>();

  readonly effects = new Map<string, Effects>();
  private readonly placedNumbers = new Set<number>();
  /** Orders whose saga was in COMPENSATION_FAILED at some point (coverage: the path of defect 1). */
  readonly everFailed = new Set<string>();
  /** The outcome event each order announced (OrderConfirmed, OrderRejected, OrderCancelled). */
  private readonly outcomes = new Map<string, string>();
  private readonly customers: readonly string[];
  private readonly held = new Map<string, number>();
  private ids = 0;

  /** When set, each action appends what it did, for people. */
  trace: string[] | null = null;
  private line = '';

  constructor(
    readonly setup: Setup,
    private readonly saga: SagaCode,
    private readonly participants: ParticipantCode = realParticipants,
  ) {
    this.start = Date.UTC(2026, 0, 1);
    this.now = this.start;
    const slots = topicKeys.length * setup.partitions;
    this.log = Array.from({ length: slots }, () => []);
    const process = (name: ServiceName): Process => ({
      name,
      down: false,
      outbox: [],
      sent: 0,
      inbox: new Set(),
      committed: new Array<number>(slots).fill(0),
      position: new Array<number>(slots).fill(0),
    });
    this.processes = {
      order: process('order'),
      inventory: process('inventory'),
      payment: process('payment'),
      shipping: process('shipping'),
    };
    for (const [sku, onHand] of Object.entries(setup.stock))
      this.products.set(sku, { onHand, reserved: 0, shipped: 0 });
    for (const [customer, credit] of Object.entries(setup.credit)) this.credit.set(customer, credit);
    this.customers = Object.keys(setup.credit);
  }

  // ---- what can happen next -------------------------------------------------------------------

  /** Whether `action` can happen now; a replayed schedule skips the actions that cannot. */
  enabled(action: Action): boolean {
    switch (action.kind) {
      case 'place':
        return !this.processes.order.down && !this.placedNumbers.has(action.order.no);
      case 'relay':
        return (
          !this.brokerDown &&
          !this.processes[action.service].down &&
          this.processes[action.service].outbox.length > 0
        );
      case 'deliver':
        return (
          !this.brokerDown &&
          !this.processes[action.service].down &&
          action.partition < this.setup.partitions &&
          subscriptions[action.service].includes(action.topic) &&
          this.backlog(action.service, action.topic, action.partition) > 0
        );
      case 'dead-letter':
        return (
          !this.brokerDown &&
          !this.processes[action.service].down &&
          action.partition < this.setup.partitions &&
          subscriptions[action.service].includes(action.topic) &&
          this.backlog(action.service, action.topic, action.partition) > 0
        );
      case 'replay-dead-letter':
        return (
          !this.brokerDown && this.deadLetters.some((letter) => letter.record.messageId === action.messageId)
        );
      case 'commit':
        return !this.brokerDown && !this.processes[action.service].down && this.uncommitted(action.service);
      case 'crash':
        return !this.processes[action.service].down;
      case 'outage':
        return this.isDown(action.target) !== action.down;
      case 'tick':
        return true;
      case 'jump':
        return this.nextDeadline() !== null;
      case 'timer':
        return !this.processes.order.down && this.dueSaga() !== null;
      case 'retry': {
        const saga = this.sagas.get(orderIdOf(action.orderNo));
        return !this.processes.order.down && saga !== undefined && compensating(saga);
      }
    }
  }

  /** Whether order number `no` has been placed. */
  placed(no: number): boolean {
    return this.placedNumbers.has(no);
  }

  /** Numbers of the orders whose saga an operator may want to retry: failed, or still compensating. */
  compensatingSagas(): number[] {
    const found: number[] = [];
    for (const [orderId, saga] of this.sagas)
      if (compensating(saga)) found.push(this.orders.get(orderId)!.spec.no);
    return found;
  }

  isDown(target: OutageTarget): boolean {
    return target === 'broker' ? this.brokerDown : this.processes[target].down;
  }

  /** Messages on a partition that the service's consumer has not read yet. */
  backlog(service: ServiceName, topic: TopicKey, partition: number): number {
    const slot = this.slot(topic, partition);
    return this.log[slot]!.length - this.processes[service].position[slot]!;
  }

  uncommitted(service: ServiceName): boolean {
    const { position, committed } = this.processes[service];
    for (let slot = 0; slot < position.length; slot++) if (position[slot]! > committed[slot]!) return true;
    return false;
  }

  /** Where a topic's partition sits in the log and in the offset arrays. */
  private slot(topic: TopicKey, partition: number): number {
    return topicKeys.indexOf(topic) * this.setup.partitions + partition;
  }

  unpublished(service: ServiceName): number {
    return this.processes[service].outbox.length;
  }

  /** The earliest deadline still ahead of the clock, if any saga has one. */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const saga of this.sagas.values()) {
      const at = saga.deadlineAt?.getTime();
      if (at !== undefined && at > this.now && (next === null || at < next)) next = at;
    }
    return next;
  }

  /** The saga the deadline timer picks: the one due first (ties by order id), as its sweep orders them. */
  dueSaga(): OrderSaga | null {
    let due: OrderSaga | null = null;
    for (const saga of this.sagas.values()) {
      const at = saga.deadlineAt?.getTime();
      if (at === undefined || at > this.now) continue;
      if (
        due === null ||
        at < due.deadlineAt!.getTime() ||
        (at === due.deadlineAt!.getTime() && saga.orderId < due.orderId)
      )
        due = saga;
    }
    return due;
  }

  // ---- doing it -------------------------------------------------------------------------------

  /** Performs `action` if it is enabled; returns whether it was. */
  perform(action: Action): boolean {
    if (!this.enabled(action)) return false;
    if (this.trace) this.line = `${clock(this.now - this.start)}  ${describe(action)}`;
    switch (action.kind) {
      case 'place':
        this.place(action.order);
        break;
      case 'relay':
        this.relay(action.service, action.crash ?? false);
        break;
      case 'deliver':
        this.deliver(action.service, action.topic, action.partition, action.crash);
        break;
      case 'dead-letter':
        this.deadLetter(action.service, action.topic, action.partition);
        break;
      case 'replay-dead-letter':
        this.replayDeadLetter(action.messageId);
        break;
      case 'commit':
        this.commitOffsets(action.service);
        break;
      case 'crash':
        this.restart(this.processes[action.service]);
        break;
      case 'outage':
        if (action.target === 'broker') this.brokerDown = action.down;
        else {
          this.processes[action.target].down = action.down;
          // Whatever ran before the outage is gone: the process starts from its committed offsets.
          if (!action.down) this.restart(this.processes[action.target]);
        }
        break;
      case 'tick':
        this.now += action.ms;
        break;
      case 'jump':
        this.now = this.nextDeadline()!;
        if (this.trace) this.say(`to ${clock(this.now - this.start)}`);
        break;
      case 'timer': {
        const saga = this.dueSaga()!;
        if (this.trace) this.say(`${short(saga.orderId)} ${saga.status} attempt ${saga.attempt}`);
        this.decideSaga(saga, this.saga.onDeadline(saga, new Date(this.now), this.setup.policy));
        break;
      }
      case 'retry': {
        const saga = this.sagas.get(orderIdOf(action.orderNo))!;
        if (this.saga.retrySaga)
          this.decideSaga(saga, this.saga.retrySaga(saga, new Date(this.now), this.setup.policy));
        else this.say('no operator command exists: nothing happens');
        break;
      }
    }
    if (this.trace) this.trace.push(this.line);
    // The invariants read databases only: actions that write none cannot break them.
    if (writesDatabases[action.kind]) this.checkAlways();
    return true;
  }

  private place(spec: OrderSpec): void {
    const orderId = orderIdOf(spec.no);
    const pricing = priceOrder(spec.items, new Map(Object.entries(this.setup.prices)));
    if (pricing.kind !== 'priced') throw new Error(`order ${spec.no} cannot be priced: ${pricing.kind}`);
    const data: OrderData = {
      customerId: spec.customerId,
      total: pricing.total,
      items: spec.items.map(({ sku, quantity }) => ({ sku, quantity })),
      address: { country: spec.country, city: 'Lyon', line1: '1 rue de la Paix' },
    };
    this.orders.set(orderId, { spec, data });
    this.placedNumbers.add(spec.no);
    this.effects.set(orderId, { captures: 0, captured: 0, refunds: 0, refunded: 0, shipments: 0 });
    const decision = this.saga.startSaga(orderId, data, new Date(this.now), this.setup.policy);
    if (this.trace) this.say(`total ${data.total}`);
    this.decideSaga(undefined, decision);
  }

  private relay(service: ServiceName, crash: boolean): void {
    const process = this.processes[service];
    const row = process.outbox[0]!;
    const topic = topicOf(row.type);
    let number = this.partitionOfOrder.get(row.key);
    if (number === undefined) {
      number = partitionOf(row.key, this.setup.partitions);
      this.partitionOfOrder.set(row.key, number);
    }
    const partition = this.log[this.slot(topic, number)]!;
    partition.push(row);
    if (this.trace)
      this.say(
        `${row.type} ${short(row.key)} [${row.messageId}] → ${topic}/${number}@${partition.length - 1}`,
      );
    if (crash) {
      // Published but not marked: the next relay publishes the same row, with the same message id.
      this.say('and dies before marking it published');
      this.restart(process);
      return;
    }
    process.outbox.shift();
  }

  private deliver(
    service: ServiceName,
    topic: TopicKey,
    partition: number,
    crash: 'before-commit' | 'after-commit' | undefined,
  ): void {
    const process = this.processes[service];
    const slot = this.slot(topic, partition);
    const offset = process.position[slot]!;
    const record = this.log[slot]![offset]!;
    if (this.trace) this.say(`@${offset} ${record.type} ${short(record.key)} [${record.messageId}]`);
    if (crash === 'before-commit') {
      this.say('and dies before its transaction commits');
      this.restart(process);
      return;
    }
    if (!handledBy[service].includes(record.type)) this.say('not handled here: skipped');
    else if (process.inbox.has(record.messageId)) this.say('already in the inbox: skipped');
    else {
      this.handle(service, record);
      process.inbox.add(record.messageId);
    }
    process.position[slot] = offset + 1;
    if (crash === 'after-commit') {
      this.say('and dies before committing its offset');
      this.restart(process);
    }
  }

  /**
   * The handler fails on the next message for a reason retries do not cure (a bug, a bad row):
   * the transport sends it to the dead-letter topic and moves on, without an inbox record.
   */
  private deadLetter(service: ServiceName, topic: TopicKey, partition: number): void {
    const process = this.processes[service];
    const slot = this.slot(topic, partition);
    const offset = process.position[slot]!;
    const record = this.log[slot]![offset]!;
    this.deadLetters.push({ topic, record });
    process.position[slot] = offset + 1;
    if (this.trace)
      this.say(`@${offset} ${record.type} ${short(record.key)} [${record.messageId}] → ${topic}.dlt`);
  }

  /** An operator replays a dead letter (`pnpm dlt replay`): same message, same id, at the end of its partition. */
  private replayDeadLetter(messageId: string): void {
    const index = this.deadLetters.findIndex((letter) => letter.record.messageId === messageId);
    const [{ topic, record }] = this.deadLetters.splice(index, 1) as [DeadLetter];
    const partition = this.log[this.slot(topic, this.partitionOfOrder.get(record.key)!)]!;
    partition.push(record);
    if (this.trace)
      this.say(`${record.type} ${short(record.key)} [${messageId}] → ${topic}@${partition.length - 1}`);
  }

  /** Message ids of the dead letters not replayed yet, oldest first. */
  pendingDeadLetters(): string[] {
    return this.deadLetters.map((letter) => letter.record.messageId);
  }

  private commitOffsets(service: ServiceName): void {
    const process = this.processes[service];
    process.committed.splice(0, process.committed.length, ...process.position);
  }

  private restart(process: Process): void {
    process.position = [...process.committed];
  }

  private enqueue(service: ServiceName, sends: readonly { type: string; payload: unknown }[]): void {
    const process = this.processes[service];
    for (const send of sends) {
      let payload: LogRecord['payload'];
      try {
        // As the outbox does: a message that breaks its contract is never stored, the transaction fails.
        payload = validateMessage(send.type, currentVersion(send.type), send.payload) as LogRecord['payload'];
      } catch (error) {
        throw new InvariantViolation(
          'messages-meet-their-contract',
          `${service} sends ${send.type}: ${(error as Error).message}`,
        );
      }
      process.sent += 1;
      process.outbox.push({
        messageId: `${service[0]}${process.sent}`,
        type: send.type as MessageType,
        key: payload.orderId,
        payload,
      });
    }
  }

  // ---- the handlers: load, decide (the real code), save ----------------------------------------

  private handle(service: ServiceName, record: LogRecord): void {
    try {
      switch (service) {
        case 'order':
          return this.onReply(record);
        case 'inventory':
          return this.onInventoryMessage(record);
        case 'payment':
          return this.onPaymentCommand(record);
        case 'shipping':
          return this.onShippingCommand(record);
      }
    } catch (error) {
      if (error instanceof InvariantViolation) throw error;
      // The transport would retry it and then dead-letter it: the saga would wait for a reply forever.
      throw new InvariantViolation(
        'handler-throws',
        `${service} failed on ${record.type} ${short(record.key)}: ${(error as Error).message}`,
      );
    }
  }

  private onReply(record: LogRecord): void {
    const saga = this.sagas.get(record.key);
    if (!saga) throw new Error(`no saga for order ${record.key}`);
    const reply = { type: record.type, payload: record.payload } as Reply;
    this.decideSaga(saga, this.saga.advance(saga, reply, new Date(this.now), this.setup.policy));
  }

  private decideSaga(before: OrderSaga | undefined, decision: Decision): void {
    // The runner dead-letters a rejected reply. Every reply here comes from the real participants,
    // answering commands the saga sent: rejecting one loses an answer the saga may be waiting for.
    if (decision.rejected !== undefined)
      throw new InvariantViolation('genuine-replies-accepted', decision.rejected);
    const after = decision.saga;
    for (const { type } of decision.send) {
      if (!outcomes.has(type)) continue;
      // Downstream readers (projections, e-mails, the inventory's commit) take the first outcome
      // announced as the order's fate: a second, different or not, contradicts or repeats it.
      const announced = this.outcomes.get(after.orderId);
      if (announced)
        fail('one-outcome-per-order', `${short(after.orderId)} announces ${type} after ${announced}`);
      this.outcomes.set(after.orderId, type);
    }
    this.sagas.set(after.orderId, after);
    if (after.status === 'COMPENSATION_FAILED') this.everFailed.add(after.orderId);
    this.enqueue('order', decision.send);
    if (!this.trace) return;
    const moved =
      before && before.status === after.status
        ? after.status
        : `${before ? `${before.status}→` : ''}${after.status}`;
    const sends = decision.send.map((s) => s.type).join(', ');
    if (this.trace) this.say(`⇒ ${short(after.orderId)} ${moved}${sends ? `, sends ${sends}` : ''}`);
  }

  private onInventoryMessage(record: LogRecord): void {
    const orderId = record.key;
    const existing = this.reservations.get(orderId) ?? null;
    let decision: StockDecision;
    switch (record.type) {
      case 'ReserveStock': {
        const command = record.payload as unknown as Parameters<typeof reserve>[1];
        // As the handler: a known order is answered from its reservation, without reading stock.
        const skus = existing ? [] : [...new Set(command.items.map((line) => line.sku))].sort();
        const stock = skus.flatMap((sku) => {
          const product = this.products.get(sku);
          return product ? [{ sku, onHand: product.onHand }] : [];
        });
        decision = this.participants.reserve(existing, command, stock);
        break;
      }
      case 'ReleaseStock':
        decision = this.participants.release(
          existing,
          record.payload as unknown as Parameters<typeof release>[1],
        );
        break;
      case 'OrderConfirmed':
        decision = this.participants.commit(
          existing,
          record.payload as unknown as Parameters<typeof commit>[1],
        );
        break;
      default:
        throw new Error(`inventory has no handler for ${record.type}`);
    }
    if (decision.note?.level === 'error')
      throw new InvariantViolation('participant-error', decision.note.text);
    if (decision.save) this.reservations.set(orderId, decision.save);
    for (const move of decision.moves) {
      const product = this.products.get(move.sku)!;
      product[move.from] -= move.quantity;
      product[move.to] += move.quantity;
    }
    this.enqueue('inventory', decision.send);
    if (this.trace)
      this.say(`⇒ reservation ${this.reservations.get(orderId)?.status ?? 'none'}${replies(decision.send)}`);
  }

  private onPaymentCommand(record: LogRecord): void {
    const orderId = record.key;
    const existing = this.payments.get(orderId) ?? null;
    const now = new Date(this.now);
    let outcome: Outcome;
    switch (record.type) {
      case 'ChargePayment': {
        const command = record.payload as unknown as Parameters<typeof decideCharge>[0];
        const customer = existing ? null : this.customer(command.customerId);
        outcome = this.participants.decideCharge(command, existing, customer, {
          paymentId: this.freshId('9'),
          now,
        });
        break;
      }
      case 'RefundPayment': {
        const command = record.payload as unknown as Parameters<typeof decideRefund>[0];
        const customer =
          existing?.status === 'CHARGED' && existing.customerId ? this.customer(existing.customerId) : null;
        outcome = this.participants.decideRefund(command, existing, customer, { now });
        break;
      }
      default:
        throw new Error(`payment has no handler for ${record.type}`);
    }
    if (outcome.payment) this.payments.set(orderId, outcome.payment);
    if (outcome.credit) {
      // Counted by the money that moved, not by the payment's status: a second charge of an order
      // already CHARGED shows here even if the row still says CHARGED once.
      const effects = this.effects.get(orderId)!;
      const moved = outcome.credit.availableCredit - this.credit.get(outcome.credit.id)!;
      if (moved < 0) {
        effects.captures += 1;
        effects.captured -= moved;
      } else if (moved > 0) {
        effects.refunds += 1;
        effects.refunded += moved;
      }
      this.credit.set(outcome.credit.id, outcome.credit.availableCredit);
    }
    this.enqueue('payment', [outcome.reply]);
    if (this.trace)
      this.say(`⇒ payment ${this.payments.get(orderId)?.status ?? 'none'}${replies([outcome.reply])}`);
  }

  private customer(id: string): { id: string; availableCredit: number } | null {
    const credit = this.credit.get(id);
    return credit === undefined ? null : { id, availableCredit: credit };
  }

  private onShippingCommand(record: LogRecord): void {
    const orderId = record.key;
    const current = this.shipments.get(orderId) ?? null;
    let decision;
    switch (record.type) {
      case 'CreateShipment': {
        const command = record.payload as unknown as Parameters<typeof decideCreateShipment>[1];
        decision = this.participants.decideCreateShipment(current, command, {
          countryServed: !this.setup.unservedCountries.includes(command.address.country),
          newShipmentId: this.freshId('a'),
        });
        break;
      }
      case 'CancelShipment':
        decision = this.participants.decideCancelShipment(
          current,
          record.payload as unknown as Parameters<typeof decideCancelShipment>[1],
        );
        break;
      default:
        throw new Error(`shipping has no handler for ${record.type}`);
    }
    if (decision.shipment) {
      if (decision.shipment.status === 'CREATED' && current?.status !== 'CREATED')
        this.effects.get(orderId)!.shipments += 1;
      this.shipments.set(orderId, decision.shipment);
    }
    this.enqueue('shipping', [decision.reply]);
    if (this.trace)
      this.say(`⇒ shipment ${this.shipments.get(orderId)?.status ?? 'none'}${replies([decision.reply])}`);
  }

  /** A uuid the participants' handlers would take from randomUUID(), made deterministic. */
  private freshId(variant: string): string {
    this.ids += 1;
    return `00000000-0000-4000-${variant}000-${this.ids.toString(16).padStart(12, '0')}`;
  }

  // ---- invariants ------------------------------------------------------------------------------

  /** What must hold after every step, whatever is still in flight. */
  checkAlways(): void {
    for (const [sku, product] of this.products) {
      if (product.onHand < 0 || product.reserved < 0 || product.shipped < 0)
        fail('stock-never-negative', `${sku}: ${JSON.stringify(product)}`);
      const total = product.onHand + product.reserved + product.shipped;
      if (total !== this.setup.stock[sku])
        fail(
          'stock-conserved',
          `${sku}: on hand + reserved + shipped = ${total}, initially ${this.setup.stock[sku]}`,
        );
    }
    for (const [orderId, effects] of this.effects) {
      if (effects.captures > 1)
        fail('at-most-one-capture', `${short(orderId)} charged ${effects.captures} times`);
      if (effects.refunds > 1)
        fail('at-most-one-refund', `${short(orderId)} refunded ${effects.refunds} times`);
      if (effects.shipments > 1)
        fail('at-most-one-shipment', `${short(orderId)} shipped ${effects.shipments} times`);
    }
    const held = this.held;
    held.clear();
    for (const payment of this.payments.values())
      if (payment.status === 'CHARGED' && payment.customerId !== null)
        held.set(payment.customerId, (held.get(payment.customerId) ?? 0) + payment.amount);
    for (const customer of this.customers) {
      const initial = this.setup.credit[customer]!;
      const credit = this.credit.get(customer)!;
      if (credit < 0) fail('credit-never-negative', `${customer} has ${credit}`);
      const charged = held.get(customer) ?? 0;
      if (credit + charged !== initial)
        fail('money-conserved', `${customer}: credit ${credit} + charged ${charged} ≠ initial ${initial}`);
    }
    for (const saga of this.sagas.values()) {
      // Backpressure counts the sagas with a deadline: one still waiting for an answer must have one.
      const waiting =
        saga.status in inFlight || (saga.status === 'COMPENSATION_FAILED' && saga.pending.length > 0);
      if (waiting && saga.deadlineAt === null)
        fail(
          'unfinished-sagas-count-as-in-flight',
          `${short(saga.orderId)} is ${saga.status} (pending ${saga.pending.join(', ') || 'nothing'}) without a deadline`,
        );
      if (saga.status !== 'CONFIRMED') continue;
      const shipment = this.shipments.get(saga.orderId)?.status ?? 'none';
      if (shipment !== 'CREATED')
        fail(
          'confirmed-order-has-its-shipment',
          `${short(saga.orderId)} is CONFIRMED, its shipment is ${shipment}`,
        );
      const payment = this.payments.get(saga.orderId)?.status ?? 'none';
      if (payment !== 'CHARGED')
        fail('confirmed-order-is-paid', `${short(saga.orderId)} is CONFIRMED, its payment is ${payment}`);
    }
  }

  /**
   * What must hold once faults have stopped, every participant is back, operators have retried
   * every failed saga and nothing is left to deliver or to time out.
   */
  checkQuiescent(): void {
    const shippedBySku = new Map<string, number>();
    for (const [orderId, { data }] of this.orders) {
      const saga = this.sagas.get(orderId)!;
      const o = short(orderId);
      if (!(terminalStatuses as readonly string[]).includes(saga.status))
        fail('every-saga-ends', `${o} is still ${saga.status} with nothing left to deliver`);
      if (saga.status === 'COMPENSATION_FAILED')
        fail(
          'no-compensation-failed-after-operator-retry',
          `${o} stays COMPENSATION_FAILED (pending ${saga.pending.join(', ') || 'nothing'}) although every participant is back and an operator retried it`,
        );
      const effects = this.effects.get(orderId)!;
      const confirmed = saga.status === 'CONFIRMED';
      const kept = effects.captured - effects.refunded;
      if (kept !== (confirmed ? data.total : 0))
        fail(
          'money-kept-only-for-confirmed-orders',
          `${o} is ${saga.status}, total ${data.total}, captured − refunded = ${kept}`,
        );
      const shipment = this.shipments.get(orderId)?.status;
      if (!confirmed && shipment === 'CREATED')
        fail('no-shipment-for-unconfirmed-orders', `${o} is ${saga.status} and its shipment is CREATED`);
      if (confirmed)
        for (const line of data.items)
          shippedBySku.set(line.sku, (shippedBySku.get(line.sku) ?? 0) + line.quantity);
    }
    for (const [sku, product] of this.products) {
      if (product.reserved !== 0)
        fail('no-stock-stays-reserved', `${sku}: ${product.reserved} units still reserved`);
      const shipped = shippedBySku.get(sku) ?? 0;
      if (product.shipped !== shipped)
        fail(
          'stock-shipped-only-for-confirmed-orders',
          `${sku}: ${product.shipped} shipped, confirmed orders hold ${shipped}`,
        );
    }
  }

  private say(text: string): void {
    if (this.trace) this.line += ` ${text}`;
  }
}

const writesDatabases: Record<Action['kind'], boolean> = {
  place: true,
  deliver: true,
  timer: true,
  retry: true,
  relay: false,
  'dead-letter': false,
  'replay-dead-letter': false,
  commit: false,
  crash: false,
  outage: false,
  tick: false,
  jump: false,
};
const outcomes = new Set(['OrderConfirmed', 'OrderRejected', 'OrderCancelled']);
const inFlight = { RESERVING: true, CHARGING: true, SHIPPING: true, COMPENSATING: true };

function compensating(saga: OrderSaga): boolean {
  return saga.status === 'COMPENSATION_FAILED' || saga.status === 'COMPENSATING';
}

function fail(rule: string, detail: string): never {
  throw new InvariantViolation(rule, detail);
}

/** The id of order number `no`: a valid uuid whose tail is the number, so traces stay readable. */
export function orderIdOf(no: number): string {
  return `00000000-0000-4000-8000-${no.toString().padStart(12, '0')}`;
}

function short(orderId: string): string {
  return `o${Number.parseInt(orderId.slice(-12), 10)}`;
}

function replies(sends: readonly Send[] | readonly { type: string }[]): string {
  return sends.length > 0 ? `, replies ${sends.map((s) => s.type).join(', ')}` : '';
}

/** Elapsed simulated time as m:ss.mmm. */
export function clock(ms: number): string {
  const minutes = Math.floor(ms / MINUTE);
  const seconds = ((ms % MINUTE) / 1000).toFixed(3).padStart(6, '0');
  return `${minutes}:${seconds}`;
}

/** An action as one line of a trace. */
export function describe(action: Action): string {
  switch (action.kind) {
    case 'place': {
      const { no, customerId, items, country } = action.order;
      return `place o${no}: ${customerId} orders ${items.map((l) => `${l.quantity}×${l.sku}`).join(' + ')} to ${country}`;
    }
    case 'relay':
      return `${action.service} relay publishes${action.crash ? ' (crash)' : ''}`;
    case 'deliver':
      return `${action.service} consumes ${action.topic}/${action.partition}${action.crash ? ` (crash ${action.crash})` : ''}`;
    case 'dead-letter':
      return `${action.service} dead-letters the next message of ${action.topic}/${action.partition}`;
    case 'replay-dead-letter':
      return `operator replays dead letter [${action.messageId}]`;
    case 'commit':
      return `${action.service} commits its offsets`;
    case 'crash':
      return `${action.service} crashes and restarts`;
    case 'outage':
      return `${action.target} ${action.down ? 'goes DOWN' : 'comes back UP'}`;
    case 'tick':
      return `clock +${action.ms} ms`;
    case 'jump':
      return 'clock jumps to the next deadline';
    case 'timer':
      return 'deadline timer fires:';
    case 'retry':
      return `operator retries o${action.orderNo}:`;
  }
}
