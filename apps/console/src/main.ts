import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { loadConsoleConfig } from './config.js';
import { createConsoleServer } from './server.js';

const config = loadConsoleConfig();
const kafka = new Kafka({ clientId: 'console', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING });
const webRoot = fileURLToPath(new URL('../dist/web', import.meta.url));
// The drills run from the checkout this console was built in (apps/console/dist → the root).
const checkout = fileURLToPath(new URL('../../..', import.meta.url));
const { server, close } = createConsoleServer(config, kafka, webRoot, {
  cli: `${checkout}e2e/dist/drills/drill.cli.js`,
  cwd: checkout,
});

server.listen(config.httpPort, config.consoleBindHost, () => {
  console.log(`console listening on http://${config.consoleBindHost}:${config.httpPort}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void close().then(() => process.exit(0)));
}
