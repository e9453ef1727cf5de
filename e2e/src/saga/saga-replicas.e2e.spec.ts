import { createKafka } from '@order-saga/outbox';
import {
  parsePrometheusText,
  startOtlpReceiver,
  testInfra,
  waitFor,
  type OtlpReceiver,
} from '@order-saga/testing';
import { AssignerProtocol } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConserved, ordersOnceEnded } from './conservation.js';
import { mixedOrder, SagaSystem, services, type Service } from './system.js';

// The relay's advisory lock (libs/outbox/src/relay.ts, LEADER_LOCK_KEY): pg_locks shows a bigint
// key as classid (high 32 bits) and objid (low 32 bits).
const LEADER_LOCK_KEY = 7_446_118_002n;

/** The instances of a service, as [name, HTTP port]; a stopped one is simply not answering. */
function instances(system: SagaSystem, service: Service): [string, number][] {
  const replica = system.replicas.get(service);
  return [
    [service, system.ports.get(service)!],
    ...(replica ? [[`${service}-2`, replica.port] as [string, number]] : []),
  ];
}

/** One gauge or counter of one instance, summed over its samples; 0 when it does not answer. */
async function figure(port: number, name: string): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`)
    .then((response) => (response.ok ? response.text() : ''))
    .catch(() => '');
  const family = parsePrometheusText(text).find((f) => f.name === name);
  return (family?.metrics ?? []).reduce((sum, s) => sum + Number(s.value ?? 0), 0);
}

/** Sessions holding the relay's leader lock in a service's database, as the server sees them. */
async function lockHolders(system: SagaSystem, service: Service): Promise<number> {
  const [row] = await system.query<{ n: string }>(
    service,
    `SELECT count(*) AS n FROM pg_locks
      WHERE locktype = 'advisory' AND granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
    [String(LEADER_LOCK_KEY)],
  );
  return Number(row!.n);
}

describe('two instances of every service', () => {
  let system: SagaSystem;
  // One trace receiver per order instance: whose sweep acted on which deadline.
  const sweeps: OtlpReceiver[] = [];
  // The most instances of one service that said they lead at the same scrape, per service.
  const mostLeaders = new Map<Service, number>();
  let sampling = true;
  let sampler: Promise<void> | undefined;

  beforeAll(async () => {
    sweeps.push(await startOtlpReceiver(), await startOtlpReceiver());
    // Short step deadlines and many attempts: both order instances' sweeps find the same expired
    // sagas while payment is down below, and no saga runs out of attempts before it is back.
    system = await SagaSystem.start(
      'replicas',
      { SAGA_STEP_TIMEOUT_MS: '2000', SAGA_STEP_MAX_ATTEMPTS: '30' },
      {
        replicas: 2,
        instanceEnv: (service, instance): Record<string, string> =>
          service === 'order'
            ? {
                OTEL_EXPORTER_OTLP_ENDPOINT: sweeps[instance - 1]!.endpoint,
                OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
                OTEL_BSP_SCHEDULE_DELAY: '200',
              }
            : {},
      },
    );
    // Every second for the whole run (kills and restarts included): how many instances of
    // each service report themselves relay leader at once.
    sampler = (async () => {
      while (sampling) {
        for (const service of services) {
          const leaders = (
            await Promise.all(
              instances(system, service).map(([, port]) => figure(port, 'outbox_relay_leader')),
            )
          ).reduce((a, b) => a + b, 0);
          mostLeaders.set(service, Math.max(mostLeaders.get(service) ?? 0, leaders));
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
  }, 300_000);
  afterAll(async () => {
    sampling = false;
    await sampler;
    await system?.stop();
    await Promise.all(sweeps.map((r) => r.close()));
  });

  it('has exactly one relay leader per database: one instance says so, and the server holds one lock', async () => {
    for (const service of services) {
      let leaders: number[] = [];
      await waitFor(
        async () => {
          leaders = await Promise.all(
            instances(system, service).map(([, port]) => figure(port, 'outbox_relay_leader')),
          );
          return leaders.length === 2 && leaders.reduce((a, b) => a + b, 0) === 1;
        },
        {
          timeoutMs: 30_000,
          message: () => `${service}: outbox_relay_leader per instance ${JSON.stringify(leaders)}`,
        },
      );
      expect(await lockHolders(system, service), `${service}: sessions holding the leader lock`).toBe(1);
    }
  });

  it('ends every saga once, with each deadline acted on once, while orders arrive at both instances and payment restarts', async () => {
    const apis = [system.api, `http://127.0.0.1:${system.replicas.get('order')!.port}`];
    const count = 120;
    const orderIds: string[] = [];
    const customerOf = new Map<string, string>();
    let next = 0;
    const place = async () => {
      while (next < count) {
        const n = next++;
        const body = mixedOrder(n);
        const response = await fetch(`${apis[n % 2]}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
          body: JSON.stringify(body),
        });
        expect(response.status).toBe(202);
        const { orderId } = (await response.json()) as { orderId: string };
        orderIds.push(orderId);
        customerOf.set(orderId, body.customerId);
      }
    };
    const placing = Promise.all(Array.from({ length: 8 }, place));
    // Both payment instances down for longer than a step deadline: the sweeps of both order
    // instances find the same expired sagas.
    await Promise.all([system.kill('payment'), system.stopReplica('payment', 'kill')]);
    await new Promise((r) => setTimeout(r, 5000));
    await placing;
    await Promise.all([system.startService('payment'), system.startReplica('payment')]);

    const orders = await ordersOnceEnded(system, orderIds);
    expect(orders).toHaveLength(count);
    expect(orders.filter((o) => o.status === 'CONFIRMED').length).toBeGreaterThan(0);

    // A deadline acted on twice would record the same retry (same attempt) twice.
    const doubled = await system.query<{ order_id: string; name: string; detail: string; n: string }>(
      'order',
      `SELECT order_id, name, detail, count(*) AS n FROM saga_step
        WHERE outcome IN ('retried', 'timed-out') GROUP BY order_id, name, detail HAVING count(*) > 1`,
    );
    expect(doubled).toEqual([]);
    const [retried] = await system.query<{ n: string }>(
      'order',
      `SELECT count(*) AS n FROM saga_step WHERE outcome IN ('retried', 'timed-out')`,
    );
    expect(Number(retried!.n), 'the payment outage made deadlines expire').toBeGreaterThan(0);
    // Both sweeps acted (each order instance exports its deadline spans to its own receiver), so
    // they really raced for the same expired sagas.
    const acted = await Promise.all(
      sweeps.map(
        async (receiver) =>
          (
            await receiver.waitForSpans(
              (spans) => spans.some((s) => s.name === 'order saga deadline'),
              30_000,
            )
          ).filter((s) => s.name === 'order saga deadline').length,
      ),
    );
    expect(
      acted.every((n) => n > 0),
      `deadline actions per order instance: ${acted.join(', ')}`,
    ).toBe(true);
    console.info(
      `replicas: ${retried!.n} deadline steps; deadline actions by order / order-2: ${acted.join(' / ')}`,
    );

    await expectConserved(system, orders, customerOf, { settleMs: 60_000 });
  });

  it('never had two relay leaders of one database at once, through the payment kill and restart', async () => {
    // Sampled all along the run above; and after the payment restart one leads again.
    console.info(`replicas: most relay leaders seen at once: ${JSON.stringify([...mostLeaders])}`);
    for (const service of services) expect(mostLeaders.get(service), service).toBe(1);
    await waitFor(async () => (await lockHolders(system, 'payment')) === 1, {
      timeoutMs: 30_000,
      message: () => 'payment: no session holds the leader lock after the restart',
    });
  });

  it("shares each service's partitions between its two instances: every group has two members, each with partitions, and both handled messages", async () => {
    const admin = createKafka({ clientId: 'replicas-groups', brokers: testInfra().kafkaBrokers }).admin();
    await admin.connect();
    try {
      const ours = (await admin.listGroups()).groups
        .map((g) => g.groupId)
        .filter((id) => id.startsWith(system.prefix));
      expect(ours.length, 'consumer groups of this system').toBeGreaterThanOrEqual(services.length);
      let described: string[] = [];
      // The payment instances killed above leave members behind until their session times out.
      await waitFor(
        async () => {
          const { groups } = await admin.describeGroups(ours);
          described = groups.map(
            (g) =>
              `${g.groupId} ${g.state}: ${g.members
                .map((m) => {
                  const assignment =
                    AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {};
                  return `${m.clientId}:${m.memberId.slice(-6)}[${Object.values(assignment).flat().length}]`;
                })
                .join(' ')}`,
          );
          return groups.every(
            (g) =>
              g.state === 'Stable' &&
              g.members.length === 2 &&
              g.members.every(
                (m) =>
                  Object.values(
                    AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {},
                  ).flat().length > 0,
              ),
          );
        },
        {
          timeoutMs: 60_000,
          intervalMs: 500,
          message: () => `groups not shared by two members:\n${described.join('\n')}`,
        },
      );
      console.info(`replicas: groups (member[partitions]):\n${described.join('\n')}`);
    } finally {
      await admin.disconnect();
    }
    // The work was shared too: every instance of every service handled messages. (The payment
    // instances were restarted above: theirs count what came after the restart.)
    for (const service of services)
      for (const [name, port] of instances(system, service))
        expect(await figure(port, 'consumer_messages_total'), `${name}: messages handled`).toBeGreaterThan(0);
  });
});
