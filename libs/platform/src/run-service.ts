import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger as NestLogger, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions, NestMicroservice } from '@nestjs/microservices';
import type { ServiceConfig } from '@order-saga/config';
import { KafkaInboxTransport, RethrowRpcExceptionFilter } from '@order-saga/consumer';
import { quietNestStartUp } from '@order-saga/telemetry';
import { Logger } from 'nestjs-pino';
import { CONFIG } from './tokens.js';

/**
 * Starts a service: its HTTP side (API, `/health`) and its message handlers on the inbox
 * transport, with graceful shutdown on SIGTERM/SIGINT. `configure` lets the app add pipes,
 * filters or OpenAPI before it listens. Start-up writes one line at info: where it listens.
 */
export async function runService(
  module: Type<unknown>,
  configure: (app: INestApplication) => void | Promise<void> = () => undefined,
): Promise<INestApplication> {
  const app = await NestFactory.create(module, { bufferLogs: true });
  app.useLogger(quietNestStartUp(app.get(Logger)));
  app.enableShutdownHooks();
  await configure(app);
  const config = app.get<ServiceConfig>(CONFIG);
  const microservice = app.connectMicroservice<MicroserviceOptions>(
    { strategy: app.get(KafkaInboxTransport) },
    // Deferred so the filter below is in place before Nest wraps the handlers; registered later, it
    // would be ignored and handler errors would reach the transport as anonymous objects.
    { inheritAppConfig: false, deferInitialization: true },
  ) as NestMicroservice;
  microservice.useGlobalFilters(new RethrowRpcExceptionFilter());
  // The microservice shares the application's modules, whose lifecycle hooks app.init() runs. A
  // deferred microservice runs every onModuleInit and onApplicationBootstrap again in its listen()
  // unless told they ran (Nest 12 tells only non-deferred ones): two outbox relay loops, two
  // deadline sweeps, every CQRS handler registered twice ("already registered. Overriding").
  microservice.setIsInitHookCalled(true);
  // Hooks first (relay, timers, handlers registered), then consume, then answer HTTP.
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.httpPort, '0.0.0.0');
  const { port } = app.getHttpServer().address() as AddressInfo;
  new NestLogger('Service').log(`${config.serviceName} listening on http://127.0.0.1:${port}`);
  return app;
}
