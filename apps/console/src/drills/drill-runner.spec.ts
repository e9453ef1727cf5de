import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DrillBusy, drillEnvironment, DrillRunner, UnknownDrill, type DrillRun } from './drill-runner.js';

// A stand-in for e2e/dist/drills/drill.cli.js that speaks its `list --json` and `--events`
// protocol: `fast` passes, `slow` takes a second, `broken` dies before its report.
const dir = mkdtempSync(join(tmpdir(), 'console-drills-'));
const cli = join(dir, 'drill.cli.mjs');
writeFileSync(
  cli,
  `
const [name, ...flags] = process.argv.slice(2);
const emit = (event) => process.stdout.write(JSON.stringify(event) + '\\n');
if (name === 'list') {
  console.log(JSON.stringify([{ name: 'fast', summary: 'passes' }, { name: 'slow', summary: 'takes a second' }, { name: 'broken', summary: 'dies' }]));
  process.exit(0);
}
emit({ event: 'start', drill: name, orders: 2 });
emit({ event: 'log', line: name + ': starting a system of its own <b>' + flags.join(' ') + '</b>' });
emit({ event: 'progress', drill: name, placed: 1, orders: 2 });
console.log('a line that is not an event');
if (name === 'broken') { console.error('Error: could not create the scratch database'); process.exit(1); }
setTimeout(() => {
  emit({ event: 'progress', drill: name, placed: 2, orders: 2 });
  emit({ event: 'report', report: { drill: name, pass: true, invariants: [{ name: 'consumer lag back to 0', pass: true, detail: '' }] } });
}, name === 'slow' ? 1000 : 50);
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runner() {
  const seen: DrillRun[] = [];
  const drills = new DrillRunner({ cli, cwd: dir, env: drillEnvironment(['127.0.0.1:9092']) }, (run) => seen.push(run));
  const ended = () =>
    new Promise<DrillRun>((resolve) => {
      const timer = setInterval(() => {
        const run = drills.current();
        if (run && run.state !== 'running') resolve((clearInterval(timer), run));
      }, 20);
    });
  return { drills, seen, ended };
}

describe('drills run from the console', () => {
  it('lists_the_drills_the_cli_names', async () => {
    expect((await runner().drills.list()).map((d) => d.name)).toEqual(['fast', 'slow', 'broken']);
  });

  it('follows_a_drill_from_its_start_through_its_progress_to_its_report', async () => {
    const { drills, seen, ended } = runner();
    const started = await drills.start('fast', true);
    expect(started).toMatchObject({ drill: 'fast', quick: true, state: 'running' });
    const run = await ended();
    expect(run).toMatchObject({ state: 'passed', exitCode: 0, placed: 2, orders: 2, report: { drill: 'fast', pass: true } });
    // --quick reaches the CLI; lines that are not events are kept as log lines.
    expect(run.log).toEqual(['fast: starting a system of its own <b>--events --quick</b>', 'a line that is not an event']);
    // Every change was published: the page sees the placed count move before the report.
    expect(seen.map((r) => r.placed)).toContain(1);
    expect(seen.at(-1)!.state).toBe('passed');
  });

  it('refuses_a_second_drill_while_one_runs', async () => {
    const { drills, ended } = runner();
    await drills.start('slow', true);
    await expect(drills.start('fast', true)).rejects.toBeInstanceOf(DrillBusy);
    expect((await ended()).state).toBe('passed');
    // Once it ended, the next one starts.
    await drills.start('fast', false);
    expect((await ended()).drill).toBe('fast');
  });

  it('refuses_a_name_the_cli_does_not_list', async () => {
    await expect(runner().drills.start('../../bin/sh', true)).rejects.toBeInstanceOf(UnknownDrill);
  });

  it('a_drill_that_ends_without_a_report_is_an_error_with_what_it_wrote', async () => {
    const { drills, ended } = runner();
    await drills.start('broken', true);
    const run = await ended();
    expect(run).toMatchObject({ state: 'error', exitCode: 1, report: null });
    expect(run.log).toContain('Error: could not create the scratch database');
  });

  it('gives_the_drill_the_broker_but_none_of_the_consoles_own_settings', () => {
    const env = drillEnvironment(['127.0.0.1:9092'], {
      PATH: '/usr/bin',
      ADMIN_TOKEN: 'secret',
      HTTP_PORT: '3005',
      KAFKA_TOPIC_PREFIX: 'dev.',
      DATABASE_ADMIN_URL: 'postgresql://postgres@127.0.0.1:5432/postgres',
    });
    expect(env).toEqual({
      TEST_KAFKA_BROKERS: '127.0.0.1:9092',
      PATH: '/usr/bin',
      DATABASE_ADMIN_URL: 'postgresql://postgres@127.0.0.1:5432/postgres',
    });
  });
});
