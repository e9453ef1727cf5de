import type { SagaPolicy } from '@order-saga/order/saga';
import type { Action, ActionKind, OrderSpec, OutageTarget } from './actions.js';
import type { Random } from './random.js';
import type { Setup, SimulatedSystem } from './system.js';
import { serviceNames, subscriptions, type ServiceName } from './topology.js';

type ChoiceKind = Exclude<ActionKind, 'outage'> | 'outage-start' | 'outage-end';

/**
 * What one seed simulates: the world it starts from, the orders customers will place, and how
 * often each kind of fault happens. Faults are switched on and off per seed ("swarm testing"): a
 * run without crashes but with long outages explores schedules that an even mix of everything
 * rarely reaches.
 */
export interface Profile {
  setup: Setup;
  orders: OrderSpec[];
  /** Actions before faults stop and the system is left to drain. */
  steps: number;
  weights: Record<ChoiceKind, number>;
  /** Chance (percent) that a delivery crashes its process, before or after its transaction. */
  deliveryCrashPercent: number;
  /** Chance (percent) that the relay dies between publishing a row and marking it published. */
  relayCrashPercent: number;
}

const skus = ['widget', 'gadget', 'gizmo'] as const;
const prices = { widget: 1500, gadget: 2500, gizmo: 999 };
// carol is unknown to the payment service: her charges are declined.
const customers = ['alice', 'bob', 'bob', 'carol'] as const;
// AQ is not served: its shipments are refused and the saga compensates.
const countries = ['FR', 'FR', 'DE', 'AQ'] as const;
const outageTargets: readonly OutageTarget[] = [...serviceNames, 'broker'];

/**
 * Draws a seed's profile: the world (policy, stock, credit, orders) from `rng`, the fault mix from
 * `faults`, a separate stream, so that changing the faults keeps the worlds (and the scripts
 * replayed in them) as they were. Half the seeds run the saga with its default policy, the others
 * with any policy an operator may configure (one attempt per step, no backoff, …), unless `policy`
 * fixes it.
 */
export function drawProfile(rng: Random, faults: Random, defaults: SagaPolicy, policy?: SagaPolicy): Profile {
  const drawn: SagaPolicy = rng.percent(50)
    ? defaults
    : {
        stepTimeoutMs: rng.int(1, 10) * 1000,
        stepMaxAttempts: rng.int(1, 4),
        compensationMaxAttempts: rng.int(1, 6),
        compensationBackoffMs: rng.int(0, 3) * 1000,
      };
  const setup: Setup = {
    partitions: rng.int(1, 3),
    policy: policy ?? drawn,
    stock: Object.fromEntries(skus.map((sku) => [sku, rng.int(0, 8)])),
    prices,
    credit: { alice: rng.int(0, 20_000), bob: 1_000_000 },
    unservedCountries: ['AQ'],
  };
  const orders: OrderSpec[] = [];
  const count = rng.int(1, 6);
  for (let no = 1; no <= count; no++) {
    const lines = rng.int(1, 2);
    const first = rng.int(0, skus.length - 1);
    const items = [];
    for (let i = 0; i < lines; i++)
      items.push({ sku: skus[(first + i) % skus.length]!, quantity: rng.int(1, 3) });
    orders.push({ no, customerId: rng.pick(customers), items, country: rng.pick(countries) });
  }
  const sometimes = (percent: number, min: number, max: number) =>
    faults.percent(percent) ? faults.int(min, max) : 0;
  return {
    setup,
    orders,
    steps: faults.int(20, 300),
    weights: {
      place: 4,
      relay: 12,
      deliver: 24,
      commit: 6,
      timer: 6,
      crash: sometimes(50, 1, 3),
      'dead-letter': sometimes(25, 1, 2),
      'replay-dead-letter': sometimes(60, 1, 3),
      'outage-start': sometimes(60, 1, 3),
      'outage-end': faults.int(1, 6),
      tick: faults.int(1, 4),
      jump: sometimes(70, 1, 6),
      retry: sometimes(60, 1, 3),
    },
    deliveryCrashPercent: sometimes(50, 2, 15),
    relayCrashPercent: sometimes(40, 2, 15),
  };
}

/** Picks the next action among those possible now, or null when nothing is. */
export function chooseAction(rng: Random, profile: Profile, system: SimulatedSystem): Action | null {
  // Which kinds are possible is cheap to tell; the candidates of the kind drawn are listed after.
  const orderUp = !system.isDown('order');
  const brokerUp = !system.brokerDown;
  const next = orderUp ? profile.orders.find((order) => !system.placed(order.no)) : undefined;
  const live = serviceNames.filter((service) => !system.isDown(service));
  const relays = brokerUp ? live.filter((service) => system.unpublished(service) > 0) : [];
  const commits = brokerUp ? live.filter((service) => system.uncommitted(service)) : [];
  const deliveries = brokerUp ? deliverable(profile, system, live) : [];
  const down = outageTargets.filter((target) => system.isDown(target));
  const failed = orderUp ? system.compensatingSagas() : [];
  const deadLetters = brokerUp ? system.pendingDeadLetters() : [];
  const possible: Record<ChoiceKind, boolean> = {
    place: next !== undefined,
    relay: relays.length > 0,
    deliver: deliveries.length > 0,
    'dead-letter': deliveries.length > 0,
    'replay-dead-letter': deadLetters.length > 0,
    commit: commits.length > 0,
    crash: live.length > 0,
    'outage-start': down.length < outageTargets.length,
    'outage-end': down.length > 0,
    tick: true,
    jump: system.nextDeadline() !== null,
    timer: orderUp && system.dueSaga() !== null,
    retry: failed.length > 0,
  };
  const kind = rng.weighted(
    (Object.keys(possible) as ChoiceKind[]).map((k) => [k, possible[k] ? profile.weights[k] : 0] as const),
  );
  switch (kind) {
    case null:
      return null;
    case 'place':
      return { kind: 'place', order: next! };
    case 'relay': {
      const action: Action = { kind: 'relay', service: rng.pick(relays) };
      return rng.percent(profile.relayCrashPercent) ? { ...action, crash: true } : action;
    }
    case 'deliver': {
      const action = rng.pick(deliveries);
      return rng.percent(profile.deliveryCrashPercent)
        ? { ...action, crash: rng.percent(50) ? 'before-commit' : 'after-commit' }
        : action;
    }
    case 'dead-letter':
      return { ...rng.pick(deliveries), kind: 'dead-letter' };
    case 'replay-dead-letter':
      return { kind: 'replay-dead-letter', messageId: rng.pick(deadLetters) };
    case 'commit':
      return { kind: 'commit', service: rng.pick(commits) };
    case 'crash':
      return { kind: 'crash', service: rng.pick(live) };
    case 'outage-start':
      return { kind: 'outage', target: rng.pick(outageTargets.filter((t) => !down.includes(t))), down: true };
    case 'outage-end':
      return { kind: 'outage', target: rng.pick(down), down: false };
    case 'tick':
      return { kind: 'tick', ms: rng.int(1, 3_000) };
    case 'jump':
      return { kind: 'jump' };
    case 'timer':
      return { kind: 'timer' };
    case 'retry':
      return { kind: 'retry', orderNo: rng.pick(failed) };
  }
}

function deliverable(
  profile: Profile,
  system: SimulatedSystem,
  live: readonly ServiceName[],
): Extract<Action, { kind: 'deliver' }>[] {
  const found: Extract<Action, { kind: 'deliver' }>[] = [];
  for (const service of live)
    for (const topic of subscriptions[service])
      for (let partition = 0; partition < profile.setup.partitions; partition++)
        if (system.backlog(service, topic, partition) > 0)
          found.push({ kind: 'deliver', service, topic, partition });
  return found;
}
