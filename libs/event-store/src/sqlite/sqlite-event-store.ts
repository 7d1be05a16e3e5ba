import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppendSignal, CatchUpSubscription } from '../catch-up-subscription';
import { EventStoreClosed, EventStoreOutcomeUnknown, EventStoreUnavailable } from '../errors';
import type {
  AppendOptions,
  AppendResult,
  EventFilter,
  EventMetadata,
  EventStore,
  EventStoreHealth,
  JsonObject,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  Subscription,
} from '../event-store';
import { checkAppend, checkReadAll, checkReadStream, checkSubscribe, serialise } from '../validation';
import { migrate } from './migrations';
import {
  decodeAnswer,
  decodeError,
  encodeGroup,
  SqliteWriter,
  type EncodedAnswer,
  type EncodedError,
  type WriteOutcome,
  type WriteRequest,
} from './sqlite-writer';
import type { WriterThreadData } from './sqlite-writer-thread';

type ThreadMessage =
  | { readonly ready: true; readonly synchronous: number }
  | { readonly openFailure: EncodedError }
  | { readonly answer: EncodedAnswer }
  | { readonly failure: EncodedError };

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
  /**
   * Commit appends on a writer thread that owns the write connection, so that the caller's event
   * loop never waits for an fsync. Default: on for a file with FULL (where every commit syncs);
   * off for NORMAL (a commit does not sync; the thread's round trip would cost more than it saves)
   * and for `':memory:'` (a second connection cannot see that database).
   */
  readonly writerThread?: boolean;
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
  readonly request: Omit<WriteRequest, 'recordedAt'>;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

interface ThreadEntry {
  readonly file: string;
  readonly execArgv?: string[];
}

/** Where the writer thread's entry is: compiled beside this file, or the TypeScript source under tsx. */
function writerThreadEntry(): ThreadEntry | undefined {
  const compiled = join(__dirname, 'sqlite-writer-thread.js');
  if (existsSync(compiled)) return { file: compiled };
  const source = join(__dirname, 'sqlite-writer-thread.ts');
  if (!existsSync(source)) return undefined;
  try {
    // Running from source (tests, tsx scripts): the thread loads the TypeScript through tsx.
    return { file: source, execArgv: ['--require', require.resolve('tsx/cjs')] };
  } catch {
    return undefined; // no tsx: write on the store's own connection
  }
}

/** Rows `lastPositionOf` reads one by one since its previous call; more, and it searches by type. */
const LAST_OF_SCAN = 256;

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
 * transaction per group, so writers in several processes sharing the file still
 * see exact revisions.
 *
 * With `synchronous=FULL` on a file (the default), the write connection lives on a writer
 * thread: the appends gathered while one group commits are sent as the next group, committed in
 * one transaction (one fsync) there, and each is answered only once that commit has returned.
 * The caller's event loop goes on serving requests while the disk syncs. Reads, subscriptions
 * and health use the store's own connection, which sees every answered append (WAL readers see
 * every commit made before their read began).
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
    byId: Database.Statement<[string], EventRow>;
    head: Database.Statement<[], { head: number | null }>;
    handedOut: Database.Statement<[], { position: number }>;
    streamForwards: Database.Statement<[string, number, number], EventRow>;
    streamBackwards: Database.Statement<[string, number, number], EventRow>;
  };
  private readonly filteredAll = new Map<string, Database.Statement<unknown[], EventRow>>();
  /** `lastPositionOf`: per set of types, the answer and the head it was taken at. */
  private readonly lastOf = new Map<string, { types: ReadonlySet<string>; head: number; position: number }>();
  private readonly lastOfStatements: {
    since: Database.Statement<[number, number], { position: number; type: string }>;
    byType: Map<string, Database.Statement<string[], { position: number | null }>>;
  };
  /** The write side on this connection, when there is no writer thread. */
  private readonly inline: SqliteWriter | undefined;
  /** How to start the writer thread, when the store commits on one. */
  private readonly threadSpec: { entry: ThreadEntry; data: WriterThreadData } | undefined;
  /** The writer thread, started by the first append (a store that only reads never starts it). */
  private thread: Worker | undefined;
  /** The group the writer thread is committing, answered in order when it reports. */
  private inFlight: PendingAppend[] | undefined;
  /** Why the writer thread can no longer write; every append is refused from then on. */
  private threadFailure: Error | undefined;
  private threadExited: Promise<void> | undefined;
  private readonly drained = new Set<() => void>();
  private writerSynchronous: number | undefined;
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
    const synchronous = options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
    this.scheduleFlush = synchronous === 'NORMAL' ? queueMicrotask : setImmediate;
    const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
    if (options.filename !== ':memory:')
      mkdirSync(dirname(options.filename), { recursive: true, mode: 0o700 });
    this.db = new Database(options.filename);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous}`);
      this.db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      migrate(this.db, this.clock);
    } catch (error) {
      this.db.close();
      throw error;
    }

    const db = this.db;
    this.statements = {
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

    const wantsThread = options.writerThread ?? (options.filename !== ':memory:' && synchronous === 'FULL');
    const entry = wantsThread && options.filename !== ':memory:' ? writerThreadEntry() : undefined;
    if (entry) {
      this.threadSpec = {
        entry,
        data: { filename: options.filename, synchronous, busyTimeoutMs },
      };
    } else {
      this.inline = new SqliteWriter(db);
    }

    this.lastOfStatements = {
      // New rows since the last look, oldest first; positions commit in order under SQLite's one write lock.
      since: db.prepare('SELECT position, type FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      byType: new Map(),
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
    if (this.threadFailure) throw new EventStoreUnavailable(this.threadFailure.message);
    const request = checkAppend(stream, events, options);
    // Serialise before taking the write lock: other writers wait only for the insert.
    const bodies = request.events.map((e, i) => serialise(e, `events[${i}]`));
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({
        request: {
          stream: request.stream,
          events: request.events.map((e) => ({ id: e.id, type: e.type, schemaVersion: e.schemaVersion })),
          bodies,
          expected: request.expectedRevision,
        },
        resolve,
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        this.scheduleFlush(() => this.flush());
      }
    });
  }

  /** The pending appends as one group, each stamped with the store's clock. */
  private takeGroup(): { batch: PendingAppend[]; requests: WriteRequest[] } {
    const batch = this.pending;
    this.pending = [];
    const requests = batch.map((p) => ({ ...p.request, recordedAt: this.clock().toISOString() }));
    return { batch, requests };
  }

  /** Commits every pending append in one transaction (here or on the writer thread), then answers each. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    if (this.threadSpec) {
      if (this.inFlight) return; // sent as the next group when this one is answered
      this.send();
      return;
    }
    if (this.isClosed) {
      const batch = this.pending;
      this.pending = [];
      for (const p of batch) p.reject(new EventStoreClosed());
      return;
    }
    const { batch, requests } = this.takeGroup();
    let outcomes: WriteOutcome[];
    try {
      outcomes = this.inline!.commit(requests);
    } catch (error) {
      for (const p of batch) p.reject(error); // nothing of this group was stored
      return;
    }
    this.answer(batch, outcomes);
  }

  private answer(batch: readonly PendingAppend[], outcomes: readonly WriteOutcome[]): void {
    if (outcomes.some((o) => 'ok' in o)) this.signal.notify();
    outcomes.forEach((outcome, i) => {
      const p = batch[i]!;
      if ('ok' in outcome) p.resolve(outcome.ok);
      else p.reject(outcome.error);
    });
  }

  /** Hands the pending appends to the writer thread as one group. */
  private send(): void {
    const thread = this.thread ?? this.startThread();
    const { batch, requests } = this.takeGroup();
    this.inFlight = batch;
    thread.ref(); // the process waits for the answer
    thread.postMessage({ group: encodeGroup(requests) });
  }

  private startThread(): Worker {
    const { entry, data } = this.threadSpec!;
    const thread = new Worker(entry.file, {
      workerData: data,
      ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
    });
    this.thread = thread;
    this.threadExited = new Promise((resolve) => thread.once('exit', () => resolve()));
    thread.on('message', (message: ThreadMessage) => this.onThreadMessage(message));
    thread.on('error', (error) => this.onThreadStopped(error));
    thread.on('exit', (code) => this.onThreadStopped(new Error(`the writer thread exited (code ${code})`)));
    thread.unref(); // an idle store keeps no process alive; a group in flight does (see send)
    return thread;
  }

  private onThreadMessage(message: ThreadMessage): void {
    if ('ready' in message) {
      this.writerSynchronous = message.synchronous;
      return;
    }
    if ('openFailure' in message) {
      this.onThreadStopped(decodeError(message.openFailure));
      return;
    }
    const batch = this.inFlight;
    if (!batch) return; // answered already as of unknown outcome (the thread was reported stopped)
    this.inFlight = undefined;
    if ('failure' in message) {
      const error = decodeError(message.failure);
      for (const p of batch) p.reject(error); // nothing of this group was stored
    } else {
      this.answer(batch, decodeAnswer(message.answer));
    }
    if (this.pending.length > 0 && !this.threadFailure) this.send();
    else this.settleIdle();
  }

  private settleIdle(): void {
    if (this.inFlight || this.pending.length > 0) return;
    this.thread?.unref();
    for (const done of [...this.drained]) done();
    this.drained.clear();
  }

  /** The writer thread is gone: what it was committing has an unknown outcome; nothing more is written. */
  private onThreadStopped(error: Error): void {
    if (this.threadFailure) return;
    if (this.isClosed && !this.inFlight && this.pending.length === 0) {
      this.threadFailure = error;
      return; // the thread ended because the store closed
    }
    this.threadFailure = error;
    const reason = `the writer thread stopped: ${error.message}`;
    const inFlight = this.inFlight ?? [];
    this.inFlight = undefined;
    for (const p of inFlight) p.reject(new EventStoreOutcomeUnknown(p.request.stream, reason));
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reject(new EventStoreUnavailable(reason));
    this.settleIdle();
  }

  /**
   * The synchronous level of the connection that commits appends (2 FULL, 1 NORMAL): the writer
   * thread's once it has opened, otherwise this store's own.
   */
  async writeConnectionSynchronous(): Promise<number> {
    if (!this.threadSpec) return this.db.pragma('synchronous', { simple: true }) as number;
    if (!this.thread) this.startThread();
    while (this.writerSynchronous === undefined && !this.threadFailure)
      await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.writerSynchronous === undefined) throw this.threadFailure!;
    return this.writerSynchronous;
  }

  /** True when appends are committed on a writer thread. */
  get hasWriterThread(): boolean {
    return this.threadSpec !== undefined;
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
   * Position of the last event of these types. Kept per set of types with the head it was taken
   * at, so that a call costs one look at the rows stored since the previous call (under read
   * traffic: the previous reads' audit events), not one index search per type.
   */
  async lastPositionOf(eventTypes: readonly string[]): Promise<number> {
    this.assertOpen();
    const key = eventTypes.join('\u0000');
    let known = this.lastOf.get(key);
    if (known === undefined) {
      known = { types: new Set(eventTypes), head: 0, position: 0 };
      this.lastOf.set(key, known);
      return this.lastOfAfresh(key, known);
    }
    // One statement reads one snapshot: every row above `known.head` up to that snapshot's head.
    const rows = this.lastOfStatements.since.all(known.head, LAST_OF_SCAN + 1);
    if (rows.length > LAST_OF_SCAN) return this.lastOfAfresh(key, known);
    for (const row of rows) {
      if (known.types.has(row.type)) known.position = row.position;
      known.head = row.position;
    }
    return known.position;
  }

  /** One index search per type, and the head, in one read transaction. */
  private lastOfAfresh(
    key: string,
    known: { types: ReadonlySet<string>; head: number; position: number },
  ): number {
    let statement = this.lastOfStatements.byType.get(key);
    if (statement === undefined) {
      const types = [...known.types];
      statement =
        types.length === 0
          ? this.db.prepare('SELECT 0 AS position')
          : this.db.prepare(
              `SELECT max(p) AS position FROM (${types
                .map(() => 'SELECT max(position) AS p FROM events WHERE type = ?')
                .join(' UNION ALL ')})`,
            );
      this.lastOfStatements.byType.set(key, statement);
    }
    const read = this.db.transaction(() => ({
      head: this.statements.head.get()?.head ?? 0,
      position: statement.get(...known.types)?.position ?? 0,
    }));
    const { head, position } = read();
    known.head = head;
    known.position = position;
    return position;
  }

  /**
   * Subscriptions look at the store now rather than at their next poll: for a reader on its own
   * connection (the projector's thread) told that someone waits for what another connection
   * committed.
   */
  wake(): void {
    if (!this.isClosed) this.signal.notify();
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
    if (this.threadFailure) return { ok: false, adapter: 'sqlite', detail: this.threadFailure.message };
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
    if (this.thread) {
      // Wait for the groups accepted before the close to be committed and answered.
      await new Promise<void>((resolve) => {
        this.drained.add(resolve);
        this.settleIdle();
      });
      if (!this.threadFailure) this.thread.postMessage({ close: true });
      this.thread.ref();
      await this.threadExited;
    }
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
