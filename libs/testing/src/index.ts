export {
  chooseInfraMode,
  testInfra,
  uniqueTopicPrefix,
  INFRA_MODE_VARIABLE,
  type InfraMode,
  type TestInfra,
} from './infra.js';
export { TcpProxy } from './tcp-proxy.js';
export { TestProcess, waitFor } from './process.js';
export { freePort } from './ports.js';
export { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
export { parsePrometheusText, type MetricFamily, type Sample } from './prometheus-text.js';
export { LocalKafkaCluster, type LocalKafkaClusterOptions } from './kafka-cluster.js';
