import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore, type EventStore } from '@nrm/event-store';
import { eventStoreFile, openEventStore, type LedgerConfig } from '@nrm/runtime';

/**
 * What the API's worker threads (the projector's, the audit log's) share: where a thread's entry
 * is, how it opens the event store for reading, and how its log records reach the API's logger.
 */

/** The logger calls a thread's records are replayed through; Nest's Logger fits. */
export interface ThreadLogger {
  log(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A log record a thread posts for the API's logger. */
export interface ThreadLogRecord {
  readonly op: 'log';
  readonly level: 'info' | 'warn' | 'error';
  readonly obj: object;
  readonly msg: string;
}

/** Writes a thread's log record through the API's logger, at its level. */
export function replayLog(logger: ThreadLogger, record: ThreadLogRecord): void {
  if (record.level === 'error') logger.error(record.obj, record.msg);
  else if (record.level === 'warn') logger.warn(record.obj, record.msg);
  else logger.log(record.obj, record.msg);
}

/**
 * Where a thread's entry is: `<name>.js` compiled beside `dir`, or the TypeScript source loaded
 * through tsx (tests, tsx scripts).
 */
export function threadEntry(dir: string, name: string): { file: string; execArgv?: string[] } {
  const compiled = join(dir, `${name}.js`);
  if (existsSync(compiled)) return { file: compiled };
  return { file: join(dir, `${name}.ts`), execArgv: ['--require', require.resolve('tsx/cjs')] };
}

/**
 * The event store as a thread reads it: the API's writer appends, so on SQLite no writer thread of
 * its own, and new events looked for every `pollIntervalMs` (each look hands over every event
 * appended since, applied in one transaction).
 */
export function openThreadEventStore(
  config: LedgerConfig,
  pollIntervalMs: number,
  warn: (message: string) => void,
): EventStore {
  return config.EVENT_STORE === 'sqlite'
    ? new SqliteEventStore({
        filename: eventStoreFile(config),
        synchronous: config.SQLITE_SYNCHRONOUS,
        writerThread: false,
        pollIntervalMs,
      })
    : openEventStore(config, { warn });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
