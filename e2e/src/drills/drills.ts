import { createKafka } from '@order-saga/outbox';
import { TcpProxy, testInfra, waitFor } from '@order-saga/testing';
import { randomUUID } from 'node:crypto';
import { deadLetterTopic, topicsFor, wireHeaders } from '@order-saga/contracts';
import { readDeadLetters, replayDeadLetters } from '@order-saga/consumer';
import { terminal, type SagaSystem, type Service } from '../saga/system.js';
import type { Drill, DrillContext, Evidence } from './drill.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Messages a participant has applied (inbox rows) at or past its group's committed offset on
 * `topic`: with the process dead, each of them will be delivered again. More than zero proves the
 * kill landed between a database commit and its offset commit.
 */
async function appliedNotCommitted(system: SagaSystem, service: Service, topic: string): Promise<number> {
  const rows = await system.query<{ consumer: string; partition: number; offset: string }>(
    service,
    'SELECT consumer, partition, "offset"::text AS offset FROM inbox WHERE topic = $1',
    [topic],
  );
  if (rows.length === 0) return 0;
  const admin = createKafka({
    clientId: `${system.name}-offsets`,
    brokers: testInfra().kafkaBrokers,
  }).admin();
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
    await ctx.restart(service);
    if (measured > 0) return { kills: kill, measured };
    await sleep(300 + Math.random() * 700);
  }
  return { kills: tries, measured: 0 };
}

const orderSteps = async (system: SagaSystem, orderId: string) =>
  (await system.order(orderId).catch(() => undefined))?.steps.map((s) => `${s.name}:${s.outcome}`) ?? [];

/** The drills, in the order `pnpm drill all` runs them. */
export const drills: Drill[] = [
  {
    name: 'consumer-crash',
    summary:
      'kill -9 payment between its database commit and its offset commit, under load → the redelivered commands are deduplicated: no second charge',
    drainBoundMs: 90_000,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(Math.max(5, Math.floor(ctx.load.placed / 3)));
      const topic = topicsFor(ctx.system.prefix).payment.commands;
      const { kills, measured } = await killUntilProven(ctx, 'payment', () =>
        appliedNotCommitted(ctx.system, 'payment', topic),
      );
      return {
        fault: `kill -9 payment (${kills} kill${kills > 1 ? 's' : ''}) with commands applied but their offsets not committed`,
        proven: measured > 0,
        duplicatesDelivered: measured,
        figures: { 'commands applied, offset not committed at the kill (redelivered)': measured },
      } satisfies Evidence;
    },
  },
  {
    name: 'relay-crash',
    summary:
      'kill -9 payment while its outbox relay has sent a batch but not marked it → the batch is sent again; consumers deduplicate, no second effect',
    drainBoundMs: 90_000,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(5);
      const republished = async () => {
        const events = await ctx.system.events('payment');
        const ids = events.map((e) => e.messageId);
        return ids.length - new Set(ids).size;
      };
      // The send→mark window is short: kill at random moments until a re-sent batch shows up.
      let kills = 0;
      let measured = 0;
      while (kills < 10 && measured === 0) {
        await sleep(100 + Math.random() * 400);
        await ctx.system.kill('payment');
        kills += 1;
        await ctx.restart('payment');
        await sleep(1000);
        measured = await republished();
        ctx.log(`kill -9 payment #${kills}: ${measured} event(s) published twice`);
      }
      return {
        fault: `kill -9 payment ${kills} time(s) during relay batches`,
        proven: measured > 0,
        duplicatesDelivered: measured,
        figures: { 'events published twice (sent, not marked, sent again)': measured },
      };
    },
  },
  {
    name: 'poison',
    summary:
      'a malformed and a wrong-schema message on every consumed topic → each dead-lettered once with its contract error, orders keep flowing; replayed unfixed → dead-lettered again, never applied',
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
      const poisonOf = (type: string, value: string) => {
        const orderId = randomUUID();
        return {
          key: orderId,
          value,
          headers: {
            [wireHeaders.messageId]: randomUUID(),
            [wireHeaders.type]: type,
            [wireHeaders.schemaVersion]: '1',
            [wireHeaders.occurredAt]: new Date().toISOString(),
            [wireHeaders.aggregateType]: 'order',
            [wireHeaders.correlationId]: orderId,
          },
        };
      };
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
      const admin = kafka.admin();
      await admin.connect();
      const dltCount = async () => {
        let n = 0;
        for (const [topic] of targets) {
          const offsets = await admin.fetchTopicOffsets(deadLetterTopic(topic)).catch(() => []);
          n += offsets.reduce((sum, p) => sum + Number(p.high), 0);
        }
        return n;
      };
      try {
        const expected = targets.length * 2;
        await waitFor(async () => (await dltCount()) >= expected, { timeoutMs: 60_000 }).catch(
          () => undefined,
        );
        const first = await dltCount();
        let replayed = 0;
        for (const [topic] of targets)
          replayed += await replayDeadLetters(kafka, await readDeadLetters(kafka, deadLetterTopic(topic)));
        // `pnpm dlt replay` appends one marker record per replayed record to the dead-letter topic
        // (README "Observability"), and each replayed poison is dead-lettered again.
        await waitFor(async () => (await dltCount()) >= first + 2 * replayed, { timeoutMs: 60_000 }).catch(
          () => undefined,
        );
        await sleep(2000);
        const second = await dltCount();
        return {
          fault: `${expected} poison messages (a malformed and a wrong-schema one on each of ${targets.length} consumed topics), then replayed`,
          proven: first === expected && replayed === expected && second === first + 2 * replayed,
          duplicatesDelivered: replayed,
          figures: {
            'dead-lettered': first,
            replayed,
            'dead-lettered again after the replay (not applied)': second - first - replayed,
          },
        };
      } finally {
        await admin.disconnect();
      }
    },
  },
  {
    name: 'ambiguous-payment',
    summary:
      'freeze payment (SIGSTOP) past the charge deadline, then SIGCONT: charges commit but their replies arrive late → one capture, or one capture + one refund, never two captures',
    drainBoundMs: 120_000,
    inject: async (ctx) => {
      await ctx.acceptedAtLeast(5);
      const pid = ctx.system.processes.get('payment')!.pid!;
      process.kill(pid, 'SIGSTOP');
      // Two sends of 3 s each, and some margin: every charge in flight is past its deadline.
      await sleep(8000);
      process.kill(pid, 'SIGCONT');
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
      ctx.load.accepted.set(orderId, 'alice');
      await waitFor(async () => (await orderSteps(system, orderId)).includes('create-shipment:requested'), {
        timeoutMs: 60_000,
      });
      // Compensations will have nowhere to go: payment and inventory are down when shipping refuses.
      await system.kill('payment');
      await system.kill('inventory');
      await ctx.restart('shipping');
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
      await ctx.restart('payment');
      await ctx.restart('inventory');
      await ctx.restart('order');
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
      await ctx.system.processes.get('payment')!.stop();
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
      await ctx.restart('payment');
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
      const pid = ctx.system.processes.get('inventory')!.pid!;
      process.kill(pid, 'SIGSTOP');
      await sleep(35_000);
      process.kill(pid, 'SIGCONT');
      return {
        fault: 'SIGSTOP inventory for 35 s (past the 30 s session timeout), then SIGCONT',
        proven: true,
        figures: { 'paused for (s)': 35 },
      };
    },
  },
];

const kafkaFor = (system: SagaSystem) =>
  createKafka({ clientId: `${system.name}-drill`, brokers: testInfra().kafkaBrokers });

/**
 * Payment's database unreachable for 30 s through a TCP proxy (the shared PostgreSQL keeps
 * running): connections dropped and refused, then let through again.
 */
function databaseOutage(): Drill {
  let proxy: TcpProxy | undefined;
  return {
    name: 'database-outage',
    summary:
      "payment's database unreachable for 30 s (a TCP proxy drops and refuses its connections; PostgreSQL keeps running) → waited out, nothing dead-lettered",
    drainBoundMs: 120_000,
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
      await sleep(30_000);
      const during = (await ctx.system.events('payment')).length;
      proxy!.restore();
      return {
        fault: "payment's database cut for 30 s through the TCP proxy",
        // Nothing reached payment.events while its database was away (a relay batch in flight at
        // the cut may still land: allow a handful).
        proven: during - before <= 5,
        figures: { 'payment events published during the outage': during - before },
      };
    },
    cleanup: async () => {
      await proxy?.close();
    },
  };
}
