import 'reflect-metadata';
import { Logger as NestLogger, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import type { ServiceConfig } from '@order-saga/config';
import { KafkaInboxTransport, RethrowRpcExceptionFilter } from '@order-saga/consumer';
import { Logger } from 'nestjs-pino';
import { CONFIG } from './tokens.js';

/**
 * Starts a service: its HTTP side (API, `/health`) and its message handlers on the inbox
 * transport, with graceful shutdown on SIGTERM/SIGINT. `configure` lets the app add pipes,
 * filters or OpenAPI before it listens.
 */
export async function runService(
  module: Type<unknown>,
  configure: (app: INestApplication) => void | Promise<void> = () => undefined,
): Promise<INestApplication> {
  const app = await NestFactory.create(module, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await configure(app);
  const config = app.get<ServiceConfig>(CONFIG);
  const microservice = app.connectMicroservice<MicroserviceOptions>(
    { strategy: app.get(KafkaInboxTransport) },
    // Deferred so the filter below is in place before Nest wraps the handlers; registered later, it
    // would be ignored and handler errors would reach the transport as anonymous objects.
    { inheritAppConfig: false, deferInitialization: true },
  );
  microservice.useGlobalFilters(new RethrowRpcExceptionFilter());
  await app.startAllMicroservices();
  await app.listen(config.httpPort, '0.0.0.0');
  new NestLogger('Service').log(`${config.serviceName} listening on http://127.0.0.1:${config.httpPort}`);
  return app;
}
