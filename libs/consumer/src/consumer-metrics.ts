import type { Attributes, Histogram } from '@opentelemetry/api';
import { meter } from '@order-saga/telemetry';

/** What became of a consumed message, as `consumer_messages_total` counts it. */
export type MessageOutcome = 'handled' | 'duplicate' | 'retried' | 'dead_lettered';

const OUTCOMES: readonly MessageOutcome[] = ['handled', 'duplicate', 'retried', 'dead_lettered'];

/** The figures of one (topic, message type): plain numbers, read by the SDK at scrape time. */
export interface MessageSeries {
  readonly attributes: Attributes;
  readonly counts: Record<MessageOutcome, number>;
  retries: number;
}

const consumerMeter = meter('order-saga.consumer');
const handlerDuration: Histogram = consumerMeter.createHistogram('consumer_handler_duration_seconds', {
  description: 'Time a handler took for one message, inside its transaction (commit not included)',
  unit: 's',
  advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
});

/**
 * Counters of every consumer of this process. A message costs a map lookup and an increment:
 * the counts are plain numbers that observable counters hand to the SDK when it is scraped,
 * instead of a `counter.add` per message, which hashes its attribute set on every call.
 */
class ConsumerTally {
  private readonly byTopic = new Map<string, Map<string, MessageSeries>>();
  private readonly schemaFailures = new Map<string, number>();

  constructor() {
    const messages = consumerMeter.createObservableCounter('consumer_messages_total', {
      description:
        'Messages consumed, by topic, type and outcome: handled (applied), duplicate (already in the inbox), retried (failed and tried again), dead_lettered',
    });
    const retries = consumerMeter.createObservableCounter('consumer_retries_total', {
      description: 'Handler attempts after a failed one (each retry counts)',
    });
    const schema = consumerMeter.createObservableCounter('consumer_schema_failures_total', {
      description: 'Messages that broke their contract (undecodable or invalid): dead-lettered at once',
    });
    consumerMeter.addBatchObservableCallback(
      (result) => {
        for (const types of this.byTopic.values())
          for (const series of types.values()) {
            for (const outcome of OUTCOMES)
              result.observe(messages, series.counts[outcome], { ...series.attributes, outcome });
            result.observe(retries, series.retries, series.attributes);
          }
        // Every topic read so far, at 0 until its first failure: a series that exists before
        // the failure is one that increase() and an alert can compare with.
        for (const topic of this.byTopic.keys())
          result.observe(schema, this.schemaFailures.get(topic) ?? 0, { topic });
      },
      [messages, retries, schema],
    );
  }

  /** The series of (topic, type), made on first use and kept: both labels have few values. */
  series(topic: string, type: string): MessageSeries {
    let types = this.byTopic.get(topic);
    if (!types) this.byTopic.set(topic, (types = new Map()));
    let series = types.get(type);
    if (!series) {
      series = {
        attributes: { topic, type },
        counts: { handled: 0, duplicate: 0, retried: 0, dead_lettered: 0 },
        retries: 0,
      };
      types.set(type, series);
    }
    return series;
  }

  schemaFailure(topic: string): void {
    this.schemaFailures.set(topic, (this.schemaFailures.get(topic) ?? 0) + 1);
  }

  handlerSeconds(series: MessageSeries, seconds: number): void {
    handlerDuration.record(seconds, series.attributes);
  }
}

/** The process's consumer figures (one tally, whatever the number of transports). */
export const consumerTally = new ConsumerTally();
