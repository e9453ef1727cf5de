#!/usr/bin/env node
import { Command, Option } from 'commander';
import Table from 'cli-table3';
import { ENV_VARIABLES } from '@order-saga/config';
import { wireHeaders } from '@order-saga/contracts';
import { createKafka } from '@order-saga/outbox';
import {
  readDeadLetters,
  replayDeadLetters,
  type DeadLetterFilter,
  type DeadLetterRecord,
} from '../dead-letter-store.js';

const program = new Command('dlt')
  .description('List, inspect and replay dead-lettered messages.')
  .addOption(new Option('--brokers <list>', 'Kafka brokers').env('KAFKA_BROKERS').default('127.0.0.1:9092'))
  .addOption(new Option('--prefix <prefix>', 'topic prefix').env('KAFKA_TOPIC_PREFIX').default(''))
  .addOption(
    new Option(
      '--inbox-retention-hours <hours>',
      "the consumers' inbox retention: replay refuses older messages",
    )
      .env('INBOX_RETENTION_HOURS')
      .default(ENV_VARIABLES.find((v) => v.name === 'INBOX_RETENTION_HOURS')?.default ?? '336'),
  );

const filters = (cmd: Command) =>
  cmd
    .option(
      '-t, --topic <topic>',
      'original topic (e.g. inventory.commands) or dead-letter topic; default: every *.dlt topic',
    )
    .option('--type <type>', 'only messages of this type (e.g. ReserveStock)')
    .option('--aggregate <id>', 'only messages of this aggregate (the Kafka key, e.g. an order id)')
    .option('--message-id <id>', 'only the message with this id')
    .option('--position <partition:offset>', 'only the record at this position of the dead-letter topic');

interface FilterOptions {
  notReplayed?: boolean;
  topic?: string;
  type?: string;
  aggregate?: string;
  messageId?: string;
  position?: string;
}

async function collect(options: FilterOptions): Promise<DeadLetterRecord[]> {
  const { brokers, prefix } = program.opts<{ brokers: string; prefix: string }>();
  const kafka = createKafka({ clientId: 'dlt-cli', brokers: brokers.split(',') });
  let topics: string[];
  if (options.topic) {
    const named = options.topic.startsWith(prefix) ? options.topic : prefix + options.topic;
    topics = [named.endsWith('.dlt') ? named : `${named}.dlt`];
  } else {
    const admin = kafka.admin();
    await admin.connect();
    topics = (await admin.listTopics()).filter((t) => t.endsWith('.dlt') && t.startsWith(prefix)).sort();
    await admin.disconnect();
  }
  const filter: DeadLetterFilter = {
    type: options.type,
    aggregateId: options.aggregate,
    messageId: options.messageId,
    position: options.position,
    notReplayed: options.notReplayed,
  };
  const records: DeadLetterRecord[] = [];
  for (const topic of topics) records.push(...(await readDeadLetters(kafka, topic, filter)));
  return records;
}

filters(program.command('list').description('one line per dead-lettered message'))
  .option('--json', 'print JSON lines instead of a table')
  .action(async (options: FilterOptions & { json?: boolean }) => {
    const records = await collect(options);
    if (options.json) {
      for (const r of records) console.log(JSON.stringify(r));
      return;
    }
    const table = new Table({
      head: [
        'dlt topic',
        'pos',
        'type',
        'aggregate',
        'message id',
        'error',
        'attempts',
        'last failure',
        'replayed',
      ],
    });
    for (const r of records)
      table.push([
        r.dltTopic,
        `${r.partition}:${r.offset}`,
        r.type ?? '?',
        r.key ?? '',
        r.messageId ?? '',
        `${r.errorClass}: ${r.errorMessage}`.slice(0, 80),
        r.attempts,
        r.lastFailureAt,
        r.replayed ? 'yes' : '',
      ]);
    console.log(records.length === 0 ? 'no dead-lettered messages' : table.toString());
  });

filters(program.command('show').description('every header and the payload of the matching messages')).action(
  async (options: FilterOptions) => {
    for (const r of await collect(options)) console.log(JSON.stringify(r, null, 2));
  },
);

filters(
  program
    .command('replay')
    .description('publish the matching messages to their original topics, same message id'),
)
  .option(
    '--all',
    'replay every matching message not replayed yet (required when no --position or --message-id is given)',
  )
  .action(async (options: FilterOptions & { all?: boolean }) => {
    const startedAt = Date.now();
    if (!options.all && !options.position && !options.messageId) {
      program.error(
        'replay needs --position, --message-id, or --all (with optional --type/--aggregate filters)',
      );
    }
    const { brokers, inboxRetentionHours } = program.opts<{ brokers: string; inboxRetentionHours: string }>();
    // --all means "what still waits"; a message named by position or id is replayed again if asked.
    const records = await collect({
      ...options,
      notReplayed: options.all && !options.position && !options.messageId,
    });
    refuseBeyondReplayHorizon(records, Number(inboxRetentionHours));
    const replayed = await replayDeadLetters(
      createKafka({ clientId: 'dlt-cli', brokers: brokers.split(',') }),
      records,
      startedAt,
    );
    for (const r of records)
      console.log(
        `replayed ${r.type ?? '?'} ${r.messageId ?? ''} from ${r.dltTopic} ${r.partition}:${r.offset} to ${r.originalTopic}`,
      );
    console.log(`${replayed} message(s) replayed`);
  });

/**
 * A consumer de-duplicates by the inbox row it wrote when it applied a message, and inbox rows are
 * deleted after `INBOX_RETENTION_HOURS`. A copy of an older message may have been applied and its
 * row purged since: replayed, it would be applied again. Refuse, before anything is sent.
 */
function refuseBeyondReplayHorizon(records: readonly DeadLetterRecord[], retentionHours: number): void {
  if (!Number.isFinite(retentionHours) || retentionHours <= 0)
    program.error(`--inbox-retention-hours must be a positive number of hours, got ${retentionHours}`);
  const horizon = Date.now() - retentionHours * 3_600_000;
  // When the message was created (its first chance of being applied), else its first failure.
  const bornAt = (r: DeadLetterRecord) => Date.parse(r.headers[wireHeaders.occurredAt] ?? r.firstFailureAt);
  const tooOld = records.filter((r) => !(bornAt(r) >= horizon));
  if (tooOld.length === 0) return;
  const lines = tooOld.map(
    (r) =>
      `  ${r.type ?? '?'} ${r.messageId ?? ''} at ${r.dltTopic} ${r.partition}:${r.offset}, created ${r.headers[wireHeaders.occurredAt] ?? r.firstFailureAt ?? 'at an unknown time'}`,
  );
  program.error(
    [
      `refused: ${tooOld.length} of ${records.length} message(s) are older than the inbox retention (INBOX_RETENTION_HOURS=${retentionHours} h), so nothing was replayed.`,
      'Their inbox rows may have been purged: a message that was already applied would be applied again.',
      ...lines,
      'Replay only newer messages (--message-id, --position), or resolve these by hand.',
    ].join('\n'),
    { exitCode: 3 },
  );
}

await program.parseAsync();
