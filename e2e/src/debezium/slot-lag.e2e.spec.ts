import { parsePrometheusText, waitFor, type Sample } from '@order-saga/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anOrder, SagaSystem, services, type Service } from '../saga/system.js';
import { setConnectorState } from './cdc.js';

/**
 * With Debezium as the relay the outbox backlog is WAL the connector has not confirmed:
 * `debezium_slot_lag_bytes{slot}`, exported by each service for its own database's slot. A paused
 * connector is Kafka Connect not reading: the gauge must grow while the order's messages wait, and
 * fall once they flow again.
 */
describe('debezium_slot_lag_bytes', () => {
  let system: SagaSystem;

  beforeAll(async () => {
    // Deadlines far beyond the pause below: nothing but the connector moves these sagas.
    system = await SagaSystem.start('slot_lag', { SAGA_STEP_TIMEOUT_MS: '120000' });
  }, 300_000);
  afterAll(async () => {
    await system?.stop();
  });

  async function samples(service: Service, name: string): Promise<Sample[]> {
    const text = await (await fetch(`http://127.0.0.1:${system.ports.get(service)}/metrics`)).text();
    return parsePrometheusText(text).find((f) => f.name === name)?.metrics ?? [];
  }
  const slotOf = (service: Service) => `outbox_${system.databases.get(service)!.name}`;
  const lag = async (service: Service) =>
    Number((await samples(service, 'debezium_slot_lag_bytes'))[0]?.value);

  it("is exported by every service for its own database's slot only, and no service leads a relay", async () => {
    for (const service of services) {
      const gauge = await samples(service, 'debezium_slot_lag_bytes');
      expect(
        gauge.map((s) => s.labels?.slot),
        service,
      ).toEqual([slotOf(service)]);
      expect(Number(gauge[0]!.value), service).toBeGreaterThanOrEqual(0);
      expect(Number((await samples(service, 'outbox_relay_leader'))[0]?.value), service).toBe(0);
    }
  });

  it('grows while the connector is paused and the orders wait, and falls once it resumes', async () => {
    const orderDb = system.databases.get('order')!.name;
    const before = await lag('order');
    await setConnectorState(orderDb, 'pause');
    let paused = 0;
    const orderIds: string[] = [];
    try {
      for (let i = 0; i < 20; i++) orderIds.push(await system.place(anOrder()));
      await waitFor(async () => (paused = await lag('order')) > before, {
        timeoutMs: 15_000,
        message: () => `lag stayed at ${paused} bytes (before the pause: ${before})`,
      });
      // The fault really held the messages: no order got past its first step.
      await new Promise((r) => setTimeout(r, 3000));
      const moved = await system.query<{ n: string }>(
        'order',
        `SELECT count(*) AS n FROM saga WHERE order_id = ANY($1::uuid[]) AND status <> 'RESERVING'`,
        [orderIds],
      );
      expect(Number(moved[0]!.n), 'sagas that moved while the connector was paused').toBe(0);
      paused = await lag('order');
    } finally {
      await setConnectorState(orderDb, 'resume');
    }
    console.info(`slot lag: ${before} bytes before the pause, ${paused} with 20 orders waiting`);

    const confirmed = await Promise.all(orderIds.map((id) => system.waitForTerminal(id, 120_000)));
    expect(confirmed.map((o) => o.status)).toEqual(orderIds.map(() => 'CONFIRMED'));
    let after = paused;
    await waitFor(async () => (after = await lag('order')) < paused, {
      timeoutMs: 60_000,
      message: () => `lag did not fall after the resume: ${after} bytes (paused: ${paused})`,
    });
    console.info(`slot lag after the resume: ${after} bytes`);
  }, 300_000);
});
