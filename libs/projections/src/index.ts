export { applyBatch, type AppliedBatch, type BatchRecord } from './apply.js';
export {
  RebuildInProgressError,
  acquireRebuildLock,
  checkpoints,
  createGeneration,
  createGenerationTable,
  dropOldGenerations,
  generations,
  liveGeneration,
  setCheckpoints,
  switchLive,
  type Checkpoint,
  type Generation,
  type GenerationState,
} from './catalogue.js';
export {
  RetentionGapError,
  generationPosition,
  retentionGaps,
  topicRetentionMs,
  type GenerationPosition,
  type PartitionPosition,
  type RetentionGap,
} from './position.js';
export {
  generationTable,
  projection,
  sqlName,
  topicKeysOf,
  type AnyProjection,
  type ColumnSpec,
  type ColumnType,
  type IndexSpec,
  type ProjectedMessage,
  type Projection,
} from './projection.js';
export { rebuild, type RebuildOptions, type RebuildResult } from './rebuild.js';
export { ProjectionRunner, projectionGroupId, type ProjectionRunnerOptions, type RunnerEvents } from './runner.js';
export { LiveProjection, type LiveProjectionOptions, type ProjectionLog, type ProjectionStatus } from './live.js';
export { exportSlice, importSlice, type ExportOptions, type ImportOptions, type SliceMeta, type SliceRecord } from './slice.js';
