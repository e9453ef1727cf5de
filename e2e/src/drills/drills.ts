import { createKafka, type HeldBatch } from '@order-saga/outbox';
import { TcpProxy, waitFor } from '@order-saga/testing';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import pg from 'pg';
import {
  currentVersion,
  deadLetterTopic,
  encodeHeaders,
  messageSpec,
  topicsFor,
  validateMessage,
  wireHeaders,
  type MessageType,
} from '@order-saga/contracts';
import {
  readDeadLetters,
  replayDeadLetters,
  type DeadLetterRecord,
  type HeldRun,
} from '@order-saga/consumer';
import { SagaSystem, terminal, type Service } from '../saga/system.js';
import {
  drillEnv,
  recoveryBoundMs,
  type AttachableDrill,
  type Drill,
  type DrillContext,
  type DrillSystem,
  type Evidence,
  type OwnSystemDrill,
} from './drill.js';
import { consumerLag } from './invariants.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Messages a participant has applied (inbox rows) at or past its group's committed offset on
 * `topic`: with the process dead, each of them will be delivered again. More than zero proves the
 * kill landed between a database commit and its offset commit.
 */
async function appliedNotCommitted(system: DrillSystem, service: Service, topic: string): Promise<number> {
  const rows = await system.query<{ consumer: string; partition: number; offset: string }>(
    service,
    'SELECT consumer, partition, "offset"::text AS offset FROM inbox WHERE topic = $1',
    [topic],
  );
  if (rows.length === 0) return 0;
  const admin = createKafka({ clientId: `${system.name}-offsets`, brokers: system.kafkaBrokers }).admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({
      groupId: `${system.prefix}${rows[0]!.consumer}`,
      topics: [topic],
    });
    const at = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    return rows.filter((r) => Number(r.offset) >= Math.max(at.get(r.partition) ?? 0, 0)).length;
  } finally {
    await admin.disconnect();
  }
}

/** kill -9 `service` at random moments, restarting it each time, until `measure` proves a kill landed. */
async function killUntilProven(
  ctx: DrillContext,
  service: Service,
  measure: () => Promise<number>,
  tries = 6,
): Promise<{ kills: number; measured: number }> {
  for (let kill = 1; kill <= tries; kill++) {
    await ctx.system.kill(service);
    const measured = await measure();
    ctx.log(`kill -9 ${service} #${kill}: ${measured}`);
    await ctx.system.restart(service);
    if (measured > 0) return { kills: kill, measured };
    await sleep(300 + Math.random() * 700);
  }
  return { kills: tries, measured: 0 };
}

const orderSteps = async (system: DrillSystem, orderId: string) =>
  (await system.order(orderId).catch(() => undefined))?.steps.map((s) => `${s.name}:${s.outcome}`) ?? [];

/** The drills, in the order `pnpm drill all` runs them. */
export const drills: Drill[] = [
  consumerCrash(),
  relayCrash(),
  outOfOrderCommits(),
  {
    name: 'poison',
    summary:
      'a malformed and a wrong-schema message on every consumed topic → each dead-lettered once with its contract error, orders keep flowing; replayed unfixed → dead-lettered again, never applied; a wrong-schema compensation per command topic corrected on its DLT and replayed twice → applied exactly once',
    drainBoundMs: 90_000,
    deadLetters: true,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(5);
      const t = topicsFor(ctx.system.prefix);
      const targets: [string, string][] = [
        [t.inventory.commands, 'ReserveStock'],
        [t.payment.commands, 'ChargePayment'],
        [t.shipping.commands, 'CreateShipment'],
        [t.inventory.events, 'StockReserved'],
        [t.payment.events, 'PaymentCharged'],
        [t.shipping.events, 'ShipmentCreated'],
        [t.order.events, 'OrderConfirmed'],
      ];
      const kafka = kafkaFor(ctx.system);
      // Only these are the drill's: an attached system's dead-letter topics hold their history.
      const ours = new Set<string>();
      const poisonOf = (type: string, value: string) => {
        const orderId = randomUUID();
        const messageId = randomUUID();
        ours.add(messageId);
        return {
          key: orderId,
          value,
          headers: {
            [wireHeaders.messageId]: messageId,
            [wireHeaders.type]: type,
            [wireHeaders.schemaVersion]: '1',
            [wireHeaders.occurredAt]: new Date().toISOString(),
            [wireHeaders.aggregateType]: 'order',
            [wireHeaders.correlationId]: orderId,
          },
        };
      };
      const admin = kafka.admin();
      await admin.connect();
      const dltRecords = async () => {
        let n = 0;
        for (const [topic] of targets) {
          const offsets = await admin.fetchTopicOffsets(deadLetterTopic(topic)).catch(() => []);
          n += offsets.reduce((sum, p) => sum + Number(p.high), 0);
        }
        return n;
      };
      const history = await dltRecords();
      const dltCount = async () => (await dltRecords()) - history;
      const producer = kafka.producer();
      await producer.connect();
      try {
        for (const [topic, type] of targets)
          await producer.send({
            topic,
            messages: [
              poisonOf(type, '{"not json'),
              poisonOf(type, JSON.stringify({ orderId: randomUUID() })),
            ],
          });
      } finally {
        await producer.disconnect();
      }
      try {
        const expected = targets.length * 2;
        await waitFor(async () => (await dltCount()) >= expected, { timeoutMs: 60_000 }).catch(
          () => undefined,
        );
        const first = await dltCount();
        let replayed = 0;
        for (const [topic] of targets)
          replayed += await replayDeadLetters(
            kafka,
            (await readDeadLetters(kafka, deadLetterTopic(topic))).filter((r) => ours.has(r.messageId ?? '')),
          );
        // `pnpm dlt replay` appends one marker record per replayed record to the dead-letter topic
        // (README "Observability"), and each replayed poison is dead-lettered again.
        await waitFor(async () => (await dltCount()) >= first + 2 * replayed, { timeoutMs: 60_000 }).catch(
          () => undefined,
        );
        await sleep(2000);
        const second = await dltCount();
        const fix = await fixAndReplay(ctx, kafka);
        return {
          fault: `${expected} poison messages (a malformed and a wrong-schema one on each of ${targets.length} consumed topics), then replayed; ${fix.targets} more on the command topics, corrected on their dead-letter topics and replayed twice`,
          proven:
            first === expected &&
            replayed === expected &&
            second === first + 2 * replayed &&
            fix.deadLettered === fix.targets &&
            fix.appliedOnce === fix.targets,
          duplicatesDelivered: replayed + fix.deadLettered,
          figures: {
            'dead-lettered': first,
            replayed,
            'dead-lettered again after the replay (not applied)': second - first - replayed,
            'corrected and replayed twice': fix.deadLettered,
            'applied exactly once (one reply caused by each)': fix.appliedOnce,
            ...(fix.problems.length > 0 ? { problems: fix.problems.join('; ') } : {}),
          },
        };
      } finally {
        await admin.disconnect();
      }
    },
  },
  {
    name: 'ambiguous-payment',
    ownSystemOnly:
      "its 8 s freeze must outlast the drill settings' charge deadline (2 × 3 s), not the running system's (3 × 5 s)",
    summary:
      'freeze payment (SIGSTOP) past the charge deadline, then SIGCONT: charges commit but their replies arrive late → one capture, or one capture + one refund, never two captures',
    drainBoundMs: 120_000,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(5);
      await ctx.system.pause('payment');
      // Two sends of 3 s each, and some margin: every charge in flight is past its deadline.
      await sleep(8000);
      await ctx.system.resume('payment');
      await ctx.load.done;
      // An order whose charge step timed out yet was charged: the reply came too late.
      await sleep(5000);
      const late: string[] = [];
      const events = await ctx.system.events('payment');
      const charged = new Set(
        events.filter((e) => e.type === 'PaymentCharged').map((e) => e.payload.orderId as string),
      );
      for (const orderId of ctx.load.accepted.keys())
        if (
          charged.has(orderId) &&
          (await orderSteps(ctx.system, orderId)).includes('charge-payment:timed-out')
        )
          late.push(orderId);
      return {
        fault: 'SIGSTOP payment for 8 s (charge deadline 2 × 3 s), then SIGCONT',
        proven: late.length > 0,
        figures: { 'orders charged after their charge step timed out': late.length },
      };
    },
  },
  {
    name: 'orchestrator-crash',
    summary:
      'kill -9 the order service while it compensates (refund and release requested, unanswered) → each compensation applied once, the saga ends CANCELLED',
    drainBoundMs: 120_000,
    inject: async (ctx) => {
      const { system } = ctx;
      await ctx.acceptedAtLeast(5);
      await system.kill('shipping');
      const orderId = await system.place({
        customerId: 'alice',
        items: [{ sku: 'widget', quantity: 1 }],
        shippingAddress: { country: 'AQ', city: 'McMurdo', line1: 'Station' },
      });
      // The drill's own order counts as placed and accepted, so the report's figures add up.
      ctx.load.placed += 1;
      ctx.load.accepted.set(orderId, 'alice');
      await waitFor(async () => (await orderSteps(system, orderId)).includes('create-shipment:requested'), {
        timeoutMs: 60_000,
      });
      // Compensations will have nowhere to go: payment and inventory are down when shipping refuses.
      await system.kill('payment');
      await system.kill('inventory');
      await ctx.system.restart('shipping');
      await waitFor(async () => (await orderSteps(system, orderId)).includes('RefundPayment:requested'), {
        timeoutMs: 60_000,
      });
      // The order table says PENDING until the saga ends: what is in flight shows in its steps.
      const atKill = await system.order(orderId);
      const compensating =
        !terminal.includes(atKill.status) &&
        atKill.steps.some((s) => s.name === 'RefundPayment' && s.outcome === 'requested');
      await system.kill('order');
      ctx.log(
        `kill -9 order while ${orderId} waits for its refund (steps: ${atKill.steps.map((s) => `${s.name}:${s.outcome}`).join(', ')})`,
      );
      await ctx.system.restart('payment');
      await ctx.system.restart('inventory');
      await ctx.system.restart('order');
      return {
        fault: 'kill -9 order during compensation (refund and release requested, not answered)',
        proven: compensating,
        figures: {
          'compensations in flight at the kill': compensating
            ? atKill.steps.filter((s) => /^[A-Z]/.test(s.name) && s.outcome === 'requested').length
            : 0,
        },
      };
    },
  },
  {
    name: 'duplicates',
    summary:
      "stop payment, move its consumer group's offsets on payment.commands back by 20 per partition (as kafka-consumer-groups --reset-offsets --shift-by -20 does), restart → every command in the range delivered again, no second effect",
    drainBoundMs: 90_000,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(Math.max(10, Math.floor(ctx.load.placed / 2)));
      const topic = topicsFor(ctx.system.prefix).payment.commands;
      // Commands reach payment after stock is reserved: wait until it has applied some.
      let consumer = '';
      await waitFor(
        async () => {
          const rows = await ctx.system.query<{ consumer: string; n: string }>(
            'payment',
            'SELECT consumer, count(*) AS n FROM inbox WHERE topic = $1 GROUP BY consumer',
            [topic],
          );
          consumer = rows[0]?.consumer ?? '';
          return Number(rows[0]?.n ?? 0) >= 10;
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      );
      const groupId = `${ctx.system.prefix}${consumer}`;
      // A group's offsets can only be moved while it has no member: a graceful stop leaves at once.
      await ctx.system.stopService('payment');
      const admin = kafkaFor(ctx.system).admin();
      await admin.connect();
      let moved = 0;
      try {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const partitions = (committed?.partitions ?? []).map((p) => {
          const at = Number(p.offset);
          const to = Math.max(0, at - 20);
          moved += Math.max(0, at - to);
          return { partition: p.partition, offset: String(to) };
        });
        await admin.setOffsets({ groupId, topic, partitions });
      } finally {
        await admin.disconnect();
      }
      ctx.log(`moved ${groupId} back by ${moved} messages on ${topic}`);
      await ctx.system.restart('payment');
      return {
        fault: `payment's group moved back 20 offsets per partition of payment.commands (${moved} commands)`,
        proven: moved > 0,
        duplicatesDelivered: moved,
        figures: { 'commands delivered again': moved },
      };
    },
  },
  databaseOutage(),
  {
    name: 'zombie',
    summary:
      'SIGSTOP inventory past its consumer session timeout, then SIGCONT → its partitions moved, its stale work is fenced: no double reservation',
    drainBoundMs: 120_000,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(5);
      const members = () => groupMembers(ctx.system, 'inventory');
      let before: string[] = [];
      await waitFor(async () => (before = await members()).length > 0, {
        timeoutMs: 30_000,
        intervalMs: 500,
      });
      await ctx.system.pause('inventory');
      await sleep(35_000);
      const whilePaused = await members();
      await ctx.system.resume('inventory');
      // The coordinator dropped the silent members after their session timeout (10 s): on waking,
      // their heartbeats are refused, their uncommitted work is not committed, and they join again
      // under new member ids. An old id still in a group means nothing was fenced.
      let after: string[] = [];
      await waitFor(
        async () => {
          after = await members();
          return after.length >= before.length && after.every((m) => !before.includes(m));
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      ).catch(() => undefined);
      const dropped = before.filter((m) => !whilePaused.includes(m)).length;
      const rejoined = after.filter((m) => !before.includes(m)).length;
      return {
        fault: 'SIGSTOP inventory for 35 s (past its 10 s consumer session timeout), then SIGCONT',
        proven:
          dropped === before.length && rejoined >= before.length && after.every((m) => !before.includes(m)),
        figures: {
          'paused for (s)': 35,
          "inventory's group members before the pause": before.length,
          'dropped by the coordinator during the pause': dropped,
          'members rejoined under new ids': rejoined,
        },
      };
    },
  },
  rebalanceStorm(),
  incompatibleProducer(),
  longOutage(),
  brokerKill(),
];

/**
 * Member ids in the consumer groups of a service (`<prefix><consumer>`, the consumers named in
 * its inbox), as the group coordinator has them now.
 */
async function groupMembers(system: DrillSystem, service: Service): Promise<string[]> {
  const consumers = await system.query<{ consumer: string }>(service, 'SELECT DISTINCT consumer FROM inbox');
  if (consumers.length === 0) return [];
  const admin = kafkaFor(system).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups(consumers.map((c) => `${system.prefix}${c.consumer}`));
    return groups.flatMap((g) => g.members.map((m) => m.memberId));
  } finally {
    await admin.disconnect();
  }
}

const kafkaFor = (system: DrillSystem) =>
  createKafka({ clientId: `${system.name}-drill`, brokers: system.kafkaBrokers });

/**
 * Payment's database unreachable for 30 s through a TCP proxy (the shared PostgreSQL keeps
 * running): connections dropped and refused, then let through again. The bound follows from the
 * compensation back-off (`recoveryBoundMs`): a saga whose charge timed out during the outage has
 * its refund waiting on payment.commands, answered once payment reads again, or re-sent at the
 * latest a step timeout plus min(cap, outage + back-off) after the return. The report says how
 * long payment took to publish again, so a failure tells "payment did not recover" from "the
 * sagas did not".
 */
function databaseOutage(): OwnSystemDrill {
  const outageMs = 30_000;
  let proxy: TcpProxy | undefined;
  return {
    name: 'database-outage',
    ownSystemOnly: 'it restarts payment with its database behind a TCP proxy that the drill cuts',
    summary:
      "payment's database unreachable for 30 s (a TCP proxy drops and refuses its connections; PostgreSQL keeps running) → waited out, nothing dead-lettered, every saga ends within the back-off bound",
    drainBoundMs: recoveryBoundMs(outageMs, drillEnv),
    prepare: async (system) => {
      const url = new URL(system.databases.get('payment')!.url);
      proxy = await new TcpProxy(url.hostname, Number(url.port || 5432)).start();
      url.port = String(proxy.port);
      await system.processes.get('payment')!.stop();
      await system.startService('payment', { DATABASE_URL: url.toString() });
    },
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(5);
      const before = (await ctx.system.events('payment')).length;
      proxy!.cut();
      await sleep(outageMs);
      const during = (await ctx.system.events('payment')).length;
      const commands = topicsFor(ctx.system.prefix).payment.commands;
      const waiting = [...(await consumerLag(ctx.system))]
        .filter(([key]) => key.includes(` ${commands}/`))
        .reduce((sum, [, n]) => sum + n, 0);
      proxy!.restore();
      const restoredAt = Date.now();
      let recoveredInS = 'not within 60 s';
      await waitFor(async () => (await ctx.system.events('payment')).length > during, {
        timeoutMs: 60_000,
        intervalMs: 500,
      })
        .then(() => (recoveredInS = ((Date.now() - restoredAt) / 1000).toFixed(1)))
        .catch(() => undefined);
      return {
        fault: `payment's database cut for ${outageMs / 1000} s through the TCP proxy`,
        // Nothing reached payment.events while its database was away (a relay batch in flight at
        // the cut may still land: allow a handful), and commands piled up for payment meanwhile.
        proven: during - before <= 5 && waiting > 0,
        figures: {
          'payment events published during the outage': during - before,
          'commands waiting for payment when its database came back': waiting,
          'first payment event after the return (s)': recoveredInS,
        },
      };
    },
    cleanup: async () => {
      await proxy?.close();
    },
  };
}

/** Kafka headers of a message as a producer of `type` would send them, in schema version `version`. */
function headersFor(type: MessageType, version: number, orderId: string, messageId = randomUUID()) {
  return encodeHeaders({
    messageId,
    type,
    schemaVersion: version,
    occurredAt: new Date().toISOString(),
    aggregateType: messageSpec(type, currentVersion(type)).aggregateType,
    correlationId: orderId,
  });
}

/** Waits for an accepted order that ended CANCELLED (its compensations all acknowledged). */
async function aCancelledOrder(ctx: DrillContext): Promise<string | undefined> {
  let found: string | undefined;
  await waitFor(
    async () => {
      for (const orderId of ctx.load.accepted.keys())
        if ((await ctx.system.order(orderId).catch(() => undefined))?.status === 'CANCELLED') {
          found = orderId;
          return true;
        }
      return false;
    },
    { timeoutMs: 90_000, intervalMs: 1000 },
  ).catch(() => undefined);
  return found;
}

/**
 * "Replay after the fix": a producer bug put a wrong-schema compensation on each command topic;
 * the operator corrects each dead letter's payload and replays it, twice (as a person retrying
 * would). Each is a compensation for an order that already ended CANCELLED, which its participant
 * answers again without a new effect; the replies whose causation id is the message's id count
 * how often it was applied: exactly once, however often it is replayed.
 */
async function fixAndReplay(
  ctx: DrillContext,
  kafka: Kafka,
): Promise<{ targets: number; deadLettered: number; appliedOnce: number; problems: string[] }> {
  const t = topicsFor(ctx.system.prefix);
  const targets = [
    { topic: t.inventory.commands, type: 'ReleaseStock', replier: 'inventory' },
    { topic: t.payment.commands, type: 'RefundPayment', replier: 'payment' },
    { topic: t.shipping.commands, type: 'CancelShipment', replier: 'shipping' },
  ] as const;
  const problems: string[] = [];
  const orderId = await aCancelledOrder(ctx);
  if (!orderId)
    return {
      targets: targets.length,
      deadLettered: 0,
      appliedOnce: 0,
      problems: ['no order ended CANCELLED'],
    };

  const sent = targets.map((target) => ({ ...target, messageId: randomUUID() }));
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (const s of sent)
      await producer.send({
        topic: s.topic,
        // The bug: `reason` as a number. The contract wants a string.
        messages: [
          {
            key: orderId,
            value: JSON.stringify({ orderId, reason: 42 }),
            headers: headersFor(s.type, 1, orderId, s.messageId),
          },
        ],
      });
  } finally {
    await producer.disconnect();
  }

  let records: DeadLetterRecord[] = [];
  await waitFor(
    async () => {
      records = (
        await Promise.all(
          sent.map((s) => readDeadLetters(kafka, deadLetterTopic(s.topic), { messageId: s.messageId })),
        )
      ).flat();
      return records.length >= sent.length;
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  ).catch(() =>
    problems.push(`${records.length} of ${sent.length} wrong-schema compensations dead-lettered`),
  );

  const corrected = records.map((r) => ({
    ...r,
    value: JSON.stringify({
      orderId,
      reason: 'corrected on the dead-letter topic and replayed by the drill',
    }),
  }));
  await replayDeadLetters(kafka, corrected);
  await replayDeadLetters(kafka, corrected);

  const repliesTo = async (s: (typeof sent)[number]) =>
    (await ctx.system.events(s.replier, 30_000, true)).filter((e) => e.causationId === s.messageId).length;
  // Both replays must have been read before counting: every group caught up with its topics.
  await waitFor(async () => (await Promise.all(sent.map(repliesTo))).every((n) => n >= 1), {
    timeoutMs: 60_000,
    intervalMs: 1000,
  }).catch(() => problems.push('a corrected compensation was never applied'));
  await waitFor(async () => (await consumerLag(ctx.system)).size === 0, {
    timeoutMs: 60_000,
    intervalMs: 1000,
  }).catch(() => problems.push('the consumers did not catch up after the replays'));
  let appliedOnce = 0;
  for (const s of sent) {
    const replies = await repliesTo(s);
    if (replies === 1) appliedOnce += 1;
    else problems.push(`${s.type} ${s.messageId} answered ${replies} times`);
  }
  ctx.log(`corrected and replayed twice: ${records.length}; applied once: ${appliedOnce}`);
  return { targets: targets.length, deadLettered: records.length, appliedOnce, problems };
}

/**
 * Rows committed out of `seq` order, on purpose: a deferred constraint trigger on the order
 * service's outbox (installed by the drill as the schema owner) makes the first transaction that
 * writes a row after it wait at COMMIT for an advisory lock the drill holds. Its row has its seq
 * but is not visible; later transactions (other orders placed, other sagas moving) commit and their
 * rows are published. Released, it commits, and the relay must still publish it: a relay that
 * remembered "the last seq sent" would skip it for good. The order service, because its
 * transactions share no rows: in payment, most orders lock the same customer, so a held charge
 * holds every later one too and nothing overtakes it.
 */
function outOfOrderCommits(): OwnSystemDrill {
  // Any key no service takes: the services' advisory locks use other constants.
  const lockKey = 4_242_001;
  const install = (runtimeRole: string) => `
    CREATE SEQUENCE drill_hold_once;
    CREATE SEQUENCE drill_held_seq;
    CREATE FUNCTION drill_hold_commit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
      SET search_path = public AS $$
    BEGIN
      -- Sequences are not transactional: only the first row ever gets 1, and the seq it records
      -- is readable while its transaction is still open.
      IF nextval('drill_hold_once') = 1 THEN
        PERFORM setval('drill_held_seq', NEW.seq);
        PERFORM pg_advisory_xact_lock_shared(${lockKey});
      END IF;
      RETURN NULL;
    END $$;
    GRANT EXECUTE ON FUNCTION drill_hold_commit() TO "${runtimeRole}";
    CREATE CONSTRAINT TRIGGER drill_hold_commit AFTER INSERT ON outbox
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION drill_hold_commit();`;
  const uninstall = `
    DROP TRIGGER IF EXISTS drill_hold_commit ON outbox;
    DROP FUNCTION IF EXISTS drill_hold_commit();
    DROP SEQUENCE IF EXISTS drill_hold_once, drill_held_seq;`;
  return {
    name: 'out-of-order-commits',
    ownSystemOnly:
      "it installs a trigger on the order service's outbox as the database's owner (a scratch database's migrator role)",
    summary:
      "one of the order service's transactions held at COMMIT after its outbox row took its seq, while later rows commit and are published → released, the held row is still published (nothing skipped), no duplicate effect",
    drainBoundMs: 90_000,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(3);
      const db = ctx.system.databases.get('order')!;
      const gate = new pg.Client({ connectionString: db.migratorUrl });
      await gate.connect();
      const count = async (sql: string, params: unknown[] = []) =>
        Number((await gate.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
      const published = (seq: string) =>
        count('SELECT count(*) AS n FROM outbox WHERE seq = $1 AND published_at IS NOT NULL', [seq]);
      try {
        await gate.query('SELECT pg_advisory_lock($1)', [lockKey]);
        await gate.query(install(db.name));
        let held = '0';
        await waitFor(
          async () => {
            const { rows } = await gate.query<{ seq: string; called: boolean }>(
              'SELECT last_value::text AS seq, is_called AS called FROM drill_held_seq',
            );
            held = rows[0]?.called ? rows[0].seq : '0';
            return held !== '0';
          },
          { timeoutMs: 30_000, intervalMs: 200 },
        ).catch(() => undefined);
        // Later rows commit and are published while the held one is invisible.
        let overtaken = 0;
        if (held !== '0')
          await waitFor(
            async () => {
              overtaken = await count(
                'SELECT count(*) AS n FROM outbox WHERE seq > $1 AND published_at IS NOT NULL',
                [held],
              );
              return overtaken >= 3;
            },
            { timeoutMs: 20_000, intervalMs: 200 },
          ).catch(() => undefined);
        // The holder is still waiting at COMMIT for the drill's lock (its lock request is visible to all).
        const waiting = await count(
          "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1::oid",
          [lockKey],
        );
        const publishedWhileHeld = held === '0' ? 0 : await published(held);
        ctx.log(
          `held seq ${held} (${waiting} waiting at COMMIT); ${overtaken} later rows published meanwhile`,
        );
        await gate.query('SELECT pg_advisory_unlock($1)', [lockKey]);
        let publishedAfter = 0;
        if (held !== '0')
          await waitFor(async () => (publishedAfter = await published(held)) === 1, {
            timeoutMs: 30_000,
            intervalMs: 200,
          }).catch(() => undefined);
        // Only now: DROP TRIGGER locks the table, and would queue behind the held transaction.
        await gate.query(uninstall);
        return {
          fault: `an order-service transaction held at COMMIT while later outbox rows committed (seq ${held})`,
          proven:
            held !== '0' && waiting > 0 && overtaken > 0 && publishedWhileHeld === 0 && publishedAfter === 1,
          figures: {
            'transactions held at COMMIT': waiting,
            'later rows published before the held one committed': overtaken,
            'held row published after it committed': publishedAfter,
          },
        };
      } finally {
        await gate.end();
      }
    },
  };
}

/**
 * Replicas of payment added and removed in a loop under load (the drill system's second instance:
 * same database, topics and consumer group), every other removal by kill -9: each start and each
 * exit moves payment.commands' partitions, while commands are in flight.
 */
function rebalanceStorm(): OwnSystemDrill {
  const joins = (logs: string) => (logs.match(/joined its group as/g) ?? []).length;
  return {
    name: 'rebalance-storm',
    ownSystemOnly: 'it starts and removes payment replicas, which the running supervisor does not define',
    summary:
      'a payment replica added and removed (gracefully, or kill -9) in a loop under load → partitions move at every step, no order lost, no duplicate effect',
    drainBoundMs: 120_000,
    inject: async (ctx) => {
      const { system } = ctx;
      await ctx.acceptedAtLeast(3);
      let loadOver = false;
      void ctx.load.done.then(() => (loadOver = true));
      const minCycles = ctx.quick ? 3 : 6;
      const before = joins(system.processes.get('payment')!.logs);
      let cycles = 0;
      let kills = 0;
      let replicaJoins = 0;
      while (cycles < minCycles || (!loadOver && cycles < 20)) {
        const replica = await system.startReplica('payment');
        // Healthy comes before the group join: remove it only once it holds partitions.
        await replica.waitForOutput(/joined its group as/, 20_000).catch(() => undefined);
        await sleep(1000 + Math.random() * 2000);
        const how = cycles % 2 === 1 ? 'kill' : 'stop';
        await system.stopReplica('payment', how);
        replicaJoins += joins(replica.logs) > 0 ? 1 : 0;
        if (how === 'kill') kills += 1;
        cycles += 1;
        ctx.log(`rebalance-storm: cycle ${cycles} (${how})`);
        await sleep(500 + Math.random() * 1000);
      }
      // A killed replica leaves its group only when its session times out: let the last one go.
      await sleep(12_000);
      const rejoins = joins(system.processes.get('payment')!.logs) - before;
      return {
        fault: `a payment replica added and removed ${cycles} times (${kills} by kill -9) under load`,
        // Each replica joined the group, and the first instance had to rejoin for its arrivals and
        // departures: the partitions really moved.
        proven: replicaJoins === cycles && rejoins >= cycles,
        figures: {
          'replica starts that joined the group': replicaJoins,
          'rejoins of the first instance': rejoins,
          'removals by kill -9': kills,
        },
      };
    },
  };
}

/**
 * A producer upgraded ahead of its consumers: it publishes version 2 of a message, a version
 * nobody registered, on every consumed topic, between live orders. Each v2 message is a valid v1
 * message plus a field v1 does not have, so its version is its only fault.
 */
function incompatibleProducer(): OwnSystemDrill {
  return {
    name: 'incompatible-producer',
    ownSystemOnly:
      'it counts every record on the dead-letter topics, which on the running system hold their history',
    summary:
      'a producer publishes v2 (an unregistered, incompatible schema version) of a message on every consumed topic, between live orders → each dead-lettered with its contract error, nothing else dead-lettered, orders keep flowing',
    drainBoundMs: 90_000,
    deadLetters: true,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(5);
      const t = topicsFor(ctx.system.prefix);
      const items = [{ sku: 'widget', quantity: 1 }];
      const address = { country: 'FR', city: 'Paris', line1: '1 rue de Rivoli' };
      const targets: { topic: string; type: MessageType; v1: (orderId: string) => object; added: object }[] =
        [
          {
            topic: t.inventory.commands,
            type: 'ReserveStock',
            v1: (orderId) => ({ orderId, items }),
            added: { warehouse: 'eu-1' },
          },
          {
            topic: t.payment.commands,
            type: 'ChargePayment',
            v1: (orderId) => ({ orderId, customerId: 'alice', amount: 1000 }),
            added: { currency: 'EUR' },
          },
          {
            topic: t.shipping.commands,
            type: 'CreateShipment',
            v1: (orderId) => ({ orderId, address, items }),
            added: { carrier: 'express' },
          },
          {
            topic: t.inventory.events,
            type: 'StockReserved',
            v1: (orderId) => ({ orderId, items }),
            added: { warehouse: 'eu-1' },
          },
          {
            topic: t.payment.events,
            type: 'PaymentCharged',
            v1: (orderId) => ({ orderId, paymentId: randomUUID(), amount: 1000 }),
            added: { currency: 'EUR' },
          },
          {
            topic: t.shipping.events,
            type: 'ShipmentCreated',
            v1: (orderId) => ({ orderId, shipmentId: randomUUID() }),
            added: { carrier: 'express' },
          },
          {
            topic: t.order.events,
            type: 'OrderConfirmed',
            v1: (orderId) => ({ orderId }),
            added: { channel: 'web' },
          },
        ];
      const kafka = kafkaFor(ctx.system);
      const sent = targets.map((target) => {
        const orderId = randomUUID();
        const v1 = target.v1(orderId);
        // Throws if the v1 form is not valid: then the drill would test something else.
        validateMessage(target.type, 1, v1);
        return {
          ...target,
          orderId,
          messageId: randomUUID(),
          value: JSON.stringify({ ...v1, ...target.added }),
        };
      });
      const producer = kafka.producer();
      await producer.connect();
      try {
        for (const s of sent) {
          await producer.send({
            topic: s.topic,
            messages: [
              { key: s.orderId, value: s.value, headers: headersFor(s.type, 2, s.orderId, s.messageId) },
            ],
          });
          // Spread among the live orders rather than in one burst.
          await sleep(200);
        }
      } finally {
        await producer.disconnect();
      }
      const onDlts = async () =>
        (
          await Promise.all(
            [...new Set(sent.map((s) => s.topic))].map((topic) =>
              readDeadLetters(kafka, deadLetterTopic(topic)),
            ),
          )
        ).flat();
      let records: DeadLetterRecord[] = [];
      await waitFor(async () => (records = await onDlts()).length >= sent.length, {
        timeoutMs: 60_000,
        intervalMs: 1000,
      }).catch(() => undefined);
      // Once the load is over every live message has been read: whatever else is on a DLT by then is
      // a live message that the v2 ones dragged down with them.
      await ctx.load.done;
      await sleep(5000);
      records = await onDlts();
      const ours = new Set<string>(sent.map((s) => s.messageId));
      const withContractError = sent.filter((s) =>
        records.some(
          (r) =>
            r.messageId === s.messageId &&
            r.errorClass === 'ContractViolation' &&
            r.errorMessage.includes(`unknown version 2 of message type "${s.type}"`),
        ),
      ).length;
      const others = records.filter((r) => !ours.has(r.messageId ?? '')).length;
      return {
        fault: `${sent.length} v2 messages (one per consumed topic) from a producer ahead of its consumers`,
        proven: withContractError === sent.length && others === 0,
        figures: {
          'v2 messages published': sent.length,
          'dead-lettered with "unknown version 2" (ContractViolation)': withContractError,
          'other messages on the dead-letter topics': others,
        },
      };
    },
  };
}

/**
 * A participant down for minutes under load: payment is killed and stays down for 5 minutes (60 s
 * with --quick). Charges time out, compensations (refunds) go unanswered past their retry budget,
 * so sagas raise COMPENSATION_FAILED while it is away; once it is back, every one of them must end
 * CANCELLED (or CONFIRMED) on its own, within the bound the compensation back-off gives.
 */
function longOutage(): OwnSystemDrill {
  const outageMs = (quick: boolean) => (quick ? 60_000 : 300_000);
  // A small retry budget (4 sends, ~16 s) so even the quick outage outlasts it: the drill is about
  // healing from COMPENSATION_FAILED, not about reaching it.
  const env = { SAGA_COMPENSATION_MAX_ATTEMPTS: '4' };
  return {
    name: 'long-outage',
    ownSystemOnly:
      "its bound needs the drill settings (3 s steps, 4 compensation sends), not the running system's",
    summary:
      'payment killed and kept down 5 minutes (60 s with --quick) under load; sagas raise COMPENSATION_FAILED meanwhile → after it returns every saga ends CONFIRMED, REJECTED or CANCELLED, none stays COMPENSATION_FAILED, within the bound from the back-off',
    env,
    drainBoundMs: ({ quick }) => recoveryBoundMs(outageMs(quick), { ...drillEnv, ...env }),
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(5);
      const downFor = outageMs(ctx.quick);
      await ctx.system.kill('payment');
      ctx.log(`long-outage: payment down for ${downFor / 1000} s`);
      await sleep(downFor);
      let failed = 0;
      for (const orderId of ctx.load.accepted.keys())
        if ((await orderSteps(ctx.system, orderId)).includes('order:compensation-failed')) failed += 1;
      await ctx.system.restart('payment');
      return {
        fault: `kill -9 payment, restarted ${downFor / 1000} s later`,
        // The outage outlasted the compensations' retry budget: the alarm was raised.
        proven: failed > 0,
        figures: { 'sagas that raised COMPENSATION_FAILED during the outage': failed },
      };
    },
  };
}

/**
 * kill -9 payment between a handler's database commit and its offset commit. That window is a
 * millisecond or two, so on its own system the drill sets the consumer's drill hook
 * (`CONSUMER_FAULT_HOLD_AFTER_COMMIT`, libs/consumer/src/fault-hook.ts) on payment: it arms it by
 * creating the trigger file, the transport announces the run it applied and holds (topic,
 * partition, message ids, offsets, in `<trigger>.held`) before its offsets are committed, and the
 * drill kills the process from outside. Proven: every held command in payment's inbox and its
 * offset not committed at the kill; after the restart the group commits past the run, so the
 * restarted process read it again (the invariants then show no second effect).
 *
 * Attached (`--attach`), the running services have no hook: the drill kills payment at random
 * moments until one kill lands in the window (up to 6 kills; on a loaded machine all may miss).
 */
function consumerCrash(): AttachableDrill {
  const trigger = join(tmpdir(), `order-saga-drill-consumer-hold-${process.pid}-${randomUUID().slice(0, 8)}`);
  const held = `${trigger}.held`;
  return {
    name: 'consumer-crash',
    summary:
      "kill -9 payment between its database commit and its offset commit, under load (the consumer's drill hook holds it there; attached: random kills) → the redelivered commands are deduplicated: no second charge",
    serviceEnv: { payment: { CONSUMER_FAULT_HOLD_AFTER_COMMIT: trigger } },
    drainBoundMs: 90_000,
    inject: async (ctx) => {
      const { system } = ctx;
      await ctx.acceptedAtLeast(Math.max(5, Math.floor(ctx.load.placed / 3)));
      if (!(system instanceof SagaSystem)) return randomConsumerKills(ctx);
      await writeFile(trigger, '');
      await waitFor(() => existsSync(held), {
        timeoutMs: 60_000,
        intervalMs: 10,
        message: () => `payment's consumer never announced a held run (${held})`,
      });
      const pid = system.pidOf('payment');
      // The real kill -9, from outside, while the consumer waits between the two commits.
      await system.kill('payment');
      const run = JSON.parse(await readFile(held, 'utf8')) as HeldRun;
      await rm(held, { force: true });
      const inbox = await system.query<{ consumer: string }>(
        'payment',
        'SELECT consumer FROM inbox WHERE topic = $1 AND message_id = ANY($2::uuid[])',
        [run.topic, run.messageIds],
      );
      const groupId = `${system.prefix}${inbox[0]?.consumer ?? 'payment'}`;
      const last = Number(run.offsets.at(-1));
      let atKill = -1;
      let after = -1;
      const admin = kafkaFor(system).admin();
      await admin.connect();
      try {
        const committed = () => committedOffset(admin, groupId, run.topic, run.partition);
        atKill = await committed();
        ctx.log(
          `consumer-crash: kill -9 payment (pid ${pid}) holding ${run.messageIds.length} applied command(s) (${run.topic}[${run.partition}] offsets ${run.offsets[0]}..${last}), committed offset ${atKill}`,
        );
        await system.restart('payment');
        // The restarted member reads from the committed offset, before the run: committing past
        // the run's last offset means it received every held command again.
        await waitFor(async () => (after = await committed()) > last, {
          timeoutMs: 60_000,
          intervalMs: 200,
        }).catch(() => undefined);
      } finally {
        await admin.disconnect();
      }
      const uncommitted = run.offsets.filter((offset) => Number(offset) >= atKill).length;
      const redelivered = after > last ? uncommitted : 0;
      return {
        fault: `kill -9 payment while its consumer held ${run.messageIds.length} applied command(s) whose offsets were not committed (drill hook)`,
        proven:
          run.messageIds.length > 0 &&
          run.pid === pid &&
          inbox.length === run.messageIds.length &&
          uncommitted === run.messageIds.length &&
          redelivered === run.messageIds.length,
        duplicatesDelivered: redelivered,
        figures: {
          'commands in the held run': run.messageIds.length,
          "in payment's inbox at the kill (applied)": inbox.length,
          'offset not committed at the kill': uncommitted,
          'delivered again after the restart (the group committed past them)': redelivered,
        },
      };
    },
    cleanup: async () => {
      await rm(trigger, { force: true });
      await rm(held, { force: true });
    },
  };
}

/** consumer-crash on an attached system: random kills until one lands between the two commits. */
async function randomConsumerKills(ctx: DrillContext): Promise<Evidence> {
  const topic = topicsFor(ctx.system.prefix).payment.commands;
  const { kills, measured } = await killUntilProven(ctx, 'payment', () =>
    appliedNotCommitted(ctx.system, 'payment', topic),
  );
  return {
    fault: `kill -9 payment (${kills} random kill${kills > 1 ? 's' : ''}, attached: no drill hook) with commands applied but their offsets not committed`,
    proven: measured > 0,
    duplicatesDelivered: measured,
    figures: { 'commands applied, offset not committed at the kill (redelivered)': measured },
  };
}

/** A consumer group's committed offset of one partition (-1: nothing committed yet). */
async function committedOffset(
  admin: Admin,
  groupId: string,
  topic: string,
  partition: number,
): Promise<number> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
}

/**
 * kill -9 payment while its relay holds a batch the broker acknowledged and the database has not
 * marked. That window is a millisecond or two, so the relay's drill hook
 * (`OUTBOX_RELAY_FAULT_HOLD_AFTER_SEND`, libs/outbox/src/fault-hook.ts) is set on payment: the
 * drill arms it by creating the trigger file, the relay announces the batch it holds (its message
 * ids, in `<trigger>.held`) and waits; the drill kills the process from outside, then proves the
 * window was hit: every held event was on the topic once and unmarked at the kill, and on the
 * topic twice after the restart (the new leader re-sent the batch).
 */
function relayCrash(): OwnSystemDrill {
  const trigger = join(tmpdir(), `order-saga-drill-relay-hold-${process.pid}-${randomUUID().slice(0, 8)}`);
  const held = `${trigger}.held`;
  const occurrences = async (system: DrillSystem, ids: readonly string[]) => {
    const wanted = new Set(ids);
    const counts = new Map<string, number>();
    for (const e of await system.events('payment'))
      if (wanted.has(e.messageId)) counts.set(e.messageId, (counts.get(e.messageId) ?? 0) + 1);
    return ids.map((id) => counts.get(id) ?? 0);
  };
  return {
    name: 'relay-crash',
    summary:
      "kill -9 payment while its outbox relay holds a batch the broker acknowledged and the database has not marked (the relay's drill hook holds it) → the batch is sent again; consumers deduplicate, no second effect",
    ownSystemOnly:
      "it sets OUTBOX_RELAY_FAULT_HOLD_AFTER_SEND (the relay's test-only hold hook) on payment, which the running system does not have",
    serviceEnv: { payment: { OUTBOX_RELAY_FAULT_HOLD_AFTER_SEND: trigger } },
    drainBoundMs: 90_000,
    inject: async (ctx) => {
      const { system } = ctx;
      await ctx.acceptedAtLeast(5);
      await writeFile(trigger, '');
      await waitFor(() => existsSync(held), {
        timeoutMs: 60_000,
        intervalMs: 10,
        message: () => `payment's relay never announced a held batch (${held})`,
      });
      const pid = system.pidOf('payment');
      // The real kill -9, from outside, while the relay waits between the ack and the mark.
      await system.kill('payment');
      const batch = JSON.parse(await readFile(held, 'utf8')) as HeldBatch;
      await rm(held, { force: true });
      const ids = batch.messageIds;
      const atKill = await occurrences(system, ids);
      const [row] = await system.query<{ n: string }>(
        'payment',
        'SELECT count(*) AS n FROM outbox WHERE id = ANY($1::uuid[]) AND published_at IS NULL',
        [ids],
      );
      const unmarked = Number(row?.n ?? 0);
      ctx.log(
        `relay-crash: kill -9 payment (pid ${pid}) holding ${ids.length} acknowledged rows (seq ${batch.seqs[0]}..${batch.seqs.at(-1)}), ${unmarked} unmarked`,
      );
      await system.restart('payment');
      await waitFor(
        async () =>
          Number(
            (
              await system.query<{ n: string }>(
                'payment',
                'SELECT count(*) AS n FROM outbox WHERE id = ANY($1::uuid[]) AND published_at IS NOT NULL',
                [ids],
              )
            )[0]?.n,
          ) === ids.length,
        { timeoutMs: 60_000, intervalMs: 200 },
      ).catch(() => undefined);
      const after = await occurrences(system, ids);
      const onceAtKill = atKill.filter((n) => n === 1).length;
      const twiceAfter = after.filter((n) => n === 2).length;
      return {
        fault: `kill -9 payment while its relay held an acknowledged, unmarked batch of ${ids.length} events (drill hook)`,
        proven:
          ids.length > 0 &&
          batch.pid === pid &&
          onceAtKill === ids.length &&
          unmarked === ids.length &&
          twiceAfter === ids.length,
        duplicatesDelivered: twiceAfter,
        figures: {
          'events in the held batch': ids.length,
          'on payment.events once at the kill (acknowledged)': onceAtKill,
          'unmarked in the outbox at the kill': unmarked,
          'on payment.events twice after the restart (sent again)': twiceAfter,
        },
      };
    },
    cleanup: async () => {
      await rm(trigger, { force: true });
      await rm(held, { force: true });
    },
  };
}

/**
 * The Kafka broker that leads the most partitions of the saga's topics, killed with -9 in a cluster
 * of 3 (each topic with 3 replicas, min.insync.replicas 2) while orders are placed. Its partitions
 * have no leader until the controllers fence it (broker.session.timeout.ms, 9 s; longer when it was
 * also the active controller): meanwhile the relays' sends and the consumers' fetches on them fail
 * and are retried, then go to the new leaders; groups whose coordinator it was join again on
 * another broker. It is started again once leadership moved.
 */
function brokerKill(): OwnSystemDrill {
  const sagaTopics = (system: SagaSystem) => {
    const t = topicsFor(system.prefix);
    return [
      t.inventory.commands,
      t.payment.commands,
      t.shipping.commands,
      t.inventory.events,
      t.payment.events,
      t.shipping.events,
      t.order.events,
    ];
  };
  // A fresh client each time, bootstrapped from the given brokers only: a cached connection to the
  // killed broker would answer nothing.
  const partitions = async (system: SagaSystem, brokers: string[]) => {
    const admin = createKafka({ clientId: `${system.name}-leaders`, brokers }).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: sagaTopics(system) });
      return topics.flatMap((t) =>
        t.partitions.map((p) => ({
          at: `${t.name}/${p.partitionId}`,
          leader: p.leader,
          replicas: p.replicas.length,
          isr: p.isr,
        })),
      );
    } finally {
      await admin.disconnect();
    }
  };
  return {
    name: 'broker-kill',
    summary:
      'kill -9 the Kafka broker leading the most saga partitions, in a cluster of 3 (3 replicas, min.insync.replicas 2), under load → leadership moves to the other two, orders keep being accepted, every one ends, no duplicate effect; the broker restarts and rejoins',
    ownSystemOnly: 'it kills a broker of a 3-node Kafka cluster of its own',
    brokers: 3,
    env: {
      KAFKA_TOPIC_REPLICATION_FACTOR: '3',
      // Consumers whose group coordinator or partition leader was the killed broker stall until
      // the controllers fence it and the group moves: measured 10–15 s here. With the drills' 2 × 3 s
      // step budget nearly every saga in flight compensated (27 of 30 CANCELLED in one run); 2 × 10 s
      // outlasts the stall, so the sagas ride out the failover and the drill checks their normal path.
      SAGA_STEP_TIMEOUT_MS: '10000',
    },
    drainBoundMs: 120_000,
    inject: async (ctx) => {
      const { system } = ctx;
      const cluster = ctx.cluster!;
      await ctx.acceptedAtLeast(5);
      const before = await partitions(system, cluster.brokers);
      const led = new Map<number, number>();
      for (const p of before) led.set(p.leader, (led.get(p.leader) ?? 0) + 1);
      const [victim] = [...led].sort((a, b) => b[1] - a[1])[0]!;
      const ledBefore = before.filter((p) => p.leader === victim).map((p) => p.at);
      // node.id = n in scripts/kafka.sh: broker id and node number are the same.
      const survivors = cluster.brokers.filter((_, i) => i + 1 !== victim);
      const acceptedAtKill = ctx.load.accepted.size;
      const killedAt = Date.now();
      const pid = cluster.kill(victim);
      ctx.log(
        `broker-kill: kill -9 broker ${victim} (pid ${pid}), leader of ${ledBefore.length} of ${before.length} saga partitions`,
      );

      let after = before;
      const moved = () =>
        after.filter((p) => ledBefore.includes(p.at)).every((p) => p.leader >= 0 && p.leader !== victim);
      await waitFor(
        async () => {
          after = await partitions(system, survivors).catch(() => after);
          return moved();
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      ).catch(() => undefined);
      const movedAfterMs = Date.now() - killedAt;
      const acceptedWhileDown = ctx.load.accepted.size - acceptedAtKill;
      const newLeaders = [...new Set(after.filter((p) => ledBefore.includes(p.at)).map((p) => p.leader))];
      ctx.log(`broker-kill: leadership moved to ${newLeaders.join(', ')} after ${movedAfterMs} ms`);

      await cluster.start(victim);
      let rejoined = 0;
      await waitFor(
        async () => {
          const now = await partitions(system, cluster.brokers).catch(() => []);
          rejoined = now.filter((p) => p.isr.includes(victim)).length;
          return rejoined === before.length;
        },
        { timeoutMs: 60_000, intervalMs: 1000 },
      ).catch(() => undefined);
      const servicesAlive = [...system.processes.values()].filter((p) => p.running).length;
      return {
        fault: `kill -9 Kafka broker ${victim} of 3 (leader of ${ledBefore.length} saga partitions) under load, restarted once leadership moved`,
        proven:
          before.every((p) => p.replicas === 3) &&
          ledBefore.length > 0 &&
          moved() &&
          acceptedWhileDown > 0 &&
          servicesAlive === system.processes.size,
        figures: {
          'saga partitions (replicas each)': `${before.length} (${[...new Set(before.map((p) => p.replicas))].join(', ')})`,
          'partitions the killed broker led': ledBefore.length,
          'their leaders after the kill': newLeaders.join(', ') || '-',
          'leadership moved after (ms)': moved() ? movedAfterMs : 'never',
          'orders accepted between the kill and the move': acceptedWhileDown,
          'partitions with the restarted broker back in sync': `${rejoined} of ${before.length}`,
          'services still running (not restarted)': `${servicesAlive} of ${system.processes.size}`,
        },
      };
    },
  };
}
