import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { serveMetrics } from '@order-saga/telemetry';

/**
 * `GET /metrics` on the service's own HTTP port, in the Prometheus text format: every service's
 * figures are where its API is, with no second port to open or forget.
 */
@Controller('metrics')
export class MetricsController {
  @Get()
  metrics(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    serveMetrics(request, response);
  }
}
