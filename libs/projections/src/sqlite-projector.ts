import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventStore, RecordedEvent, Subscription } from '@nrm/event-store';
import type { SqliteProjection } from './projection';

/** The two calls the projector makes; a pino logger fits as is. */
export interface ProjectorLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SqliteProjectorOptions {
  readonly store: EventStore;
  /** Read-model database file (its directory is created), or `':memory:'`. */
  readonly filename: string;
  /** At least one; names must be unique. */
  readonly projections: readonly SqliteProjection[];
  /** Most events applied in one transaction, and events read per page by `rebuild`. Default 256. */
  readonly batchSize?: number;
  /** Default: silent (`health()` still reports a failure). */
  readonly logger?: ProjectorLogger;
}

/** Why the projector stopped on its own. Never carries an event's payload. */
export interface ProjectionFailure {
  /** The projection whose `apply` threw; absent when storage or the subscription failed. */
  readonly projection?: string;
  /** Position of the event that could not be applied: it is retried, never skipped, on the next start. */
  readonly position?: number;
  readonly eventType?: string;
  readonly message: string;
}

export type ProjectorState = 'stopped' | 'running' | 'rebuilding' | 'failed' | 'closed';

export interface ProjectorHealth {
  /** True while the live loop runs or a rebuild makes progress. */
  readonly ok: boolean;
  readonly state: ProjectorState;
  /** Checkpoint of each projection: the position of the last event it covers. */
  readonly positions: Readonly<Record<string, number>>;
  readonly failure?: ProjectionFailure;
}

/**
 * Counted in store positions. The SQLite store numbers events densely from 1,
 * so `processed` is the number of store events read or skipped by the filter.
 */
export interface RebuildProgress {
  readonly processed: number;
  /** The store's head when the rebuild was called: where it stops. */
  readonly total: number;
  readonly eventsPerSec: number;
}

export interface RebuildResult {
  /** Store events covered: every position up to the head at the time of the call. */
  readonly events: number;
  /** Of those, the events of the projection's types, handed to `apply`. */
  readonly applied: number;
  readonly seconds: number;
  readonly eventsPerSec: number;
}

/** Thrown by `rebuild` when the projection's `apply` throws; the projector is then failed. */
export class ProjectorFailed extends Error {
  constructor(readonly failure: ProjectionFailure) {
    super(
      failure.projection === undefined
        ? `projector failed: ${failure.message}`
        : `projection '${failure.projection}' failed at position ${failure.position ?? '?'}: ${failure.message}`,
    );
    this.name = 'ProjectorFailed';
  }
}

interface Entry {
  readonly projection: SqliteProjection;
  /** `undefined`: every type. */
  readonly types: ReadonlySet<string> | undefined;
}

interface CheckpointRow {
  name: string;
  version: number;
  position: number;
}

interface Waiter {
  readonly position: number;
  readonly settle: (caughtUp: boolean) => void;
}

/** Carries, out of the rolled-back transaction, which projection failed on which event. */
class ApplyFailed extends Error {
  constructor(
    readonly projection: string,
    readonly event: RecordedEvent,
    /** Index of the event within the batch: the events before it are sound. */
    readonly index: number,
    cause: unknown,
  ) {
    super(messageOf(cause), { cause });
  }
}

const SILENT: ProjectorLogger = { info: () => undefined, error: () => undefined };

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'a non-Error value was thrown';
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Lets timers and I/O run: catch-up reads from SQLite resolve within microtasks only. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Keeps SQLite read models up to date from the event store with exactly-once
 * effect: each projection's tables and its checkpoint change in the same
 * transaction, so after any crash the checkpoint says exactly which events
 * the data covers, and a re-delivered event (at or below it) changes nothing.
 *
 * One catch-up subscription, from the lowest checkpoint, feeds every
 * projection. It is unfiltered on purpose: every checkpoint must move past the
 * events a projection ignores, or `waitFor(head)` could never succeed.
 *
 * One projector per read-model file: it is the only writer.
 */
export class SqliteProjector {
  private readonly database: Database.Database;
  private readonly store: EventStore;
  private readonly entries: readonly Entry[];
  private readonly batchSize: number;
  private readonly logger: ProjectorLogger;

  /** Committed checkpoints, mirrored after each commit. */
  private readonly checkpoints = new Map<string, number>();
  private state: ProjectorState = 'stopped';
  private failure: ProjectionFailure | undefined;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  /** Events delivered by the subscription and not yet committed. */
  private buffer: RecordedEvent[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly waiters = new Set<Waiter>();
  /** start, stop, rebuild and close run one at a time, in call order. */
  private lifecycle: Promise<void> = Promise.resolve();

  private readonly statements: {
    all: Database.Statement<[], CheckpointRow>;
    upsert: Database.Statement<[string, number, number]>;
    advance: Database.Statement<[number, string]>;
  };
  private readonly resetTx: (projection: SqliteProjection) => void;
  private readonly applyTx: (
    events: readonly RecordedEvent[],
    entries: readonly Entry[],
    coveredTo: number | undefined,
  ) => Map<string, number>;

  constructor(options: SqliteProjectorOptions) {
    if (options.projections.length === 0) throw new Error('a projector needs at least one projection');
    const names = new Set<string>();
    for (const p of options.projections) {
      if (names.has(p.name)) throw new Error(`two projections are named '${p.name}'`);
      if (!Number.isSafeInteger(p.version))
        throw new Error(`projection '${p.name}' needs an integer version`);
      names.add(p.name);
    }
    const batchSize = options.batchSize ?? 256;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1)
      throw new Error('batchSize must be an integer >= 1');

    this.store = options.store;
    this.batchSize = batchSize;
    this.logger = options.logger ?? SILENT;
    this.entries = options.projections.map((projection) => ({
      projection,
      types: projection.eventTypes ? new Set(projection.eventTypes) : undefined,
    }));

    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
    const db = new Database(options.filename);
    this.database = db;
    try {
      db.pragma('journal_mode = WAL');
      // A read model can always be rebuilt: losing the last commits on power loss costs only a replay.
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
        name     TEXT    PRIMARY KEY,
        version  INTEGER NOT NULL,
        position INTEGER NOT NULL CHECK (position >= 0))`);
    } catch (error) {
      db.close();
      throw error;
    }

    this.statements = {
      all: db.prepare('SELECT name, version, position FROM projection_checkpoints'),
      upsert: db.prepare(
        `INSERT INTO projection_checkpoints (name, version, position) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position`,
      ),
      advance: db.prepare('UPDATE projection_checkpoints SET position = ? WHERE name = ?'),
    };

    this.resetTx = db.transaction((projection: SqliteProjection) => {
      projection.tearDown(db);
      projection.setUp(db);
      this.statements.upsert.run(projection.name, projection.version, 0);
    });

    this.applyTx = db.transaction(
      (events: readonly RecordedEvent[], entries: readonly Entry[], coveredTo: number | undefined) => {
        const advanced = new Map<string, number>();
        events.forEach((event, index) => {
          for (const entry of entries) {
            const name = entry.projection.name;
            const checkpoint = advanced.get(name) ?? this.checkpoints.get(name) ?? 0;
            if (event.position <= checkpoint) continue; // already covered: a re-delivery changes nothing
            if (entry.types === undefined || entry.types.has(event.type)) this.applyOne(entry, event, index);
            advanced.set(name, event.position);
          }
        });
        // The store read everything up to `coveredTo` and filtered out what this batch lacks.
        if (coveredTo !== undefined) {
          for (const entry of entries) {
            const name = entry.projection.name;
            const checkpoint = advanced.get(name) ?? this.checkpoints.get(name) ?? 0;
            if (coveredTo > checkpoint) advanced.set(name, coveredTo);
          }
        }
        for (const [name, position] of advanced) this.statements.advance.run(position, name);
        return advanced;
      },
    );

    // Until start() reconciles versions, a projection whose stored version differs counts as empty.
    const stored = new Map(this.statements.all.all().map((row) => [row.name, row]));
    for (const { projection } of this.entries) {
      const row = stored.get(projection.name);
      this.checkpoints.set(projection.name, row?.version === projection.version ? row.position : 0);
    }
  }

  /** The read-model database, for queries' own prepared statements. Read only: the projector is its only writer. */
  get db(): Database.Database {
    return this.database;
  }

  /**
   * Builds new projections and rebuilds those whose version changed, then
   * follows the store from the lowest checkpoint. Resolves once subscribed,
   * not once caught up: use `waitFor` for that. Also restarts after a failure
   * (the failing event is retried).
   */
  start(): Promise<void> {
    return this.exclusive(() => this.startNow());
  }

  /** Ends the subscription and waits until the events already delivered are committed. */
  stop(): Promise<void> {
    return this.exclusive(() => this.stopNow());
  }

  /** Stops, then closes the database. Pending `waitFor`s resolve false. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.state === 'closed') return;
      await this.stopNow();
      this.state = 'closed';
      this.settleWaiters(false);
      this.database.close();
    });
  }

  /** The checkpoint of one projection, or the lowest of all when no name is given. */
  position(name?: string): number {
    if (name === undefined) return this.lowestCheckpoint();
    const position = this.checkpoints.get(name);
    if (position === undefined) throw new Error(`no projection named '${name}'`);
    return position;
  }

  /**
   * Resolves true once every projection covers `position` (a query passes the
   * position its answer must include), false after `timeoutMs`, or at once
   * when the projector has failed or is closed, since it would never get there.
   */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.lowestCheckpoint() >= position) return Promise.resolve(true);
    if (this.state === 'failed' || this.state === 'closed') return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        settle: (caughtUp) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(caughtUp);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), Math.max(0, timeoutMs));
      this.waiters.add(waiter);
    });
  }

  health(): ProjectorHealth {
    const positions: Record<string, number> = {};
    for (const [name, position] of this.checkpoints) positions[name] = position;
    return {
      ok: this.state === 'running' || this.state === 'rebuilding',
      state: this.state,
      positions,
      ...(this.failure ? { failure: this.failure } : {}),
    };
  }

  /**
   * Drops and rebuilds one projection from the start of the store up to the
   * store's head at the time of the call, reporting progress after each page.
   * While the projector runs, the live loop pauses for the rebuild and then
   * resumes (also carrying the projection past the head). The checkpoint moves
   * with each committed page, so an interrupted rebuild is consistent and the
   * live loop simply continues it.
   */
  rebuild(name: string, onProgress?: (progress: RebuildProgress) => void): Promise<RebuildResult> {
    // Asked now, not once the live loop has paused: the rebuild covers what was stored when it was called.
    const head = this.state === 'closed' ? Promise.resolve(0) : this.store.headPosition();
    head.catch(() => undefined); // awaited below; an early throw must not leave it unhandled
    return this.exclusive(async () => {
      this.assertOpen();
      const entry = this.entries.find((e) => e.projection.name === name);
      if (!entry) throw new Error(`no projection named '${name}'`);
      const resume = this.state === 'running';
      await this.stopNow();
      const settled = this.state; // 'stopped' or 'failed' (by another projection, or by this one)
      this.state = 'rebuilding';
      let result: RebuildResult;
      try {
        result = await this.rebuildNow(entry, await head, onProgress);
      } catch (error) {
        // A projection failure leaves the projector failed; anything else leaves consistent data to resume from.
        if (this.state === 'rebuilding') this.state = settled;
        if (resume && !(error instanceof ProjectorFailed)) await this.startNow();
        throw error;
      }
      this.state = settled;
      if (this.failure?.projection === name) {
        // The event it failed on has now been applied.
        this.failure = undefined;
        this.state = 'stopped';
      }
      if (resume) await this.startNow();
      return result;
    });
  }

  private async startNow(): Promise<void> {
    this.assertOpen();
    if (this.state === 'running') return;
    await this.stopNow(); // a failed loop may still be unwinding
    this.reconcile();
    this.failure = undefined;
    const from = this.lowestCheckpoint();
    const subscription = this.store.subscribe({ fromPosition: from === 0 ? 'start' : { after: from } });
    this.subscription = subscription;
    this.state = 'running';
    this.loop = this.run(subscription);
    this.logger.info(
      { projections: this.entries.map((e) => e.projection.name), fromPosition: from },
      'projector started',
    );
  }

  private async stopNow(): Promise<void> {
    if (!this.loop) return;
    await this.subscription?.close();
    await this.loop;
    this.loop = undefined;
    this.subscription = undefined;
  }

  /** The live loop. Never rejects: failures end up in `health()`. */
  private async run(subscription: Subscription): Promise<void> {
    try {
      for await (const event of subscription) {
        if (this.state !== 'running') break;
        this.buffer.push(event);
        if (this.buffer.length >= this.batchSize) {
          this.flush();
          await nextTurn();
        } else {
          // Events already read arrive within microtasks, before this fires, and join the batch;
          // it fires once the subscription has to wait for the store.
          this.flushTimer ??= setImmediate(() => this.flush());
        }
      }
      this.flush();
    } catch (error) {
      this.flush(); // what was delivered before the subscription broke is sound
      if (this.state === 'running') this.fail({ message: messageOf(error) });
    } finally {
      this.cancelFlush();
      this.buffer = [];
      if (this.state === 'running') {
        this.state = 'stopped';
        this.logger.info({ positions: this.health().positions }, 'projector stopped');
      }
    }
  }

  private flush(): void {
    this.cancelFlush();
    const events = this.buffer;
    this.buffer = [];
    if (events.length > 0 && this.state === 'running') this.commitOrFail(events, this.entries, undefined);
  }

  private cancelFlush(): void {
    if (this.flushTimer === undefined) return;
    clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
  }

  private async rebuildNow(
    entry: Entry,
    total: number,
    onProgress?: (progress: RebuildProgress) => void,
  ): Promise<RebuildResult> {
    const { projection } = entry;
    const started = performance.now();
    this.resetTx(projection);
    this.checkpoints.set(projection.name, 0);
    this.logger.info(
      { projection: projection.name, version: projection.version, toPosition: total },
      'projection rebuild started',
    );
    const filter = projection.eventTypes ? { eventTypes: projection.eventTypes } : undefined;
    const rate = (events: number): number => {
      const seconds = (performance.now() - started) / 1000;
      return seconds > 0 ? events / seconds : 0;
    };

    let after = 0;
    let applied = 0;
    while (after < total) {
      const page: RecordedEvent[] = [];
      const read = this.store.readAll({
        fromPosition: after === 0 ? 'start' : { after },
        maxCount: this.batchSize,
        ...(filter ? { filter } : {}),
      });
      for await (const event of read) {
        if (event.position > total) break;
        page.push(event);
      }
      const last = page[page.length - 1];
      // A short page means the store had nothing more of these types up to `total`.
      const coveredTo = page.length < this.batchSize || last === undefined ? total : last.position;
      if (!this.commitOrFail(page, [entry], coveredTo)) throw new ProjectorFailed(this.failure!);
      applied += page.length;
      after = coveredTo;
      onProgress?.({ processed: after, total, eventsPerSec: rate(after) });
      await nextTurn();
    }
    if (total === 0) onProgress?.({ processed: 0, total, eventsPerSec: 0 });

    const seconds = (performance.now() - started) / 1000;
    const result: RebuildResult = {
      events: total,
      applied,
      seconds,
      eventsPerSec: seconds > 0 ? total / seconds : 0,
    };
    this.logger.info({ projection: projection.name, ...result }, 'projection rebuilt');
    return result;
  }

  /** Tears down and sets up the projections that are new or whose version changed. */
  private reconcile(): void {
    const stored = new Map(this.statements.all.all().map((row) => [row.name, row]));
    for (const { projection } of this.entries) {
      const row = stored.get(projection.name);
      if (row?.version === projection.version) {
        this.checkpoints.set(projection.name, row.position);
        continue;
      }
      this.resetTx(projection);
      this.checkpoints.set(projection.name, 0);
      this.logger.info(
        { projection: projection.name, version: projection.version, previousVersion: row?.version ?? null },
        row ? 'projection version changed: rebuilding from zero' : 'new projection: building from zero',
      );
    }
  }

  private applyOne(entry: Entry, event: RecordedEvent, index: number): void {
    try {
      const result: unknown = entry.projection.apply(this.database, event);
      if (isThenable(result)) {
        result.then(undefined, () => undefined); // its outcome can no longer matter: no unhandled rejection
        throw new Error('apply returned a promise; projections must be synchronous');
      }
    } catch (error) {
      throw new ApplyFailed(entry.projection.name, event, index, error);
    }
  }

  /** Commits one batch; on failure keeps the sound events before the failing one, then fails the projector. */
  private commitOrFail(
    events: readonly RecordedEvent[],
    entries: readonly Entry[],
    coveredTo: number | undefined,
  ): boolean {
    try {
      this.commit(events, entries, coveredTo);
      return true;
    } catch (error) {
      if (!(error instanceof ApplyFailed)) {
        this.fail({ message: messageOf(error) });
        return false;
      }
      if (error.index > 0) {
        try {
          // So that the checkpoint stops right before the failing event.
          this.commit(events.slice(0, error.index), entries, undefined);
        } catch {
          // Not deterministic after all; the whole batch stays rolled back and is retried on restart.
        }
      }
      this.fail({
        projection: error.projection,
        position: error.event.position,
        eventType: error.event.type,
        message: error.message,
      });
      return false;
    }
  }

  private commit(
    events: readonly RecordedEvent[],
    entries: readonly Entry[],
    coveredTo: number | undefined,
  ): void {
    const advanced = this.applyTx(events, entries, coveredTo);
    for (const [name, position] of advanced) this.checkpoints.set(name, position);
    if (advanced.size > 0) this.wakeWaiters();
  }

  private fail(failure: ProjectionFailure): void {
    this.state = 'failed';
    this.failure = failure;
    this.buffer = [];
    this.logger.error(failure, 'projection failed; projector stopped');
    // Ends the for-await loop; the failing event is read again on the next start.
    this.subscription?.close().catch(() => undefined);
    this.settleWaiters(false);
  }

  private wakeWaiters(): void {
    const lowest = this.lowestCheckpoint();
    for (const waiter of [...this.waiters]) if (waiter.position <= lowest) waiter.settle(true);
  }

  private settleWaiters(caughtUp: boolean): void {
    for (const waiter of [...this.waiters]) waiter.settle(caughtUp);
  }

  private lowestCheckpoint(): number {
    let lowest = Infinity;
    for (const { projection } of this.entries)
      lowest = Math.min(lowest, this.checkpoints.get(projection.name) ?? 0);
    return lowest;
  }

  private assertOpen(): void {
    if (this.state === 'closed') throw new Error('the projector is closed');
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.lifecycle.then(task);
    this.lifecycle = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
