import {
  EventStoreDbEventStore,
  PostgresEventStore,
  SqliteEventStore,
  type EventStore,
} from '@nrm/event-store';
import { join, resolve } from 'node:path';
import type { LedgerConfig } from './config';

/** Where a process says that it passed over a record another program wrote (the caller's logger). */
export interface ForeignRecordLog {
  warn(message: string): void;
}

export function eventStoreFile(config: LedgerConfig): string {
  return join(resolve(config.DATA_DIR), 'events.sqlite');
}

/** The configured event-store adapter, for the API, the projector process and the console. */
export function openEventStore(config: LedgerConfig, foreignLog: ForeignRecordLog): EventStore {
  if (config.EVENT_STORE === 'eventstoredb')
    // loadConfig has checked the connection string; the store connects on first use.
    return new EventStoreDbEventStore({
      connectionString: config.EVENTSTOREDB_URL ?? '',
      // Records other programs wrote into the database are passed over, never stop a reader.
      onForeignRecord: ({ position, type }) =>
        foreignLog.warn(
          `passed over a record another program wrote (position ${position}, type length ${type.length}); see nrm_event_store_foreign_records_skipped`,
        ),
    });
  if (config.EVENT_STORE === 'postgres')
    // loadConfig has checked the URL; the store migrates its schema on first use.
    return new PostgresEventStore({
      connectionString: config.EVENT_STORE_URL ?? '',
      schema: config.EVENT_STORE_SCHEMA,
    });
  return new SqliteEventStore({
    filename: eventStoreFile(config),
    synchronous: config.SQLITE_SYNCHRONOUS,
    // With NORMAL the store commits on its own connection whatever this says (no fsync per commit).
    ...(config.SQLITE_WRITER_THREAD === 'off' ? { writerThread: false } : {}),
  });
}
