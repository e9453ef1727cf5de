import 'reflect-metadata';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { configureHttp } from '@order-saga/http';
import { Logger } from 'nestjs-pino';
import { CONFIG, type OrderViewConfig } from './config.js';
import { OrderViewModule } from './order-view.module.js';

const app = await NestFactory.create(OrderViewModule, { bufferLogs: true });
app.useLogger(app.get(Logger));
app.enableShutdownHooks();
configureHttp(app, {
  title: 'order-saga: order view (read side)',
  description:
    'What happened to each order across all four services, built from their messages. Every answer says how fresh it is (freshness field and Read-Model-Freshness header).',
  bodyLimit: '1kb',
});
const config = app.get<OrderViewConfig>(CONFIG);
await app.listen(config.httpPort, '0.0.0.0');
new NestLogger('Service').log(`order-view listening on http://127.0.0.1:${config.httpPort}`);
