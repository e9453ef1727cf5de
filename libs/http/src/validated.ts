import { StandardSchemaValidationPipe, type ParameterDecoratorOptions } from '@nestjs/common';
import { fieldErrors, invalidRequest } from './problem.js';

const pipe = new StandardSchemaValidationPipe({
  exceptionFactory: (issues) => invalidRequest(fieldErrors(issues)),
});

/**
 * Options for `@Body()` (or `@Query()`, `@Param()`): validate with `schema`, refuse with a 400
 * problem listing each field, and let OpenAPI describe the parameter from the same schema.
 */
export function validated(
  schema: NonNullable<ParameterDecoratorOptions['schema']>,
): ParameterDecoratorOptions {
  return { schema, pipes: [pipe] };
}
