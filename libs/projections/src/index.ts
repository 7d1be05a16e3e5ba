export type { Projection } from './projection';
export { Projector, ProjectorFailed, readCheckpoints, CHECKPOINT_TABLE_DDL, traceApplied } from './projector';
export type {
  AppliedEvent,
  CheckpointRow,
  ProjectionFailure,
  ProjectorHealth,
  ProjectorLogger,
  ProjectorOptions,
  ProjectorState,
  RebuildProgress,
  RebuildResult,
} from './projector';
export { CheckpointFollower } from './checkpoint-follower';
export type { CheckpointFollowerOptions, FollowerHealth } from './checkpoint-follower';
export type { ReadModelStore, SqlDialect, SqlRunner, SqlValue } from './store/read-model-store';
export { SqliteReadModelStore } from './store/sqlite-read-model-store';
export { PostgresReadModelStore } from './store/postgres-read-model-store';
export type { PostgresReadModelStoreOptions } from './store/postgres-read-model-store';
export * from './cases';
export * from './coordinator';
export * from './oversight';
export {
  describeDivergences,
  ReadModelVerificationError,
  verifyReadModels,
} from './verify/read-model-verification';
export type {
  ReadModelVerification,
  ReadModelVerificationOptions,
  TableDivergence,
} from './verify/read-model-verification';
