import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { ProblemException, problemType } from '@order-saga/http';
import type { ProjectionStatus } from '@order-saga/projections';
import { map, type Observable } from 'rxjs';
import { z } from 'zod';
import { ProjectionsService } from '../infra/projections.service.js';
import { orderSummary } from '../order-summary/order-summary.projection.js';

/** How stale an answer may be: every read answer carries it in its body and in a header. */
export const Freshness = z
  .object({
    asOf: z.iso.datetime().meta({ description: 'the answer includes every message published before this time' }),
    lagMessages: z.int().meta({ description: 'messages published and not yet in the read model' }),
    lagSeconds: z.number().meta({
      description: 'how far behind in time; 0 when caught up, -1 when unknown (a lagging partition has no applied message yet)',
    }),
    generation: z.int().meta({ description: 'generation of the projection that answered (changes after a rebuild)' }),
  })
  .meta({ description: 'freshness of the read model, also sent as the Read-Model-Freshness header' });
export type Freshness = z.infer<typeof Freshness>;

/** The header carrying {@link Freshness}: `as-of=<ISO>; lag-messages=<n>; lag-seconds=<s>; generation=<g>`. */
export const FRESHNESS_HEADER = 'Read-Model-Freshness';

export function freshnessOf(status: ProjectionStatus): Freshness {
  const position = status.position;
  if (status.state !== 'live' || !position || status.generation === null) {
    const done = position ? `${Math.floor(position.progress * 100)}%, ${position.lagMessages} messages to go` : 'starting';
    throw new ProblemException(
      {
        type: problemType('read-model-not-ready'),
        title: 'Read model not ready',
        status: 503,
        detail: `The ${status.name} projection is back-filling from history (${done}); it answers once it has caught up.`,
      },
      { 'Retry-After': '5' },
    );
  }
  return {
    asOf: position.asOf.toISOString(),
    lagMessages: position.lagMessages,
    lagSeconds: Number.isFinite(position.lagSeconds) ? Math.round(position.lagSeconds * 1000) / 1000 : -1,
    generation: status.generation,
  };
}

/**
 * Adds the order summary's freshness to every answer of a read controller (body field `freshness`
 * and the {@link FRESHNESS_HEADER} header), and answers 503 while the projection has no live
 * generation yet.
 */
@Injectable()
export class FreshnessInterceptor implements NestInterceptor {
  constructor(private readonly projections: ProjectionsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    // Measured before the query runs: the answer is at least this fresh.
    const freshness = freshnessOf(this.projections.status(orderSummary.name));
    const response = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    response.setHeader(
      FRESHNESS_HEADER,
      `as-of=${freshness.asOf}; lag-messages=${freshness.lagMessages}; lag-seconds=${freshness.lagSeconds}; generation=${freshness.generation}`,
    );
    return next.handle().pipe(map((body: unknown) => ({ ...(body as object), freshness })));
  }
}
