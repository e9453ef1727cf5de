import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { serveMetrics } from '@order-saga/telemetry';

/** `GET /metrics` on the read side's HTTP port, as on every service. */
@Controller('metrics')
export class MetricsController {
  @Get()
  metrics(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    serveMetrics(request, response);
  }
}
