export * from './event-store';
export * from './errors';
export { AppendSignal, CatchUpSubscription } from './catch-up-subscription';
export type { ReadBatch, CatchUpOptions } from './catch-up-subscription';
export { ProgressWaiters } from './progress-waiters';
export { FoldedStreamCache } from './folded-stream-cache';
export type { FoldedStreamCacheOptions } from './folded-stream-cache';
export {
  MAX_EVENT_BYTES,
  MAX_EVENT_TYPE_LENGTH,
  MAX_EVENTS_PER_APPEND,
  MAX_STREAM_NAME_LENGTH,
} from './validation';
export { SqliteEventStore } from './sqlite/sqlite-event-store';
export type { SqliteEventStoreOptions, SqliteSynchronous } from './sqlite/sqlite-event-store';
export { LATEST_SCHEMA_VERSION } from './sqlite/migrations';
export { PostgresEventStore } from './postgres/postgres-event-store';
export type { PostgresEventStoreOptions } from './postgres/postgres-event-store';
export { LATEST_POSTGRES_SCHEMA_VERSION } from './postgres/migrations';
export { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
export type {
  EventStoreDbClient,
  EventStoreDbEventStoreOptions,
  ForeignRecord,
} from './eventstoredb/eventstoredb-event-store';
export {
  CONNECTION_STRING_SCHEMES,
  connectionStringProblem,
  redactConnectionString,
} from './eventstoredb/eventstoredb-mapping';
export type { ReconnectOptions } from './eventstoredb/eventstoredb-mapping';
