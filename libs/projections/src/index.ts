export type { SqliteProjection } from './projection';
export { ProjectorFailed, SqliteProjector } from './sqlite-projector';
export type {
  ProjectionFailure,
  ProjectorHealth,
  ProjectorLogger,
  ProjectorState,
  RebuildProgress,
  RebuildResult,
  SqliteProjectorOptions,
} from './sqlite-projector';
export * from './cases';
export * from './coordinator';
export * from './oversight';
