import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, Problem } from './problem.js';

const problemSchema = z.toJSONSchema(Problem, { target: 'openapi-3.0' });

/** Documents error answers as `application/problem+json` with the {@link Problem} schema. */
export function ApiProblemResponses(responses: Record<number, string>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(responses).map(([status, description]) =>
      ApiResponse({
        status: Number(status),
        description,
        content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema as object } },
      }),
    ),
  );
}
