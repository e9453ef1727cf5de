import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { z } from 'zod';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Why one field (a dotted body path such as `items[0].quantity`, or a header name) was refused. */
export const FieldError = z.object({ field: z.string(), reason: z.string() });
export type FieldError = z.infer<typeof FieldError>;

/** RFC 9457 problem details, with `errors` listing field-level reasons when there are any. */
export const Problem = z.object({
  type: z.string().meta({ description: 'URI of the problem type; about:blank for a plain HTTP status' }),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  instance: z.string().meta({ description: 'path of the request that failed' }),
  errors: z.array(FieldError).optional(),
});
export type Problem = z.infer<typeof Problem>;

// Tag URIs (RFC 4151) name our problem types without promising a page at that address.
export const problemType = (slug: string) => `tag:order-saga,2026:problems/${slug}`;

/** The body field name used when the problem is the body as a whole (too large, not JSON). */
export const WHOLE_BODY = '(body)';

/** An HTTP error answered as a problem document, with optional extra response headers. */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: Omit<Problem, 'instance'>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(problem.detail, problem.status);
  }
}

/** 400 with one entry per refused field. */
export function invalidRequest(errors: FieldError[]): ProblemException {
  const fields = [...new Set(errors.map((e) => e.field))];
  return new ProblemException({
    type: problemType('invalid-request'),
    title: 'Invalid request',
    status: 400,
    detail: `The request was refused; check ${fields.join(', ')}.`,
    errors,
  });
}

/**
 * The subset of a Standard Schema issue we read. zod's issues also carry `code`, and
 * `unrecognized_keys` names all the unknown keys of one object in a single issue.
 */
export interface SchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
  readonly code?: string;
  readonly keys?: readonly string[];
}

/** One {@link FieldError} per issue, and one per unknown key, so a client can point at each field. */
export function fieldErrors(issues: readonly SchemaIssue[]): FieldError[] {
  return issues.flatMap((issue) => {
    const path = (issue.path ?? []).map((segment) => (typeof segment === 'object' ? segment.key : segment));
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      return issue.keys.map((key) => ({ field: fieldName([...path, key]), reason: 'unknown field' }));
    }
    return [{ field: fieldName(path), reason: issue.message }];
  });
}

function fieldName(path: readonly PropertyKey[]): string {
  if (path.length === 0) return WHOLE_BODY;
  return path
    .map((segment, i) =>
      typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`,
    )
    .join('');
}

/** What body-parser throws (an http-errors error); `expose` marks its message safe for clients. */
interface BodyParserError {
  status: number;
  expose: boolean;
  message: string;
  type: string;
  limit?: number;
  length?: number;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  const e = error as Partial<BodyParserError> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.status === 'number' &&
    e.expose === true &&
    typeof e.type === 'string' &&
    e.type.startsWith('entity.')
  );
}

/**
 * The problem document and headers answering `exception` for the request at `instance`.
 * Only errors meant for clients show their message; anything else is a 500 that reveals nothing.
 */
export function problemFor(
  exception: unknown,
  instance: string,
): { problem: Problem; headers: Record<string, string> } {
  if (exception instanceof ProblemException) {
    return { problem: { ...exception.problem, instance }, headers: { ...exception.headers } };
  }
  // A refusal raised outside this lib (e.g. libs/platform's AdminAccessRefused) carries its own
  // problem document; a 401 names the scheme the client must use.
  if (carriesProblem(exception)) {
    const headers: Record<string, string> =
      exception.problem.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
    return { problem: { ...exception.problem, instance }, headers };
  }
  // Nest's Express adapter wraps body-parser's refusals in an HttpException; the cause says why.
  const bodyError = [exception, (exception as { cause?: unknown } | null)?.cause].find(isBodyParserError);
  if (bodyError && bodyError.status >= 400 && bodyError.status < 500) {
    return { problem: bodyProblem(bodyError, instance), headers: {} };
  }
  if (exception instanceof HttpException) {
    return { problem: plain(exception.getStatus(), exception.message, instance), headers: {} };
  }
  return { problem: plain(500, 'An unexpected error occurred; it has been logged.', instance), headers: {} };
}

function plain(status: number, detail: string, instance: string): Problem {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, instance };
}

// body-parser refuses the body before any route runs: the whole body is the field at fault.
function bodyProblem(error: BodyParserError, instance: string): Problem {
  const reason =
    error.type === 'entity.too.large' && error.limit !== undefined
      ? `the body is ${error.length ?? 'over'} bytes; at most ${error.limit} are accepted`
      : error.type === 'entity.parse.failed'
        ? `not valid JSON: ${error.message}`
        : error.message;
  return { ...plain(error.status, reason, instance), errors: [{ field: WHOLE_BODY, reason }] };
}

function carriesProblem(exception: unknown): exception is { problem: Problem } {
  const problem = (exception as { problem?: Partial<Problem> } | null)?.problem;
  return (
    exception instanceof Error &&
    typeof problem?.type === 'string' &&
    typeof problem.status === 'number' &&
    problem.status >= 400 &&
    problem.status < 500
  );
}
