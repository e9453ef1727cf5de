import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ProblemFilter } from './problem.filter.js';

/** What {@link configureHttp} puts in the OpenAPI document. */
export interface HttpApiOptions {
  title: string;
  description: string;
  /** Largest JSON body accepted; anything larger is refused before it is parsed. */
  bodyLimit?: string;
}

/** HTTP concerns every API shares: body limit, problem+json errors, OpenAPI at `/docs`. */
export function configureHttp(app: INestApplication, options: HttpApiOptions): void {
  (app as NestExpressApplication).useBodyParser('json', { limit: options.bodyLimit ?? '64kb' });
  app.useGlobalFilters(new ProblemFilter(app.get(HttpAdapterHost)));
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title)
      .setDescription(`${options.description} Errors are application/problem+json (RFC 9457).`)
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document);
}
