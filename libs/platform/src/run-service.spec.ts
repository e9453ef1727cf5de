import 'reflect-metadata';
import { Writable } from 'node:stream';
import {
  Injectable,
  Module,
  type INestApplication,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { CommandHandler, CqrsModule, type ICommandHandler } from '@nestjs/cqrs';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { KafkaInboxTransport } from '@order-saga/consumer';
import { LoggingModule } from '@order-saga/telemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { runService } from './run-service.js';
import { CONFIG } from './tokens.js';

const hooks: string[] = [];
const lines: { level: number; msg: string; context?: string }[] = [];

/** Stands in for the Kafka transport: listens at once, consumes nothing. */
class NoTransport extends Server implements CustomTransportStrategy {
  listen(callback: () => void): void {
    hooks.push('transport listening');
    callback();
  }
  close(): void {}
  on(): never {
    throw new Error('not supported');
  }
  unwrap<T>(): T {
    throw new Error('not supported');
  }
}

@Injectable()
class Lifecycle implements OnModuleInit, OnApplicationBootstrap {
  onModuleInit(): void {
    hooks.push('init');
  }
  onApplicationBootstrap(): void {
    hooks.push('bootstrap');
  }
}

class Ping {}

@CommandHandler(Ping)
class PingHandler implements ICommandHandler<Ping> {
  async execute(): Promise<void> {}
}

const destination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});

@Module({
  imports: [LoggingModule.forRoot({ service: 'test', level: 'debug', destination }), CqrsModule.forRoot()],
  providers: [
    { provide: CONFIG, useValue: { serviceName: 'test', httpPort: 0 } },
    { provide: KafkaInboxTransport, useClass: NoTransport },
    Lifecycle,
    PingHandler,
  ],
})
class TestServiceModule {}

describe('runService', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    hooks.length = 0;
    lines.length = 0;
  });

  it('runs every start-up hook once, before the transport consumes', async () => {
    app = await runService(TestServiceModule);
    expect(hooks).toEqual(['init', 'bootstrap', 'transport listening']);
  });

  it('registers each command handler once: no "already registered" warning', async () => {
    app = await runService(TestServiceModule);
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
  });

  it("logs Nest's module and route lines below info, and one line saying where the service listens", async () => {
    app = await runService(TestServiceModule);
    const info = lines.filter((line) => line.level >= 30);
    expect(info.map((line) => line.msg)).toEqual([
      expect.stringMatching(/^test listening on http:\/\/127\.0\.0\.1:\d+$/),
    ]);
    expect(lines.filter((line) => line.context === 'InstanceLoader').every((line) => line.level === 20)).toBe(
      true,
    );
    expect(lines.some((line) => line.context === 'InstanceLoader')).toBe(true);
  });
});
