import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppendSignal, CatchUpSubscription } from '../catch-up-subscription';
import { DuplicateEventId, EventStoreClosed, WrongExpectedRevision } from '../errors';
import type {
  AppendOptions,
  AppendResult,
  EventFilter,
  EventMetadata,
  EventStore,
  EventStoreHealth,
  ExpectedRevision,
  JsonObject,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store';
import {
  checkAppend,
  checkReadAll,
  checkReadStream,
  checkSubscribe,
  serialise,
  type Serialised,
} from '../validation';
import { migrate } from './migrations';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export interface SqliteEventStoreOptions {
  /** Database file; `':memory:'` for a throw-away store. Its directory is created. */
  readonly filename: string;
  /** FULL (default) survives power loss; NORMAL may lose the last commits on power loss. */
  readonly synchronous?: SqliteSynchronous;
  /** Longest delay before a subscription sees a commit made by another process. */
  readonly pollIntervalMs?: number;
  /** Events read per query by readStream, readAll and subscriptions. */
  readonly batchSize?: number;
  /** How long a writer waits for another process's write lock. */
  readonly busyTimeoutMs?: number;
  readonly clock?: () => Date;
}

interface EventRow {
  position: number;
  event_id: string;
  stream: string;
  revision: number;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  recorded_at: string;
}

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly bodies: readonly Serialised[];
  readonly expected: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome = { readonly ok: AppendResult } | { readonly error: unknown };

const COLUMNS = 'position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at';
const MAX_REVISION = Number.MAX_SAFE_INTEGER;

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    stream: row.stream,
    revision: row.revision,
    position: row.position,
    type: row.type,
    schemaVersion: row.schema_version,
    data: JSON.parse(row.data) as JsonObject,
    metadata: JSON.parse(row.metadata) as EventMetadata,
    recordedAt: row.recorded_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/** Builds the WHERE fragment of a filter; parameters are appended to `params`. */
function filterSql(filter: EventFilter | undefined, params: unknown[]): string {
  if (!filter) return '';
  let sql = '';
  if (filter.eventTypes) {
    if (filter.eventTypes.length === 0) return ' AND 0';
    sql += ` AND type IN (${filter.eventTypes.map(() => '?').join(', ')})`;
    params.push(...filter.eventTypes);
  }
  if (filter.streamPrefixes) {
    if (filter.streamPrefixes.length === 0) return ' AND 0';
    // substr counts characters (code points), as [...prefix].length does.
    sql += ` AND (${filter.streamPrefixes.map(() => 'substr(stream, 1, ?) = ?').join(' OR ')})`;
    for (const prefix of filter.streamPrefixes) params.push([...prefix].length, prefix);
  }
  return sql;
}

/**
 * The embedded default: one SQLite file in WAL mode. Appends are one immediate
 * transaction each, so writers in several processes sharing the file still
 * see exact revisions.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly signal = new AppendSignal();
  private readonly subscriptions = new Set<Subscription>();
  private readonly clock: () => Date;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private isClosed = false;

  private readonly statements: {
    lastRevision: Database.Statement<[string], { revision: number }>;
    insert: Database.Statement<[string, string, number, string, number, string, string, string]>;
    byId: Database.Statement<[string], EventRow>;
    head: Database.Statement<[], { head: number | null }>;
    handedOut: Database.Statement<[], { position: number }>;
    streamForwards: Database.Statement<[string, number, number], EventRow>;
    streamBackwards: Database.Statement<[string, number, number], EventRow>;
  };
  private readonly filteredAll = new Map<string, Database.Statement<unknown[], EventRow>>();
  private readonly commitGroup: (batch: readonly PendingAppend[]) => Outcome[];
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  /**
   * With FULL every commit costs an fsync: wait one turn of the event loop so that
   * the appends of every request handled in that turn share one. With NORMAL a
   * commit is cheap: batch only what is appended in the same tick.
   */
  private readonly scheduleFlush: (flush: () => void) => void;
  private readonly readBatchTx: (
    after: number,
    limit: number,
    filter: EventFilter | undefined,
  ) => { events: RecordedEvent[]; scannedTo: number };

  constructor(options: SqliteEventStoreOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 200;
    this.batchSize = options.batchSize ?? 512;
    this.scheduleFlush = options.synchronous === 'NORMAL' ? queueMicrotask : setImmediate;
    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true, mode: 0o700 });
    this.db = new Database(options.filename);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      migrate(this.db, this.clock);
    } catch (error) {
      this.db.close();
      throw error;
    }

    const db = this.db;
    this.statements = {
      lastRevision: db.prepare('SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1'),
      insert: db.prepare(
        // The next position is above every position ever handed out (migration 3), not only above
        // the rows left: a deleted tail is never handed out again.
        `INSERT INTO events (position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at)
         VALUES (max(coalesce((SELECT position FROM positions_handed_out WHERE id = 1), 0),
                     coalesce((SELECT max(position) FROM events), 0)) + 1,
                 ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      byId: db.prepare(`SELECT ${COLUMNS} FROM events WHERE event_id = ?`),
      head: db.prepare('SELECT max(position) AS head FROM events'),
      handedOut: db.prepare('SELECT position FROM positions_handed_out WHERE id = 1'),
      streamForwards: db.prepare(
        `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
      ),
      streamBackwards: db.prepare(
        `SELECT ${COLUMNS} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
      ),
    };

    // Group commit: the appends that arrive in one turn of the event loop share one
    // transaction and so one fsync; each runs in its own savepoint, so one append's
    // conflict rolls back only that append.
    const appendOne = db.transaction((p: PendingAppend) =>
      this.appendInTransaction(p.stream, p.events, p.bodies, p.expected),
    );
    const appendAll = db.transaction((batch: readonly PendingAppend[]) =>
      batch.map((p): Outcome => {
        try {
          return { ok: appendOne(p) };
        } catch (error) {
          return { error };
        }
      }),
    );
    // IMMEDIATE takes the write lock before reading revisions, so no other connection can slip in between.
    // A group of one (the common case without concurrency) needs no savepoint.
    this.commitGroup = (batch) => {
      if (batch.length !== 1) return appendAll.immediate(batch);
      try {
        return [{ ok: appendOne.immediate(batch[0]!) }];
      } catch (error) {
        if (error instanceof WrongExpectedRevision || isUniqueViolation(error)) return [{ error }];
        throw error;
      }
    };

    this.readBatchTx = db.transaction((after: number, limit: number, filter: EventFilter | undefined) => {
      const events = this.selectAll(after, limit, filter).map(toRecorded);
      // A full batch was cut by the limit; otherwise everything up to the head was examined.
      const scannedTo =
        events.length === limit
          ? (events[events.length - 1]?.position ?? after)
          : (this.statements.head.get()?.head ?? 0);
      return { events, scannedTo: Math.max(after, scannedTo) };
    });
  }

  async append(stream: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    const request = checkAppend(stream, events, options);
    // Serialise before taking the write lock: other writers wait only for the insert.
    const bodies = request.events.map((e, i) => serialise(e, `events[${i}]`));
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({
        stream: request.stream,
        events: request.events,
        bodies,
        expected: request.expectedRevision,
        resolve,
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        this.scheduleFlush(() => this.flush());
      }
    });
  }

  /** Commits every pending append in one transaction, then answers each. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (this.isClosed) {
      for (const p of batch) p.reject(new EventStoreClosed());
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = this.commitGroup(batch);
    } catch (error) {
      for (const p of batch) p.reject(error); // nothing of this group was stored
      return;
    }
    if (outcomes.some((o) => 'ok' in o)) this.signal.notify();
    outcomes.forEach((outcome, i) => {
      const p = batch[i]!;
      if ('ok' in outcome) return p.resolve(outcome.ok);
      if (!isUniqueViolation(outcome.error)) return p.reject(outcome.error);
      // Only an event id can collide ((stream, revision) was checked in the transaction),
      // and this append's savepoint rolled back whole. Stored events never change, so
      // this look-up after the commit is as good as one inside it.
      try {
        const retry = this.idempotentRetry(p.stream, p.events, p.expected);
        if (retry) p.resolve(retry);
        else p.reject(outcome.error);
      } catch (error) {
        p.reject(error);
      }
    });
  }

  private appendInTransaction(
    stream: string,
    events: readonly NewEvent[],
    bodies: readonly Serialised[],
    expected: ExpectedRevision,
  ): AppendResult {
    const actual = this.statements.lastRevision.get(stream)?.revision ?? -1;
    const matches =
      expected === 'no-stream'
        ? actual === -1
        : expected === 'stream-exists'
          ? actual >= 0
          : actual === expected;
    if (!matches) {
      const retry = this.idempotentRetry(stream, events, expected);
      if (retry) return retry;
      throw new WrongExpectedRevision(stream, expected, actual === -1 ? 'no-stream' : actual);
    }
    const recordedAt = this.clock().toISOString();
    let position = 0;
    events.forEach((event, i) => {
      const body = bodies[i]!;
      const info = this.statements.insert.run(
        event.id.toLowerCase(),
        stream,
        actual + 1 + i,
        event.type,
        event.schemaVersion,
        body.data,
        body.metadata,
        recordedAt,
      );
      position = Number(info.lastInsertRowid);
    });
    return { revision: actual + events.length, position };
  }

  /**
   * An append whose event ids are already stored: the same append retried
   * (every id in this stream, in order, where the expectation put them) gives
   * the first result; any other placement is a `DuplicateEventId`.
   */
  private idempotentRetry(
    stream: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): AppendResult | undefined {
    const rows = events.map((e) => this.statements.byId.get(e.id.toLowerCase()));
    const found = rows.findIndex((r) => r !== undefined);
    if (found === -1) return undefined;
    const first = rows[0];
    const start = first?.revision ?? -1;
    const sameAppend =
      first !== undefined &&
      rows.every((r, i) => r !== undefined && r.stream === stream && r.revision === start + i) &&
      (expected === 'no-stream' ? start === 0 : expected === 'stream-exists' ? true : start === expected + 1);
    if (!sameAppend) {
      const clash = rows[found]!;
      throw new DuplicateEventId(clash.event_id, clash.stream, clash.revision);
    }
    const last = rows[rows.length - 1]!;
    return { revision: last.revision, position: last.position };
  }

  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const q = checkReadStream(stream, options);
    const backwards = q.direction === 'backwards';
    let next =
      q.from === 'start'
        ? backwards
          ? -1
          : 0
        : q.from === 'end'
          ? backwards
            ? MAX_REVISION
            : MAX_REVISION
          : q.from;
    let remaining = q.maxCount ?? Infinity;
    const statement = backwards ? this.statements.streamBackwards : this.statements.streamForwards;
    const batchSize = this.batchSize;
    const assertOpen = (): void => this.assertOpen();
    return {
      async *[Symbol.asyncIterator]() {
        while (remaining > 0 && next >= 0) {
          assertOpen();
          const rows = statement.all(q.stream, next, Math.min(batchSize, remaining));
          for (const row of rows) yield toRecorded(row);
          remaining -= rows.length;
          if (rows.length < batchSize) return;
          next = rows[rows.length - 1]!.revision + (backwards ? -1 : 1);
        }
      },
    };
  }

  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const q = checkReadAll(options);
    let after = q.after;
    let remaining = q.maxCount ?? Infinity;
    const batchSize = this.batchSize;
    const read = (limit: number): RecordedEvent[] => {
      this.assertOpen();
      return this.selectAll(after, limit, q.filter).map(toRecorded);
    };
    return {
      async *[Symbol.asyncIterator]() {
        while (remaining > 0) {
          const limit = Math.min(batchSize, remaining);
          const events = read(limit);
          for (const event of events) yield event;
          remaining -= events.length;
          if (events.length < limit) return;
          after = events[events.length - 1]!.position;
        }
      },
    };
  }

  subscribe(options?: SubscribeOptions): Subscription {
    this.assertOpen();
    const q = checkSubscribe(options);
    const after =
      q.from === 'start' ? 0 : q.from === 'end' ? (this.statements.head.get()?.head ?? 0) : q.from;
    const subscription: Subscription = new CatchUpSubscription({
      after,
      readBatch: async (from, limit) => {
        if (this.isClosed) return { events: [], scannedTo: from };
        return this.readBatchTx(from, limit, q.filter);
      },
      signal: this.signal,
      batchSize: this.batchSize,
      pollIntervalMs: this.pollIntervalMs,
      onClose: () => this.subscriptions.delete(subscription),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.statements.head.get()?.head ?? 0;
  }

  /**
   * The highest position this store ever handed out (kept apart from the events, only ever
   * raised): above `headPosition()` when events at the end were deleted; undefined when the
   * mark itself was removed.
   */
  async positionsHandedOut(): Promise<number | undefined> {
    this.assertOpen();
    return this.statements.handedOut.get()?.position;
  }

  async health(): Promise<EventStoreHealth> {
    if (this.isClosed) return { ok: false, adapter: 'sqlite', detail: 'closed' };
    try {
      return { ok: true, adapter: 'sqlite', headPosition: this.statements.head.get()?.head ?? 0 };
    } catch (error) {
      return {
        ok: false,
        adapter: 'sqlite',
        detail: error instanceof Error ? error.message : 'unknown error',
      };
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.flush(); // appends already accepted are committed, not dropped
    this.isClosed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.db.close();
  }

  private selectAll(after: number, limit: number, filter: EventFilter | undefined): EventRow[] {
    const params: unknown[] = [after];
    const where = filterSql(filter, params);
    let statement = this.filteredAll.get(where);
    if (!statement) {
      statement = this.db.prepare<unknown[], EventRow>(
        `SELECT ${COLUMNS} FROM events WHERE position > ?${where} ORDER BY position ASC LIMIT ?`,
      );
      this.filteredAll.set(where, statement);
    }
    params.push(limit);
    return statement.all(...params);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new EventStoreClosed();
  }
}
