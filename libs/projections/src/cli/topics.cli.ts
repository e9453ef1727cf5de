#!/usr/bin/env node
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { topicKeys } from '@order-saga/contracts';
import { createKafka } from '@order-saga/outbox';
import { exportSlice, importSlice } from '../slice.js';

// The saga's topics; the messaging testbed's ledger is not production traffic.
const sagaTopics = topicKeys.filter((t) => t !== 'ledger.events');

const program = new Command('topics')
  .description('Copy a slice of topics to a file and replay it elsewhere (e.g. production traffic into a local system).')
  .addOption(new Option('--brokers <list>', 'Kafka brokers').env('KAFKA_BROKERS').default('127.0.0.1:9092'))
  .option('--json', 'machine-readable output')
  .addHelpText(
    'after',
    `
Examples:
  pnpm topics export --from 2026-12-01T10:00:00Z --to 2026-12-01T11:00:00Z --out slice.jsonl.gz
  pnpm topics export --topics order.events,payment.events --prefix prod. --out slice.jsonl.gz
  pnpm topics import slice.jsonl.gz --prefix dev.`,
  )
  .showHelpAfterError();

const time = (flag: string) => (value: string) => {
  const at = Date.parse(value);
  if (Number.isNaN(at)) program.error(`${flag} ${value}: expected an ISO 8601 time`);
  return new Date(at);
};

function bar(label: string, json: boolean): SingleBar | null {
  if (json || !process.stderr.isTTY) return null;
  return new SingleBar({ format: ` ${label} [{bar}] {percentage}% {value}/{total} | {eta_formatted}`, hideCursor: true }, Presets.shades_classic);
}

program
  .command('export')
  .description('write a slice of topics (keys, headers, values, positions) to a gzipped JSON-lines file; PII masked by default')
  .option('--topics <list>', `comma-separated, un-prefixed (default: ${sagaTopics.join(',')})`)
  .addOption(new Option('--prefix <prefix>', 'topic prefix to read under').env('KAFKA_TOPIC_PREFIX').default(''))
  .option('--from <time>', 'records at or after this time (default: earliest retained)', time('--from'))
  .option('--to <time>', 'records before this time (default: now)', time('--to'))
  .requiredOption('--out <file>', 'e.g. slice.jsonl.gz')
  .option('--no-mask', 'keep PII fields as they are (only for data that is not personal)')
  .action(async (opts: { topics?: string; prefix: string; from?: Date; to?: Date; out: string; mask: boolean }) => {
    const { brokers, json } = program.opts<{ brokers: string; json?: boolean }>();
    const topics = opts.topics ? opts.topics.split(',').map((t) => t.trim()) : sagaTopics;
    const unknown = topics.filter((t) => !(topicKeys as readonly string[]).includes(t));
    if (unknown.length > 0) program.error(`unknown topics ${unknown.join(', ')}: expected un-prefixed names among ${topicKeys.join(', ')}`);
    const progress = bar('export', !!json);
    let started = false;
    const result = await exportSlice({
      kafka: createKafka({ clientId: 'topics-cli', brokers: brokers.split(',') }),
      topics,
      prefix: opts.prefix,
      from: opts.from,
      to: opts.to ?? new Date(),
      out: opts.out,
      mask: opts.mask,
      onProgress: (written, total) => {
        if (!started) progress?.start(total, 0);
        started = true;
        progress?.update(written);
      },
    });
    progress?.stop();
    if (json) console.log(JSON.stringify({ out: opts.out, ...result, masked: opts.mask }));
    else console.error(`wrote ${result.records} records to ${opts.out}${opts.mask ? ' (PII masked)' : ' (PII NOT masked)'}`);
  });

program
  .command('import')
  .description('replay a slice into topics under a prefix, keys and headers intact, each record to its original partition')
  .argument('<file>', 'a file written by `topics export`')
  .option('--prefix <prefix>', 'topic prefix to write under, e.g. dev.', '')
  .action(async (file: string, opts: { prefix: string }) => {
    const { brokers, json } = program.opts<{ brokers: string; json?: boolean }>();
    const result = await importSlice({
      kafka: createKafka({ clientId: 'topics-cli', brokers: brokers.split(',') }),
      file,
      prefix: opts.prefix,
    });
    if (json) console.log(JSON.stringify({ records: result.records, prefix: opts.prefix, source: result.meta }));
    else console.error(`imported ${result.records} records under prefix "${opts.prefix}" (exported ${result.meta.exportedAt}${result.meta.masked ? ', PII masked' : ''})`);
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
