export { ApiProblemResponses } from './api-problem.decorator.js';
export { configureHttp, type HttpApiOptions } from './configure-http.js';
export {
  FieldError,
  PROBLEM_CONTENT_TYPE,
  Problem,
  ProblemException,
  WHOLE_BODY,
  fieldErrors,
  invalidRequest,
  problemFor,
  problemType,
  type SchemaIssue,
} from './problem.js';
export { ProblemFilter } from './problem.filter.js';
export { validated } from './validated.js';
