import type { Histogram } from '@opentelemetry/api';
import type { Admin, Kafka } from 'kafkajs';
import { DEAD_LETTER_READER_GROUP_PREFIX, summarizeDeadLetters } from '@order-saga/consumer';
import { meter } from '@order-saga/telemetry';
import { OffsetHistory, skewRatio } from './offset-history.js';

/** Options of {@link BrokerMonitor}. */
export interface BrokerMonitorOptions {
  kafka: Kafka;
  /** Only groups and topics of this environment (the services' `KAFKA_TOPIC_PREFIX`). */
  topicPrefix?: string;
  /** How often offsets are sampled. Default 5 s. */
  intervalMs?: number;
  /** The window `topic_partition_skew_ratio` counts messages over. Default 5 min. */
  skewWindowMs?: number;
  onError?: (error: unknown) => void;
  /** Called after every sweep that succeeded. */
  onSweep?: (snapshot: BrokerSnapshot) => void;
}

/** A consumer group's position on one partition, as the broker has it. */
export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  committed: number;
  end: number;
  lag: number;
  /** How long the oldest unconsumed message has waited (0 when caught up). */
  lagSeconds: number;
  /** Time left before retention deletes the oldest unconsumed message (Infinity: no limit). */
  headroomSeconds: number;
}

/** What one sweep saw. */
export interface BrokerSnapshot {
  at: number;
  partitions: PartitionLag[];
  skew: Map<string, number>;
  /** Records on each dead-letter topic that no replay marker names yet. */
  deadLetters: Map<string, number>;
}

interface DeadLetterState {
  /** The topic's end offsets when it was last counted: it is read again only when they move. */
  ends: string;
  waiting: number;
}

/**
 * Consumer lag as the broker sees it, Burrow-style: committed offsets of every consumer group
 * against the topics' end offsets, read with an admin client. A consumer that died or hangs
 * reports nothing, but its group's committed offsets stop while the end offsets grow, so its lag
 * still rises here. Lag in seconds comes from an interpolation table of sampled end offsets (no
 * message is read), retention headroom from each topic's `retention.ms`.
 *
 * One process per system runs it (the order service): the figures are the cluster's, not a
 * replica's, so the alert rules take the max across replicas.
 */
export class BrokerMonitor {
  private readonly histories = new Map<string, OffsetHistory>();
  private readonly retentionMs = new Map<string, number>();
  private readonly deadLetters = new Map<string, DeadLetterState>();
  private readonly replaysSeen = new Set<string>();
  private readonly startedAt = Date.now();
  private admin?: Admin;
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private latest?: BrokerSnapshot;
  private replayDuration?: Histogram;

  constructor(private readonly options: BrokerMonitorOptions) {}

  /** The last sweep's figures, or undefined before the first one. */
  get snapshot(): BrokerSnapshot | undefined {
    return this.latest;
  }

  /** Exports the figures as observable gauges and starts sampling. */
  start(): void {
    const m = meter('order-saga-broker');
    m.createObservableGauge('consumer_lag_messages', {
      description: 'Messages a consumer group has not committed yet, per partition (from the broker)',
    }).addCallback((result) => {
      for (const p of this.latest?.partitions ?? [])
        result.observe(p.lag, { group: p.group, topic: p.topic, partition: String(p.partition) });
    });
    m.createObservableGauge('consumer_lag_seconds', {
      description: 'Age of the oldest message a consumer group has not committed, per topic',
      unit: 's',
    }).addCallback((result) => {
      for (const [key, value] of this.perGroupTopic((p) => p.lagSeconds, Math.max))
        result.observe(value, key);
    });
    m.createObservableGauge('retention_headroom_seconds', {
      description: 'Time before retention deletes the oldest message a group has not read, per topic',
      unit: 's',
    }).addCallback((result) => {
      for (const [key, value] of this.perGroupTopic((p) => p.headroomSeconds, Math.min))
        if (Number.isFinite(value)) result.observe(value, key);
    });
    m.createObservableGauge('dead_letter_messages', {
      description: 'Records on each dead-letter topic not replayed yet (pnpm dlt list)',
    }).addCallback((result) => {
      for (const [topic, waiting] of this.latest?.deadLetters ?? []) result.observe(waiting, { topic });
    });
    this.replayDuration = m.createHistogram('dead_letter_replay_duration_seconds', {
      description: 'Duration of each pnpm dlt replay run, read from the replay markers it leaves on the DLTs',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] },
    });
    m.createObservableGauge('topic_partition_skew_ratio', {
      description: 'Max over mean of messages per partition over the skew window, per topic',
    }).addCallback((result) => {
      for (const [topic, ratio] of this.latest?.skew ?? []) result.observe(ratio, { topic });
    });

    const interval = this.options.intervalMs ?? 5_000;
    const tick = () => {
      this.sweeping = this.sweep()
        .then((snapshot) => this.options.onSweep?.(snapshot))
        .catch((error) => this.options.onError?.(error))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, interval).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  /** Samples every topic's end offsets and every group's committed offsets once. */
  async sweep(now = Date.now()): Promise<BrokerSnapshot> {
    const admin = await this.connect();
    const prefix = this.options.topicPrefix ?? '';
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix) && !t.startsWith('__'));
    const ends = new Map<string, Map<number, number>>();
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      ends.set(topic, new Map(offsets.map((o) => [o.partition, Number(o.high)])));
      for (const o of offsets) this.history(topic, o.partition).record(Number(o.high), now);
    }
    await this.loadRetention(admin, topics);

    const { groups } = await admin.listGroups();
    const partitions: PartitionLag[] = [];
    // The dead-letter readers' groups live for one read and are not consumers anyone watches.
    const watched = groups.filter(
      (g) => g.groupId.startsWith(prefix) && !g.groupId.startsWith(DEAD_LETTER_READER_GROUP_PREFIX),
    );
    for (const { groupId } of watched) {
      // Without topics the broker answers only the partitions the group committed on, and a
      // partition it never read would show no lag at all: ask again for every partition of them.
      const topicsOfGroup = (await admin.fetchOffsets({ groupId }))
        .map((t) => t.topic)
        .filter((t) => ends.has(t));
      if (topicsOfGroup.length === 0) continue;
      const committed = await admin.fetchOffsets({ groupId, topics: topicsOfGroup });
      for (const { topic, partitions: parts } of committed) {
        const topicEnds = ends.get(topic);
        if (!topicEnds) continue;
        for (const { partition, offset } of parts) {
          const end = topicEnds.get(partition) ?? 0;
          // -1: the group has a subscription but never committed here; count from the start.
          const position = Number(offset) < 0 ? 0 : Number(offset);
          partitions.push(this.lagOf(groupId, topic, partition, position, end, now));
        }
      }
    }
    const skewWindow = this.options.skewWindowMs ?? 5 * 60_000;
    const skew = new Map<string, number>();
    for (const topic of topics) {
      const counts = [...(ends.get(topic)?.keys() ?? [])].map((p) =>
        this.history(topic, p).growth(skewWindow, now),
      );
      const ratio = skewRatio(counts);
      if (ratio !== undefined) skew.set(topic, ratio);
    }
    const deadLetters = await this.countDeadLetters(
      topics.filter((t) => t.endsWith('.dlt')),
      ends,
    );
    this.latest = { at: now, partitions, skew, deadLetters };
    return this.latest;
  }

  /**
   * Counts each dead-letter topic's records without a replay marker, reading a topic again only
   * when its end offsets moved (a dead letter or a marker was added): dead-letter topics are
   * small and rarely written. Records each replay run's duration once, if it ran after this
   * monitor started (an older run was this figure's business before a restart).
   */
  private async countDeadLetters(
    topics: string[],
    ends: Map<string, Map<number, number>>,
  ): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const topic of topics) {
      const signature = [...(ends.get(topic) ?? [])].map(([p, high]) => `${p}:${high}`).join(',');
      let state = this.deadLetters.get(topic);
      if (state?.ends !== signature) {
        const summary = await summarizeDeadLetters(this.options.kafka, topic);
        for (const run of summary.runs) {
          if (this.replaysSeen.has(run.id)) continue;
          this.replaysSeen.add(run.id);
          if (run.at >= this.startedAt) this.replayDuration?.record(run.durationMs / 1000);
        }
        state = { ends: signature, waiting: summary.waiting };
        this.deadLetters.set(topic, state);
      }
      counts.set(topic, state.waiting);
    }
    return counts;
  }

  private lagOf(
    group: string,
    topic: string,
    partition: number,
    committed: number,
    end: number,
    now: number,
  ): PartitionLag {
    const lag = Math.max(0, end - committed);
    const writtenAt = lag > 0 ? this.history(topic, partition).writtenAt(committed) : undefined;
    const waited = writtenAt === undefined ? 0 : Math.max(0, (now - writtenAt) / 1000);
    const retention = this.retentionMs.get(topic) ?? -1;
    const headroomSeconds = retention < 0 ? Infinity : retention / 1000 - waited;
    return { group, topic, partition, committed, end, lag, lagSeconds: waited, headroomSeconds };
  }

  private history(topic: string, partition: number): OffsetHistory {
    const key = `${topic}\u0000${partition}`;
    let history = this.histories.get(key);
    if (!history) this.histories.set(key, (history = new OffsetHistory()));
    return history;
  }

  private perGroupTopic(
    value: (p: PartitionLag) => number,
    combine: (a: number, b: number) => number,
  ): Map<{ group: string; topic: string }, number> {
    const byKey = new Map<string, { key: { group: string; topic: string }; value: number }>();
    for (const p of this.latest?.partitions ?? []) {
      const id = `${p.group}\u0000${p.topic}`;
      const seen = byKey.get(id);
      byKey.set(id, {
        key: { group: p.group, topic: p.topic },
        value: seen ? combine(seen.value, value(p)) : value(p),
      });
    }
    return new Map([...byKey.values()].map((e) => [e.key, e.value]));
  }

  private async loadRetention(admin: Admin, topics: string[]): Promise<void> {
    const unknown = topics.filter((t) => !this.retentionMs.has(t));
    if (unknown.length === 0) return;
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      // 2 = TOPIC (kafkajs ConfigResourceTypes)
      resources: unknown.map((name) => ({ type: 2, name, configNames: ['retention.ms'] })),
    });
    for (const resource of resources) {
      const entry = resource.configEntries.find((e) => e.configName === 'retention.ms');
      if (entry) this.retentionMs.set(resource.resourceName, Number(entry.configValue));
    }
  }

  private async connect(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.options.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }
}
