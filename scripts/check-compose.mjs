#!/usr/bin/env node
// Keeps docker-compose.yml honest where no Docker engine runs to try it: the Kafka image matches
// the local broker's version, every app has a service (and the reverse), and app services set the
// environment libs/config reads, by the names it reads. Exits 1 with one line per mismatch.
//
//   node scripts/check-compose.mjs [path/to/docker-compose.yml]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const composePath = resolve(process.argv[2] ?? join(root, 'docker-compose.yml'));
const shown = relative(process.cwd(), composePath) || composePath;
const problems = [];

// Infrastructure and one-shot jobs; every other service runs an app from apps/.
const NOT_APPS = new Set([
  'kafka',
  'postgres',
  'migrate',
  'jaeger',
  'prometheus',
  'grafana',
  'kafka-ui',
  'connect',
  'connect-grants',
  'connect-setup',
]);

const compose = parse(readFileSync(composePath, 'utf8'), { merge: true });
const services = compose?.services ?? {};

validateWithDockerCompose();
checkKafkaVersion();
checkDebeziumVersion();
checkAppsHaveServices();
await checkEnvironment();

if (problems.length > 0) {
  for (const problem of problems) console.error(`${shown}: ${problem}`);
  process.exit(1);
}
console.log(`${shown}: ok (${Object.keys(services).length} services)`);

// docker-compose 1.29 knows the compose schema (keys, types, depends_on conditions); without a
// Docker engine it can still check the file, so use it when it is installed.
function validateWithDockerCompose() {
  const run = spawnSync('docker-compose', ['-f', composePath, 'config', '-q'], { encoding: 'utf8' });
  if (run.error?.code === 'ENOENT') {
    console.warn(
      'warning: docker-compose not installed, schema validation skipped (Debian: apt-get install -y docker-compose)',
    );
    return;
  }
  if (run.status !== 0) {
    problems.push(`docker-compose config rejects it: ${(run.stderr || run.stdout).trim()}`);
  }
}

function checkKafkaVersion() {
  const version = readFileSync(join(root, 'scripts/kafka/VERSION'), 'utf8').trim();
  const image = services.kafka?.image;
  if (!image) problems.push('no `kafka` service with an image');
  else if (image !== `apache/kafka:${version}`) {
    problems.push(
      `kafka image is ${image}, but scripts/kafka/VERSION says ${version}: use apache/kafka:${version}`,
    );
  }
}

// The debezium profile runs the Debezium release that scripts/connect.sh fetches locally.
function checkDebeziumVersion() {
  const version = /^DEBEZIUM_VERSION=(.+)$/m.exec(readFileSync(join(root, 'scripts/connect/VERSIONS'), 'utf8'))?.[1]?.trim();
  for (const name of ['connect', 'connect-setup']) {
    const image = services[name]?.image;
    if (image && image !== `quay.io/debezium/connect:${version}`) {
      problems.push(`${name} image is ${image}, but scripts/connect/VERSIONS says Debezium ${version}`);
    }
  }
}

function checkAppsHaveServices() {
  const appsDir = join(root, 'apps');
  const apps = existsSync(appsDir)
    ? readdirSync(appsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
    : [];
  for (const app of apps) {
    if (!services[app]) problems.push(`apps/${app} has no service \`${app}\``);
  }
  for (const name of appServices()) {
    if (!apps.includes(name)) problems.push(`service \`${name}\` has no folder apps/${name}`);
  }
}

async function checkEnvironment() {
  const shared = await envTable();
  for (const name of appServices()) {
    // An app that reads its own set of variables (the console: no database) exports its table
    // from dist/config.js; the others read the shared one.
    const table = (await appEnvTable(name)) ?? shared;
    const known = new Set(table.map((v) => v.name));
    const required = table.filter((v) => v.required).map((v) => v.name);
    const env = environmentOf(services[name]);
    for (const variable of required) {
      if (env[variable] === undefined || env[variable] === '') {
        problems.push(`service \`${name}\` does not set ${variable}`);
      }
    }
    for (const variable of Object.keys(env)) {
      if (!known.has(variable)) {
        problems.push(
          `service \`${name}\` sets ${variable}, which is not in libs/config's environment table`,
        );
      }
    }
    if (env.SERVICE_NAME !== undefined && env.SERVICE_NAME !== name) {
      problems.push(`service \`${name}\` sets SERVICE_NAME=${env.SERVICE_NAME}`);
    }
  }
}

function appServices() {
  return Object.keys(services).filter((name) => !NOT_APPS.has(name));
}

// Compose accepts both `KEY: value` maps and `- KEY=value` lists.
function environmentOf(service) {
  const env = service?.environment ?? {};
  if (!Array.isArray(env))
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
  return Object.fromEntries(
    env.map((entry) => {
      const at = entry.indexOf('=');
      return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
}

async function appEnvTable(app) {
  const built = join(root, 'apps', app, 'dist/config.js');
  if (!existsSync(built)) return undefined;
  const { ENV_VARIABLES } = await import(pathToFileURL(built).href);
  return Array.isArray(ENV_VARIABLES) ? ENV_VARIABLES : undefined;
}

// The table the services themselves validate against, from libs/config's build, so this check
// cannot drift from the code.
async function envTable() {
  const built = join(root, 'libs/config/dist/index.js');
  if (!existsSync(built)) {
    console.error(`${relative(process.cwd(), built)} is missing: build first (pnpm build)`);
    process.exit(1);
  }
  const { ENV_VARIABLES } = await import(pathToFileURL(built).href);
  if (!Array.isArray(ENV_VARIABLES) || ENV_VARIABLES.length === 0) {
    console.error('libs/config exports no ENV_VARIABLES table: rebuild it (pnpm build)');
    process.exit(1);
  }
  return ENV_VARIABLES;
}
