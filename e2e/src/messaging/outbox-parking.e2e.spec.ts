import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { OutboxRelay } from '@order-saga/outbox';
import { waitFor } from '@order-saga/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTopic, recordEntry, scenario, type Scenario, type TopicMessage } from './scenario.js';

const outboxCli = fileURLToPath(new URL('../../../libs/outbox/dist/cli/outbox.cli.js', import.meta.url));

/**
 * A row of `agg-a` with a `note` of `bytes` characters. Written as a raw row, as a service with a
 * bug (or a payload grown over time) would leave it: the contracts are not what is under test.
 */
async function insertLargeRow(s: Scenario, aggregateId: string, bytes: number): Promise<string> {
  const [row] = await s.prisma.$queryRawUnsafe<{ id: string }[]>(
    `INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, topic, schema_version, correlation_id)
     SELECT gen_random_uuid(), aggregatetype, aggregateid, type,
            jsonb_build_object('aggregateId', aggregateid, 'seq', 0, 'note', repeat('x', $2::int)),
            topic, schema_version, correlation_id
       FROM outbox WHERE aggregateid = $1 ORDER BY seq LIMIT 1
     RETURNING id::text`,
    aggregateId,
    bytes,
  );
  return row!.id;
}

const outboxRow = async (s: Scenario, id: string) =>
  (
    await s.prisma.$queryRawUnsafe<{ published: boolean; parked: boolean; reason: string | null }[]>(
      `SELECT published_at IS NOT NULL AS published, parked_at IS NOT NULL AS parked, parked_reason AS reason
         FROM outbox WHERE id = $1::uuid`,
      id,
    )
  )[0]!;

const idsOf = async (s: Scenario, aggregateId: string) =>
  (
    await s.prisma.$queryRawUnsafe<{ id: string }[]>(
      'SELECT id::text FROM outbox WHERE aggregateid = $1 ORDER BY seq',
      aggregateId,
    )
  ).map((r) => r.id);

const cli = (s: Scenario, ...args: string[]) =>
  execFileSync(process.execPath, [outboxCli, ...args], {
    env: { ...process.env, DATABASE_URL: s.databaseUrl },
    encoding: 'utf8',
  });

describe('a row the broker can never accept', () => {
  let s: Scenario;
  let relay: OutboxRelay | undefined;

  beforeEach(async (context) => {
    s = await scenario(`parking-${context.task.id.slice(-4)}`);
  });
  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await s?.dispose();
  });

  /**
   * agg-a: a1, A2 (the bad row), a3; then agg-b: b1, b2, b3 — all committed before the relay starts,
   * so they share one claim.
   */
  async function writeAroundBadRow(badRowBytes: number) {
    await recordEntry(s, 'agg-a');
    const bad = await insertLargeRow(s, 'agg-a', badRowBytes);
    await recordEntry(s, 'agg-a');
    for (let i = 0; i < 3; i++) await recordEntry(s, 'agg-b');
    const [a1, , a3] = await idsOf(s, 'agg-a');
    return { a1: a1!, bad, a3: a3!, b: await idsOf(s, 'agg-b') };
  }

  function startRelay() {
    relay = new OutboxRelay({ databaseUrl: s.databaseUrl, kafka: s.kafka, pollIntervalMs: 200 });
    relay.start();
  }

  async function expectOnTopic(ids: string[], absent: string[]) {
    const wanted = new Set(ids);
    const messages: TopicMessage[] = await readTopic(s.kafka, s.topic, (m) =>
      [...wanted].every((id) => m.some((x) => x.id === id)),
    );
    for (const id of absent) expect(messages.map((m) => m.id)).not.toContain(id);
    return messages;
  }

  it('a row larger than the broker accepts is parked; other aggregates behind it are published and its own aggregate waits', async () => {
    const { a1, bad, a3, b } = await writeAroundBadRow(1_200_000);
    startRelay();

    await waitFor(async () => (await outboxRow(s, b[2]!)).published, {
      timeoutMs: 20_000,
      message: () => 'the rows of agg-b behind the oversized row were not published: the outbox is wedged',
    });
    await expectOnTopic([a1, ...b], [bad, a3]);
    const parked = await outboxRow(s, bad);
    expect(parked).toMatchObject({ parked: true, published: false });
    expect(parked.reason).toMatch(/too large/);
    // Give the relay more rounds: a3 must keep waiting behind its parked predecessor.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await outboxRow(s, a3)).toMatchObject({ published: false, parked: false });

    const listed = cli(s, 'parked', '--json')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(listed).toEqual([expect.objectContaining({ id: bad, aggregateId: 'agg-a', waiting: 1 })]);

    // Resolving the parked row lets its aggregate move on, still in order.
    expect(JSON.parse(cli(s, 'discard', bad, '--reason', 'test', '--json'))).toEqual({
      id: bad,
      action: 'discarded',
      ok: true,
    });
    await waitFor(async () => (await outboxRow(s, a3)).published, { timeoutMs: 10_000 });
    const messages = await expectOnTopic([a1, a3], [bad]);
    const agg = messages.filter((m) => m.key === 'agg-a').map((m) => m.id);
    expect(agg.indexOf(a1)).toBeLessThan(agg.indexOf(a3));
  });

  it('rows that each fit but together exceed the broker limit go out in several batches, none parked', async () => {
    await recordEntry(s, 'agg-c');
    const big: string[] = [];
    // 6 x 300 kB on one aggregate, hence one partition: 1.8 MB in one record batch would be refused.
    for (let i = 0; i < 6; i++) big.push(await insertLargeRow(s, 'agg-c', 300_000));
    startRelay();
    await waitFor(
      async () => (await Promise.all(big.map((id) => outboxRow(s, id)))).every((r) => r.published),
      {
        timeoutMs: 20_000,
        message: () => 'rows that fit one by one were not all published',
      },
    );
    for (const id of big) expect(await outboxRow(s, id)).toMatchObject({ parked: false });
    await expectOnTopic(big, []);
  });

  it('a row the broker refuses for good (its topic allows less) is parked the same way', async () => {
    const admin = s.kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2, // ConfigResourceTypes.TOPIC (not importable by name from ES modules)
          name: s.topic,
          configEntries: [{ name: 'max.message.bytes', value: '100000' }],
        },
      ],
    });
    await admin.disconnect();
    const { a1, bad, a3, b } = await writeAroundBadRow(200_000);
    startRelay();

    await waitFor(async () => (await outboxRow(s, b[2]!)).published, {
      timeoutMs: 20_000,
      message: () => 'the rows of agg-b behind the refused row were not published: the outbox is wedged',
    });
    await expectOnTopic([a1, ...b], [bad, a3]);
    const parked = await outboxRow(s, bad);
    expect(parked).toMatchObject({ parked: true, published: false });
    expect(parked.reason).toMatch(/refused by the broker/);
    expect(await outboxRow(s, a3)).toMatchObject({ published: false, parked: false });

    // Unparked, it is tried again and parked again: the broker still refuses it.
    expect(JSON.parse(cli(s, 'unpark', bad, '--json'))).toMatchObject({ ok: true });
    await waitFor(async () => (await outboxRow(s, bad)).parked, { timeoutMs: 10_000 });
    expect(await outboxRow(s, a3)).toMatchObject({ published: false });
  });
});
