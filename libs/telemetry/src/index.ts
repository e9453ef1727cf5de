export { currentMessageContext, runWithMessageContext, type MessageContext } from './correlation.js';
export {
  CORRELATION_HEADER,
  LoggingModule,
  correlationFields,
  createLogger,
  quietNestStartUp,
  type LogFormat,
  type LoggerOptions,
} from './logger.js';
export { meter, serveMetrics } from './metrics.js';
export {
  shutdownTelemetry,
  startTelemetry,
  traceExporterFromEnv,
  type SpanExporter,
  type SpanProcessor,
  type TelemetryOptions,
} from './sdk.js';
export {
  contextFromTraceparent,
  currentTraceContext,
  withConsumerSpan,
  withSpan,
  type TraceCarrier,
} from './trace-context.js';
