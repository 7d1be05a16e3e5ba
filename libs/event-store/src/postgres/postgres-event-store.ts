import pg from 'pg';
import { AppendSignal, CatchUpSubscription } from '../catch-up-subscription';
import { DuplicateEventId, EventStoreClosed, EventStoreUnavailable, WrongExpectedRevision } from '../errors';
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
import { migratePostgres } from './migrations';

export interface PostgresEventStoreOptions {
  /** `postgres://user@host:port/database`; credentials never reach errors or `description`. */
  readonly connectionString: string;
  /** The schema that holds the events, created when missing: lower case, digits and `_`. */
  readonly schema: string;
  /** Most connections the pool opens (appends, reads). Default 10; one more listens. */
  readonly maxConnections?: number;
  /**
   * Longest wait between two looks at the store when no notification arrives: a
   * safety net only, since every append notifies its listeners at commit.
   */
  readonly pollIntervalMs?: number;
  /** Events read per query by readStream, readAll and subscriptions. */
  readonly batchSize?: number;
  readonly clock?: () => Date;
}

interface PendingEnd {
  /** Just before the first position of an append this process began after subscribing. */
  floor: number;
  /** Appends this process began after subscribing, until the head is read. */
  readonly appends: Set<Promise<unknown>>;
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
  recorded_at: Date;
}

const INT8_OID = 20;
/** `bigint` positions and revisions as numbers: they stay far below 2^53. */
const bigintsAsNumbers = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === INT8_OID && format !== 'binary'
    ? (value: string): number => Number(value)
    : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const COLUMNS = 'position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at';
const MAX_REVISION = Number.MAX_SAFE_INTEGER;
const UNIQUE_VIOLATION = '23505';
/** How the LISTEN connection names itself in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'nrm-event-store-listener';

/** The channel every append of `schema` notifies at commit (an identifier of at most 63 bytes). */
export function notificationChannel(schema: string): string {
  return `nrm_events_${schema}`.slice(0, 63);
}

/**
 * The SQL of a batch of appends, as the adapter sends it: `$1` streams, `$2` expectations
 * (-1 no-stream, -2 stream-exists, else the exact revision), `$3` event counts, `$4..$8`
 * arrays of ids, types, schema versions, data and metadata of every event in order, `$9`
 * recorded-at, `$10` the notification channel. Exported for the ordering test, which runs it
 * inside transactions that wait before committing.
 */
export const APPEND_SQL =
  'SELECT idx, actual, last_revision, last_position FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)';

/** Most appends, and bytes of data and metadata, sent in one batch. */
const MAX_BATCH_APPENDS = 256;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

interface PendingAppend {
  readonly stream: string;
  readonly ids: readonly string[];
  readonly events: readonly NewEvent[];
  readonly bodies: readonly Serialised[];
  readonly bytes: number;
  readonly expected: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

interface BatchRow {
  idx: number;
  actual: number;
  last_revision: number | null;
  last_position: number | null;
}

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
    recordedAt: row.recorded_at.toISOString(),
  };
}

function expectationCode(expected: ExpectedRevision): number {
  return expected === 'no-stream' ? -1 : expected === 'stream-exists' ? -2 : expected;
}

function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A failure of the connection rather than of the statement: the server is down,
 * restarting, refused us, or the socket broke. For an append the outcome is then
 * unknown, as the port's `EventStoreUnavailable` says.
 */
function unavailable(error: unknown): EventStoreUnavailable | undefined {
  const code = sqlState(error);
  if (code === undefined) {
    if (
      error instanceof Error &&
      /Connection terminated|timeout|not queryable|Client has encountered/i.test(error.message)
    )
      return new EventStoreUnavailable('the PostgreSQL connection broke');
    return undefined;
  }
  if (/^E[A-Z]+$/.test(code)) return new EventStoreUnavailable(`cannot reach PostgreSQL (${code})`);
  // 08: connection exception; 53: insufficient resources; 57P0x: shutdown, crash, cannot connect now.
  if (code.startsWith('08') || code.startsWith('53') || /^57P0[1-4]$/.test(code))
    return new EventStoreUnavailable(`PostgreSQL refused or dropped the connection (${code})`);
  return undefined;
}

/** Builds the WHERE fragment of a filter; parameters are appended to `params`. */
function filterSql(filter: EventFilter | undefined, params: unknown[]): string {
  if (!filter) return '';
  let sql = '';
  if (filter.eventTypes) {
    if (filter.eventTypes.length === 0) return ' AND false';
    params.push(filter.eventTypes);
    sql += ` AND type = ANY($${params.length}::text[])`;
  }
  if (filter.streamPrefixes) {
    if (filter.streamPrefixes.length === 0) return ' AND false';
    params.push(filter.streamPrefixes);
    sql += ` AND EXISTS (SELECT 1 FROM unnest($${params.length}::text[]) AS p WHERE starts_with(stream, p))`;
  }
  return sql;
}

/**
 * PostgreSQL as the event store: one schema, one `events` table.
 *
 * - Exact expected revisions: appends are one call of `append_batch`, which
 *   locks the one `positions_handed_out` row, checks each stream's revision and
 *   inserts; `UNIQUE (stream, revision)` refuses any second event at a revision
 *   whatever path wrote it, and `UNIQUE (event_id)` any id stored twice.
 * - The global order: positions are handed out under that row lock, held until
 *   commit, so appends commit in position order and a reader that sees position
 *   p sees everything below it. A sequence would not do: a transaction holding a
 *   lower number can commit after one holding a higher number, and a catch-up
 *   subscription that had moved past would never see it. The price is that
 *   commits are serialised (one at a time, as EventStoreDB's single writer and
 *   SQLite's write lock also are); each process therefore sends the appends
 *   that arrive while its previous batch commits as one batch (group commit).
 *   bench/append-postgres.ts measures the cost.
 * - Live subscriptions: each append notifies the schema's channel at commit; a
 *   dedicated connection LISTENs and wakes the subscriptions, which also poll
 *   slowly in case a notification is lost while that connection reconnects.
 */
export class PostgresEventStore implements EventStore {
  readonly description: string;
  private readonly pool: pg.Pool;
  private readonly signal = new AppendSignal();
  private readonly subscriptions = new Set<Subscription>();
  private readonly clock: () => Date;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly channel: string;
  private ready: Promise<void> | undefined;
  private listener: pg.Client | undefined;
  private listening: Promise<void> | undefined;
  private relistenTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  /** Subscriptions from 'end' that have not yet read the head. */
  private readonly pendingEnds = new Set<PendingEnd>();

  constructor(private readonly options: PostgresEventStoreOptions) {
    if (!SCHEMA_NAME.test(options.schema))
      throw new Error(`event-store schema '${options.schema}' must match ${SCHEMA_NAME.source}`);
    const url = new URL(options.connectionString);
    this.description = `postgres ${url.hostname}:${url.port || '5432'}${url.pathname} schema ${options.schema}`;
    this.clock = options.clock ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? 512;
    this.channel = notificationChannel(options.schema);
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 10,
      options: `-c search_path=${options.schema}`,
      types: { getTypeParser: bigintsAsNumbers },
    });
    // An idle connection that breaks must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  append(stream: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    const watchers = [...this.pendingEnds];
    const appended = this.appendOnce(stream, events, options);
    if (watchers.length === 0) return appended;
    const settled = appended.then(
      (result) => {
        const first = result.position - events.length;
        for (const end of watchers) end.floor = Math.min(end.floor, first);
      },
      () => undefined,
    );
    for (const end of watchers) end.appends.add(settled);
    return appended;
  }

  private async appendOnce(
    stream: string,
    events: readonly NewEvent[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    this.assertOpen();
    const request = checkAppend(stream, events, options);
    const bodies = request.events.map((e, i) => serialise(e, `events[${i}]`));
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({
        stream: request.stream,
        ids: request.events.map((e) => e.id.toLowerCase()),
        events: request.events,
        bodies,
        bytes: bodies.reduce((sum, b) => sum + b.data.length + b.metadata.length, 0),
        expected: request.expectedRevision,
        resolve,
        reject,
      });
      this.flushing ??= this.flush();
    });
  }

  /**
   * Group commit: one batch in flight at a time; the appends that arrive meanwhile go in the
   * next, so that under load many appends share one transaction, one lock turn and one fsync.
   */
  private async flush(): Promise<void> {
    await Promise.resolve(); // let the appends of this turn join the first batch
    try {
      while (this.pending.length > 0) {
        let bytes = 0;
        let take = 0;
        while (
          take < this.pending.length &&
          take < MAX_BATCH_APPENDS &&
          (take === 0 || bytes + this.pending[take]!.bytes <= MAX_BATCH_BYTES)
        )
          bytes += this.pending[take++]!.bytes;
        const batch = this.pending.splice(0, take);
        await this.commitBatch(batch);
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async commitBatch(batch: readonly PendingAppend[]): Promise<void> {
    let rows: BatchRow[];
    try {
      rows = await this.runBatch(batch);
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION && batch.length > 1) {
        // An event id already stored (or twice in the batch): the whole batch rolled back.
        // Each append alone again, so that only the one at fault is refused.
        for (const p of batch) await this.commitBatch([p]);
        return;
      }
      if (sqlState(error) === UNIQUE_VIOLATION) {
        // Stored events never change, so looking after the fact is as good as looking inside:
        // the same append retried, or an id stored elsewhere.
        const p = batch[0]!;
        await this.settle(p, async () => {
          const retry = await this.idempotentRetry(p.stream, p.ids, p.expected);
          if (retry) return retry;
          // Only reachable by a writer that bypassed the lock: (stream, revision) was taken.
          const actual = await this.lastRevision(p.stream);
          throw new WrongExpectedRevision(p.stream, p.expected, actual === -1 ? 'no-stream' : actual);
        });
        return;
      }
      for (const p of batch) p.reject(error);
      return;
    }
    if (rows.some((r) => r.last_position !== null)) this.signal.notify(); // no need to wait for NOTIFY
    await Promise.all(
      batch.map((p, i) =>
        this.settle(p, async () => {
          const row = rows.find((r) => r.idx === i + 1);
          if (!row) throw new Error('append_batch answered no row for an append');
          if (row.last_revision !== null && row.last_position !== null)
            return { revision: row.last_revision, position: row.last_position };
          const retry = await this.idempotentRetry(p.stream, p.ids, p.expected);
          if (retry) return retry;
          throw new WrongExpectedRevision(p.stream, p.expected, row.actual === -1 ? 'no-stream' : row.actual);
        }),
      ),
    );
  }

  private async runBatch(batch: readonly PendingAppend[]): Promise<BatchRow[]> {
    // Not refused once close() began: appends accepted before it are committed, not dropped.
    const { rows } = await this.query<BatchRow>(
      APPEND_SQL,
      [
        batch.map((p) => p.stream),
        batch.map((p) => expectationCode(p.expected)),
        batch.map((p) => p.events.length),
        batch.flatMap((p) => p.ids),
        batch.flatMap((p) => p.events.map((e) => e.type)),
        batch.flatMap((p) => p.events.map((e) => e.schemaVersion)),
        batch.flatMap((p) => p.bodies.map((b) => b.data)),
        batch.flatMap((p) => p.bodies.map((b) => b.metadata)),
        this.clock(),
        this.channel,
      ],
      true,
    );
    return rows;
  }

  private async settle(p: PendingAppend, outcome: () => Promise<AppendResult>): Promise<void> {
    try {
      p.resolve(await outcome());
    } catch (error) {
      p.reject(error);
    }
  }

  /**
   * An append whose event ids are already stored: the same append retried
   * (every id in this stream, in order, where the expectation put them) gives
   * the first result; any other placement is a `DuplicateEventId`.
   */
  private async idempotentRetry(
    stream: string,
    ids: readonly string[],
    expected: ExpectedRevision,
  ): Promise<AppendResult | undefined> {
    const { rows: found } = await this.query<EventRow>(
      `SELECT ${COLUMNS} FROM events WHERE event_id = ANY($1::uuid[])`,
      [ids],
    );
    if (found.length === 0) return undefined;
    const byId = new Map(found.map((r) => [r.event_id, r]));
    const rows = ids.map((id) => byId.get(id));
    const first = rows[0];
    const start = first?.revision ?? -1;
    const sameAppend =
      first !== undefined &&
      rows.every((r, i) => r !== undefined && r.stream === stream && r.revision === start + i) &&
      (expected === 'no-stream' ? start === 0 : expected === 'stream-exists' ? true : start === expected + 1);
    if (!sameAppend) {
      const clash = rows.find((r) => r !== undefined)!;
      throw new DuplicateEventId(clash.event_id, clash.stream, clash.revision);
    }
    const last = rows[rows.length - 1]!;
    return { revision: last.revision, position: last.position };
  }

  private async lastRevision(stream: string): Promise<number> {
    const { rows } = await this.query<{ revision: number }>(
      'SELECT coalesce(max(revision), -1) AS revision FROM events WHERE stream = $1',
      [stream],
    );
    return rows[0]?.revision ?? -1;
  }

  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const q = checkReadStream(stream, options);
    const backwards = q.direction === 'backwards';
    let next = q.from === 'start' ? (backwards ? -1 : 0) : q.from === 'end' ? MAX_REVISION : q.from;
    let remaining = q.maxCount ?? Infinity;
    const sql = backwards
      ? `SELECT ${COLUMNS} FROM events WHERE stream = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`
      : `SELECT ${COLUMNS} FROM events WHERE stream = $1 AND revision >= $2 ORDER BY revision ASC LIMIT $3`;
    const batchSize = this.batchSize;
    const read = async (limit: number): Promise<EventRow[]> => {
      this.assertOpen();
      return (await this.query<EventRow>(sql, [q.stream, next, limit])).rows;
    };
    return {
      async *[Symbol.asyncIterator]() {
        while (remaining > 0 && next >= 0) {
          const rows = await read(Math.min(batchSize, remaining));
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
    const read = async (limit: number): Promise<RecordedEvent[]> => {
      this.assertOpen();
      return (await this.readBatch(after, limit, q.filter)).events;
    };
    return {
      async *[Symbol.asyncIterator]() {
        while (remaining > 0) {
          const limit = Math.min(batchSize, remaining);
          const events = await read(limit);
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
    this.listen();
    // 'end' is the head as the store answers on the first read. An append of this process that
    // began after subscribe() may commit before that answer: it lowers the start to just before it.
    const end: PendingEnd | undefined =
      q.from === 'end' ? { floor: Infinity, appends: new Set() } : undefined;
    if (end) this.pendingEnds.add(end);
    const subscription: Subscription = new CatchUpSubscription({
      after: q.from === 'start' ? 0 : q.from === 'end' ? 0 : q.from,
      readBatch: async (from, limit) => {
        if (this.isClosed) return { events: [], scannedTo: from };
        if (end && this.pendingEnds.has(end)) {
          const head = await this.headPosition();
          this.pendingEnds.delete(end);
          await Promise.allSettled(end.appends); // their answers may come after the head's
          const start = Math.min(head, end.floor);
          return { events: [], scannedTo: start };
        }
        return this.readBatch(from, limit, q.filter);
      },
      signal: this.signal,
      batchSize: this.batchSize,
      pollIntervalMs: this.pollIntervalMs,
      onClose: () => {
        if (end) this.pendingEnds.delete(end);
        this.subscriptions.delete(subscription);
      },
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Up to `limit` events after `after` that pass the filter, and the head of the
   * same snapshot (one statement): since positions become visible in order,
   * everything up to that head has been examined.
   */
  private async readBatch(
    after: number,
    limit: number,
    filter: EventFilter | undefined,
  ): Promise<{ events: RecordedEvent[]; scannedTo: number }> {
    const params: unknown[] = [after, limit];
    const where = filterSql(filter, params);
    const { rows } = await this.query<EventRow & { head: number }>(
      `SELECT h.head, e.* FROM (SELECT coalesce(max(position), 0) AS head FROM events) AS h
       LEFT JOIN LATERAL (SELECT ${COLUMNS} FROM events WHERE position > $1${where}
                          ORDER BY position ASC LIMIT $2) AS e ON true
       ORDER BY e.position`,
      params,
    );
    const head = rows[0]?.head ?? 0;
    const events = rows.filter((r) => r.position !== null).map(toRecorded);
    const scannedTo =
      events.length === limit ? (events[events.length - 1]?.position ?? after) : Math.max(after, head);
    return { events, scannedTo: Math.max(after, scannedTo) };
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    const { rows } = await this.query<{ head: number }>(
      'SELECT coalesce(max(position), 0) AS head FROM events',
    );
    return rows[0]?.head ?? 0;
  }

  /**
   * The last position of any of these types: one backward step down the `(type, position)` index
   * per type, so its cost does not grow with the events stored, nor with the audit events that
   * follow (each read appends one).
   */
  async lastPositionOf(eventTypes: readonly string[]): Promise<number> {
    this.assertOpen();
    if (eventTypes.length === 0) return 0;
    const { rows } = await this.query<{ last: number }>(
      `SELECT coalesce(max(last), 0) AS last
         FROM unnest($1::text[]) AS wanted(type),
              LATERAL (SELECT max(position) AS last FROM events WHERE events.type = wanted.type) AS found`,
      [eventTypes],
    );
    return rows[0]?.last ?? 0;
  }

  /**
   * The highest position this store ever handed out (kept apart from the events, only ever
   * raised): above `headPosition()` when events at the end were deleted.
   */
  async positionsHandedOut(): Promise<number | undefined> {
    this.assertOpen();
    const { rows } = await this.query<{ position: number }>(
      'SELECT position FROM positions_handed_out WHERE id = 1',
    );
    return rows[0]?.position;
  }

  async health(): Promise<EventStoreHealth> {
    if (this.isClosed) return { ok: false, adapter: 'postgres', detail: 'closed' };
    try {
      return { ok: true, adapter: 'postgres', headPosition: await this.headPosition() };
    } catch (error) {
      return {
        ok: false,
        adapter: 'postgres',
        detail: error instanceof EventStoreUnavailable ? error.reason : 'the event store cannot be read',
      };
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    clearTimeout(this.relistenTimer);
    await this.flushing; // appends accepted are committed, not dropped
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    const listener = this.listener;
    this.listener = undefined;
    await this.listening?.catch(() => undefined);
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  /** Opens the store's schema (migrating it) on first use; a failure is retried by the next call. */
  private whenReady(): Promise<void> {
    this.ready ??= (async () => {
      const client = await this.pool.connect();
      try {
        await migratePostgres(client, this.options.schema, this.clock);
      } finally {
        client.release();
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async query<R extends pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    whileClosing = false,
  ): Promise<pg.QueryResult<R>> {
    if (!whileClosing) this.assertOpen();
    try {
      await this.whenReady();
      return await this.pool.query<R>(sql, params);
    } catch (error) {
      if (this.isClosed && !whileClosing) throw new EventStoreClosed();
      throw unavailable(error) ?? error;
    }
  }

  /** Starts the LISTEN connection once; when it breaks, subscriptions poll until it is back. */
  private listen(): void {
    if (this.listening || this.isClosed) return;
    const client = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: LISTENER_APPLICATION_NAME,
    });
    this.listener = client;
    const retry = (): void => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listening = undefined;
      client.end().catch(() => undefined);
      this.signal.notify(); // look now: notifications may have been missed
      if (this.isClosed) return;
      this.relistenTimer = setTimeout(() => {
        if (this.subscriptions.size > 0) this.listen();
      }, this.pollIntervalMs);
      this.relistenTimer.unref();
    };
    client.on('notification', () => this.signal.notify());
    client.on('error', retry);
    client.on('end', retry);
    this.listening = (async () => {
      await this.whenReady();
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
      this.signal.notify(); // appends committed before LISTEN took effect are read now
    })().catch(retry);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new EventStoreClosed();
  }
}
