import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { PROBLEM_CONTENT_TYPE, problemFor } from './problem.js';

/**
 * Answers every HTTP error as `application/problem+json` (RFC 9457), unknown routes and body-parser
 * refusals included. Registered on the HTTP application only: the message handlers have their own
 * filter, which must rethrow so the inbox transport can retry or dead-letter.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const http = host.switchToHttp();
    const request = http.getRequest<unknown>();
    const response = http.getResponse<unknown>();
    // The query string is the client's own input and may be long; the path identifies the request.
    const instance = new URL(httpAdapter.getRequestUrl(request) ?? '/', 'http://localhost').pathname;
    const { problem, headers } = problemFor(exception, instance);
    if (problem.status >= 500) {
      this.logger.error(
        { msg: 'request failed', instance, err: exception },
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    for (const [name, value] of Object.entries(headers)) httpAdapter.setHeader(response, name, value);
    httpAdapter.setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
    httpAdapter.reply(response, problem, problem.status);
  }
}
