import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ProblemFilter } from './problem.filter.js';

/** HTTP concerns of the order API: body limit, problem+json errors, OpenAPI at `/docs`. */
export function configureHttp(app: INestApplication): void {
  // An order is a few hundred bytes; refusing anything past 64 KiB before parsing it keeps a
  // client's mistake (or abuse) from costing memory and CPU.
  (app as NestExpressApplication).useBodyParser('json', { limit: '64kb' });
  app.useGlobalFilters(new ProblemFilter(app.get(HttpAdapterHost)));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('order-saga: order service')
      .setDescription('Place orders and follow their saga. Errors are application/problem+json (RFC 9457).')
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
}
