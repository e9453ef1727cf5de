// What other benchmark packages reuse of this one (`@order-saga/e2e/harness`): the load shapes, the
// CPU accounting and the statistics, so every benchmark measures the same way.
export { anOrder, SagaSystem, services, type PlaceOrderBody, type Service } from '../saga/system.js';
export { expectedStatus, OrderMix, orderCycle, unexpectedOutcomes, type OrderKind } from './order-mix.js';
export {
  coresUsed,
  cpuSnapshot,
  findProcesses,
  machineCpu,
  postgresProcess,
  rssMb,
  type Classifier,
  type CpuSnapshot,
} from './process-cpu.js';
export {
  closedLoop,
  completionRate,
  epochMs,
  openLoop,
  TerminalWatch,
  type LoadRun,
  type OrderPlacer,
  type Outcome,
} from './saga-load.js';
export {
  formatMarkdownTable,
  formatTable,
  machineInfo,
  summarize,
  type LatencySummary,
  type Row,
} from './stats.js';
export { removeTopics } from './topics.js';
