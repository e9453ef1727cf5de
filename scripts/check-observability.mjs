#!/usr/bin/env node
// Checks the observability files without a running Prometheus or Grafana: the alert rules
// (`promtool check rules` and their unit tests, `promtool test rules`), both scrape configs
// (`promtool check config`), and the Grafana dashboard (valid JSON, every panel bound to the
// provisioned datasource, every query naming only metrics of observability/metrics.yml).
// Exits 1 with one line per problem.
//
//   node scripts/check-observability.mjs
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'observability');
const problems = [];

const catalog = new Set(Object.keys(parse(readFileSync(join(dir, 'metrics.yml'), 'utf8')).metrics));

promtool('check', 'rules', join(dir, 'prometheus/alerts.yml'));
promtool('test', 'rules', join(dir, 'prometheus/alerts.test.yml'));
promtool('check', 'config', join(dir, 'prometheus/prometheus.yml'));
promtool('check', 'config', join(dir, 'prometheus/prometheus.local.yml'));

const rules = parse(readFileSync(join(dir, 'prometheus/alerts.yml'), 'utf8'));
for (const group of rules.groups) {
  for (const rule of group.rules) {
    checkNames(`alert ${rule.alert}`, rule.expr);
    if (!rule.annotations?.runbook) problems.push(`alert ${rule.alert} has no runbook annotation`);
  }
}

const datasources = parse(readFileSync(join(dir, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
const datasourceUids = new Set(datasources.datasources.map((d) => d.uid));
const dashboardPath = join(dir, 'grafana/dashboards/order-saga.json');
let dashboard;
try {
  dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8'));
} catch (error) {
  problems.push(`${dashboardPath}: not valid JSON (${error.message})`);
}
for (const panel of dashboard?.panels ?? []) {
  if (panel.type === 'row') continue;
  if (!datasourceUids.has(panel.datasource?.uid)) {
    problems.push(
      `dashboard panel "${panel.title}" uses datasource ${panel.datasource?.uid}, not a provisioned one`,
    );
  }
  if (!panel.targets?.length) problems.push(`dashboard panel "${panel.title}" has no query`);
  for (const target of panel.targets ?? []) checkNames(`dashboard panel "${panel.title}"`, target.expr);
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`observability: ${problem}`);
  process.exit(1);
}
console.log(
  `observability: ok (${rules.groups.flatMap((g) => g.rules).length} alerts tested, ` +
    `${dashboard.panels.filter((p) => p.type !== 'row').length} dashboard panels, ${catalog.size} metrics)`,
);

function promtool(...args) {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  if (run.error?.code === 'ENOENT') {
    problems.push('promtool is not installed (Debian: apt-get install -y prometheus)');
  } else if (run.status !== 0) {
    problems.push(`promtool ${args.slice(0, 2).join(' ')} ${args[2]}:\n${(run.stdout + run.stderr).trim()}`);
  }
}

// The metric names a PromQL expression reads, from Prometheus's own PromQL grammar: the
// identifier of every vector selector. Histogram series (_bucket, _sum, _count) count as their
// histogram. A syntax error is a problem of its own.
function metricNames(where, expr) {
  const names = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) problems.push(`${where}: PromQL syntax error at ${node.from} in ${expr}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        const name = expr.slice(node.from, node.to);
        const histogram = name.replace(/_(bucket|sum|count)$/, '');
        names.push(catalog.has(histogram) ? histogram : name);
      }
    },
  });
  return names;
}

function checkNames(where, expr) {
  for (const name of metricNames(where, expr)) {
    if (!catalog.has(name))
      problems.push(`${where} reads ${name}, which observability/metrics.yml does not list`);
  }
}
