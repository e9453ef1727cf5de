import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { loadConsoleConfig } from './config.js';
import { createConsoleServer } from './server.js';

const config = loadConsoleConfig();
const kafka = new Kafka({ clientId: 'console', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING });
const webRoot = fileURLToPath(new URL('../dist/web', import.meta.url));
const { server, close } = createConsoleServer(config, kafka, webRoot);

server.listen(config.httpPort, config.consoleBindHost, () => {
  console.log(`console listening on http://${config.consoleBindHost}:${config.httpPort}`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void close().then(() => process.exit(0)));
}
