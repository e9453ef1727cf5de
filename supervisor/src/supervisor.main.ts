import { readConfig } from './config.js';
import { createControlServer } from './control-server.js';
import { Supervisor, type SupervisorLog } from './supervisor.js';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node supervisor/dist/supervisor.main.js <config.json>');
  process.exit(2);
}
const config = readConfig(configPath);
const json = process.env.LOG_FORMAT === 'json';
const colour = !json && !!process.env.FORCE_COLOR && !process.env.NO_COLOR;
const colours = [36, 33, 35, 32, 34];
const prefixes = new Map(
  config.processes.map((p, i) => {
    const name = p.name.padEnd(9);
    return [p.name, colour ? `\x1b[${colours[i % colours.length]}m${name}|\x1b[0m ` : `${name}| `];
  }),
);

// A line the service's logger wrote (JSON, or pretty: it starts with the time) names its service
// already; anything else (a crash, a Node warning) gets the process name in front.
const ownLine = /^(\{|[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} )/;
const output = (name: string, line: string) =>
  process.stdout.write(ownLine.test(line) ? `${line}\n` : `${prefixes.get(name) ?? `${name} | `}${line}\n`);

const log: SupervisorLog = (level, msg, fields = {}) => {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, service: 'supervisor', msg, ...fields })}\n`,
    );
  } else {
    const time = new Date().toISOString().slice(11, 23);
    const tag = level === 'info' ? 'INFO ' : level === 'warn' ? 'WARN ' : 'ERROR';
    process.stdout.write(`${time} ${tag} [supervisor] ${msg}\n`);
  }
};

// ./scripts/start hands the control surface its token as SUPERVISOR_ADMIN_TOKEN and the services
// never see it: their own admin endpoints stay as ADMIN_TOKEN (set or not) configures them.
const adminToken = process.env.SUPERVISOR_ADMIN_TOKEN ?? process.env.ADMIN_TOKEN;
delete process.env.SUPERVISOR_ADMIN_TOKEN;
const supervisor = new Supervisor(config.processes, { log, output });
const server = createControlServer(supervisor, adminToken);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  // External processes (brokers kafka.sh started) stay: ./scripts/start stops them after this.
  const external = config.processes.filter((p) => p.pidFile).length;
  log(
    'info',
    `${signal}: stopping every process${external > 0 ? ` but the ${external} external one(s)` : ''}`,
  );
  server.close();
  await supervisor.shutdown();
  process.exit(signal === 'SIGINT' ? 130 : 0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

server.once('error', (error) => {
  log('error', `control surface cannot listen on 127.0.0.1:${config.controlPort}: ${error.message}`);
  process.exit(1);
});
server.listen(config.controlPort, '127.0.0.1', () => {
  log('info', `control surface on http://127.0.0.1:${config.controlPort} (pnpm system ps)`);
  supervisor.startAll();
});
