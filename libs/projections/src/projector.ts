import { propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ProgressWaiters, type EventStore, type RecordedEvent, type Subscription } from '@nrm/event-store';
import type { Projection } from './projection';
import type { ReadModelStore, SqlRunner } from './store/read-model-store';

/** The two calls the projector makes; a pino logger fits as is. */
export interface ProjectorLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ProjectorOptions {
  readonly store: EventStore;
  /** Where the read models live (SQLite or PostgreSQL). The projector is its only writer; closing the projector does not close it. */
  readonly readModels: ReadModelStore;
  /** At least one; names must be unique. */
  readonly projections: readonly Projection[];
  /** Most events applied in one transaction, and events read per page by `rebuild`. Default 256. */
  readonly batchSize?: number;
  /** Default: silent (`health()` still reports a failure). */
  readonly logger?: ProjectorLogger;
  /**
   * Told after every commit that moves a checkpoint and every change of state, with `health()`:
   * for a projector in a worker thread, which reports its progress to the API's thread.
   */
  readonly onChange?: (health: ProjectorHealth) => void;
  /**
   * Where the spans of the events a commit applied go (see `traceApplied`, the default): a
   * projector in a worker thread hands them to the thread whose tracer exports spans.
   */
  readonly onApplied?: (applied: readonly AppliedEvent[], startedAt: number) => void;
}

/** An event a commit applied, as its span needs it: never its data. */
export interface AppliedEvent {
  readonly type: string;
  readonly position: number;
  readonly traceparent?: string;
  readonly projections: readonly string[];
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
  readonly projection: Projection;
  /** `undefined`: every type. */
  readonly types: ReadonlySet<string> | undefined;
}

/** One row of the checkpoint table, as stored. */
export interface CheckpointRow {
  readonly name: string;
  readonly version: number;
  readonly position: number;
}

/** The table that says how far each projection has got; it lives beside the read models. */
export const CHECKPOINT_TABLE_DDL = `CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name     TEXT   PRIMARY KEY,
  version  BIGINT NOT NULL,
  position BIGINT NOT NULL CHECK (position >= 0))`;

/** Every stored checkpoint; none when the projector never ran against this store. */
export async function readCheckpoints(runner: SqlRunner): Promise<CheckpointRow[]> {
  await runner.exec(CHECKPOINT_TABLE_DDL);
  return runner.all<CheckpointRow>('SELECT name, version, position FROM projection_checkpoints');
}

/** Events of a rebuild committed in one transaction: few, large commits write each page once. */
const REBUILD_TRANSACTION = 16384;
/** A projection of at least this many types starts its rebuild reading every event (see `rebuildNow`). */
const UNFILTERED_AT_TYPES = 8;
/**
 * Read every event when at least this share of a span is of the projection's types: a filtered
 * page cost ≈ 2.8 times an unfiltered one per event returned (SQLite, measured), so unfiltered
 * pays from a share of ≈ 1/2.8.
 */
const UNFILTERED_SHARE = 0.4;

/** `ApplyFailed.index` when a whole batch failed and the event at fault is not known yet. */
const BATCH_FAILED = -1;

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

/** Lets timers and I/O run: catch-up reads from SQLite resolve within microtasks only. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Keeps read models up to date from the event store with exactly-once effect:
 * each projection's tables and its checkpoint change in the same transaction
 * of the read-model store, so after any crash the checkpoint says exactly which
 * events the data covers, and a re-delivered event (at or below it) changes
 * nothing.
 *
 * One catch-up subscription, from the lowest checkpoint, feeds every
 * projection. It is unfiltered on purpose: every checkpoint must move past the
 * events a projection ignores, or `waitFor(head)` could never succeed.
 *
 * One projector per read-model store: it is the only writer. In the embedded
 * default it runs inside the API process; in production it is its own process
 * (apps/projector) and the API follows its checkpoints (`CheckpointFollower`).
 */
export class Projector {
  private readonly readModels: ReadModelStore;
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
  /** Events delivered by the subscription and not yet handed to a commit. */
  private buffer: RecordedEvent[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  /** Commits of the live loop, one after another. */
  private commits: Promise<void> = Promise.resolve();
  private readonly waiters = new ProgressWaiters();
  /** Callers waiting for some projections only (`waitFor` with names), per projection. */
  private readonly namedWaiters = new Map<string, ProgressWaiters>();
  private readonly onChange: ((health: ProjectorHealth) => void) | undefined;
  private readonly onApplied: (applied: readonly AppliedEvent[], startedAt: number) => void;
  /** start, stop, rebuild and close run one at a time, in call order. */
  private lifecycle: Promise<void> = Promise.resolve();
  private loaded: Promise<void> | undefined;

  constructor(options: ProjectorOptions) {
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
    this.readModels = options.readModels;
    this.batchSize = batchSize;
    this.logger = options.logger ?? SILENT;
    this.onChange = options.onChange;
    this.onApplied = options.onApplied ?? traceApplied;
    this.entries = options.projections.map((projection) => ({
      projection,
      types: projection.eventTypes ? new Set(projection.eventTypes) : undefined,
    }));
    for (const { projection } of this.entries) this.checkpoints.set(projection.name, 0);
  }

  /** The read-model store, for queries. Read only: the projector is its only writer. */
  get readModelStore(): ReadModelStore {
    return this.readModels;
  }

  /**
   * Reads the stored checkpoints (a projection whose stored version differs
   * counts as empty until `start` rebuilds it). `start` and `rebuild` call it;
   * call it first only to read `position()` before starting.
   */
  load(): Promise<void> {
    this.loaded ??= this.loadNow().catch((error: unknown) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
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

  /** Stops for good. Pending `waitFor`s resolve false. The read-model store stays open: its owner closes it. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.state === 'closed') return;
      await this.stopNow();
      this.state = 'closed';
      this.abandonWaiters();
      this.changed();
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
  waitFor(position: number, timeoutMs: number, projections?: readonly string[]): Promise<boolean> {
    if (projections !== undefined) return this.waitForNamed(position, timeoutMs, projections);
    if (this.lowestCheckpoint() >= position) return Promise.resolve(true);
    if (this.state === 'failed' || this.state === 'closed') return Promise.resolve(false);
    return this.waiters.wait(position, timeoutMs);
  }

  /** `waitFor` for the named projections only: the others may lag behind (a read does not use them). */
  private async waitForNamed(
    position: number,
    timeoutMs: number,
    projections: readonly string[],
  ): Promise<boolean> {
    const deadline = performance.now() + Math.max(0, timeoutMs);
    for (const name of projections) {
      if (this.position(name) >= position) continue;
      if (this.state === 'failed' || this.state === 'closed') return false;
      let waiters = this.namedWaiters.get(name);
      if (waiters === undefined) this.namedWaiters.set(name, (waiters = new ProgressWaiters()));
      if (!(await waiters.wait(position, deadline - performance.now()))) return false;
    }
    return true;
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
   * resumes (also carrying the projection past the head). The events are
   * committed in large transactions, each with the checkpoint it reaches, under
   * the store's bulk mode (`ReadModelStore.bulk`); the projection's secondary
   * indexes are built once at the end. So an interrupted rebuild is consistent,
   * the next start builds any missing index and the live loop simply continues.
   */
  rebuild(name: string, onProgress?: (progress: RebuildProgress) => void): Promise<RebuildResult> {
    // Asked now, not once the live loop has paused: the rebuild covers what was stored when it was called.
    const head = this.state === 'closed' ? Promise.resolve(0) : this.store.headPosition();
    head.catch(() => undefined); // awaited below; an early throw must not leave it unhandled
    return this.exclusive(async () => {
      this.assertOpen();
      const entry = this.entries.find((e) => e.projection.name === name);
      if (!entry) throw new Error(`no projection named '${name}'`);
      await this.load();
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

  private async loadNow(): Promise<void> {
    const stored = new Map((await readCheckpoints(this.readModels)).map((row) => [row.name, row]));
    for (const { projection } of this.entries) {
      const row = stored.get(projection.name);
      this.checkpoints.set(projection.name, row?.version === projection.version ? row.position : 0);
    }
  }

  private async startNow(): Promise<void> {
    this.assertOpen();
    if (this.state === 'running') return;
    await this.stopNow(); // a failed loop may still be unwinding
    await this.load();
    await this.reconcile();
    await this.ensureIndexes();
    this.failure = undefined;
    const from = this.lowestCheckpoint();
    const subscription = this.store.subscribe({ fromPosition: from === 0 ? 'start' : { after: from } });
    this.subscription = subscription;
    this.state = 'running';
    this.loop = this.run(subscription);
    this.changed();
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
          await this.flush(); // back-pressure: the next batch is read once this one is committed
          await nextTurn();
        } else {
          // Events already read arrive within microtasks, before this fires, and join the batch;
          // it fires once the subscription has to wait for the store.
          this.flushTimer ??= setImmediate(() => {
            this.flushTimer = undefined;
            void this.flush();
          });
        }
      }
      await this.flush();
    } catch (error) {
      await this.flush(); // what was delivered before the subscription broke is sound
      if (this.state === 'running') this.fail({ message: messageOf(error) });
    } finally {
      this.cancelFlush();
      this.buffer = [];
      await this.commits;
      if (this.state === 'running') {
        this.state = 'stopped';
        this.changed();
        this.logger.info({ positions: this.health().positions }, 'projector stopped');
      }
    }
  }

  /** Hands the buffered events to a commit after those already queued; resolves when it is done. */
  private flush(): Promise<void> {
    this.cancelFlush();
    const events = this.buffer;
    this.buffer = [];
    if (events.length > 0) {
      this.commits = this.commits.then(async () => {
        if (this.state === 'running') await this.commitOrFail(events, this.entries, undefined);
      });
    }
    return this.commits;
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
    // Tables only: secondary indexes are built once, after the bulk load (see `createIndexes`).
    await this.reset(projection, { deferIndexes: true });
    this.logger.info(
      { projection: projection.name, version: projection.version, toPosition: total },
      'projection rebuild started',
    );
    const rate = (events: number): number => {
      const seconds = (performance.now() - started) / 1000;
      return seconds > 0 ? events / seconds : 0;
    };
    const bulk = this.readModels.bulk?.bind(this.readModels) ?? (<T>(work: () => Promise<T>) => work());
    let applied = 0;
    await bulk(async () => {
      let after = 0;
      /** Read but not committed yet: committed together once there are `REBUILD_TRANSACTION` of them. */
      let pending: RecordedEvent[] = [];
      let pendingTo = 0;
      /**
       * Whether to read every event and drop the other types here, rather than have the store
       * filter by type: a filtered page costs the store several times an unfiltered one, so when
       * most events are of the projection's types, reading them all is cheaper. Decided again
       * after each page from the share of its types in the span just read.
       */
      let unfiltered = entry.types === undefined || entry.types.size >= UNFILTERED_AT_TYPES;
      const commitPending = async () => {
        if (pendingTo <= (this.checkpoints.get(projection.name) ?? 0)) return;
        // Untraced: a replay of the history would hang a span on every trace that ever appended.
        if (!(await this.commitOrFail(pending, [entry], pendingTo, false)))
          throw new ProjectorFailed(this.failure!);
        pending = [];
      };
      while (after < total) {
        const page: RecordedEvent[] = [];
        const read = this.store.readAll({
          fromPosition: after === 0 ? 'start' : { after },
          maxCount: this.batchSize,
          ...(!unfiltered && projection.eventTypes ? { filter: { eventTypes: projection.eventTypes } } : {}),
        });
        for await (const event of read) {
          if (event.position > total) break;
          page.push(event);
        }
        const last = page[page.length - 1];
        // A short page means the store had nothing more (of these types) up to `total`.
        const coveredTo = page.length < this.batchSize || last === undefined ? total : last.position;
        const relevant = entry.types === undefined ? page : page.filter((e) => entry.types!.has(e.type));
        // The share of the span read that is of the projection's types (positions are dense on
        // SQLite; elsewhere the span overstates the events in it, which only favours filtering).
        const span = unfiltered ? page.length : coveredTo - after;
        if (entry.types !== undefined && span > 0) unfiltered = relevant.length / span >= UNFILTERED_SHARE;
        for (const event of relevant) pending.push(event);
        pendingTo = coveredTo;
        applied += relevant.length;
        after = coveredTo;
        if (pending.length >= REBUILD_TRANSACTION) await commitPending();
        onProgress?.({ processed: after, total, eventsPerSec: rate(after) });
        await nextTurn();
      }
      await commitPending();
      await this.readModels.transaction(async (tx) => {
        if (projection.createIndexes) await projection.createIndexes(tx);
      });
    });
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

  /**
   * Builds the secondary indexes a rebuild left out when it stopped before its end (a failure, a
   * crash): `createIndexes` only creates what is missing, so this is a no-op once they exist.
   */
  private async ensureIndexes(): Promise<void> {
    for (const { projection } of this.entries) {
      if (projection.createIndexes === undefined) continue;
      try {
        await this.readModels.transaction((tx) => projection.createIndexes!(tx));
      } catch (error) {
        // A table gone from under the projection (an operator's edit): the read-model check at
        // start names it and the ledger refuses to answer from it; the projector does not crash.
        this.logger.error(
          { projection: projection.name, err: error instanceof Error ? error.message : String(error) },
          'indexes of a projection could not be built',
        );
      }
    }
  }

  /** Tears down and sets up the projections that are new or whose version changed. */
  private async reconcile(): Promise<void> {
    const stored = new Map((await readCheckpoints(this.readModels)).map((row) => [row.name, row]));
    for (const { projection } of this.entries) {
      const row = stored.get(projection.name);
      if (row?.version === projection.version) {
        this.checkpoints.set(projection.name, row.position);
        continue;
      }
      await this.reset(projection);
      this.logger.info(
        { projection: projection.name, version: projection.version, previousVersion: row?.version ?? null },
        row ? 'projection version changed: rebuilding from zero' : 'new projection: building from zero',
      );
    }
  }

  /**
   * Drops and recreates one projection's tables, its checkpoint back at zero, in one transaction;
   * with `deferIndexes` (a rebuild), without the secondary indexes, built once after the load.
   */
  private async reset(projection: Projection, options: { deferIndexes?: boolean } = {}): Promise<void> {
    await this.readModels.transaction(async (tx) => {
      await projection.tearDown(tx);
      await projection.setUp(tx);
      if (!options.deferIndexes && projection.createIndexes) await projection.createIndexes(tx);
      await tx.run(
        `INSERT INTO projection_checkpoints (name, version, position) VALUES (?, ?, 0)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = excluded.position`,
        [projection.name, projection.version],
      );
    });
    this.checkpoints.set(projection.name, 0);
  }

  /** Commits one batch; on failure keeps the sound events before the failing one, then fails the projector. */
  private async commitOrFail(
    events: readonly RecordedEvent[],
    entries: readonly Entry[],
    coveredTo: number | undefined,
    traced = true,
  ): Promise<boolean> {
    try {
      await this.commit(events, entries, coveredTo, false, traced);
      return true;
    } catch (first) {
      let error = first;
      if (error instanceof ApplyFailed && error.index === BATCH_FAILED) {
        // A projection's applyBatch rejected: replay the batch event by event to find the event at fault.
        try {
          await this.commit(events, entries, coveredTo, true, traced);
          return true; // not reproducible event by event: the batch is committed after all
        } catch (second) {
          error = second;
        }
      }
      if (!(error instanceof ApplyFailed)) {
        this.fail({ message: messageOf(error) });
        return false;
      }
      if (error.index > 0) {
        try {
          // So that the checkpoint stops right before the failing event.
          await this.commit(events.slice(0, error.index), entries, undefined, false, traced);
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

  private async commit(
    events: readonly RecordedEvent[],
    entries: readonly Entry[],
    coveredTo: number | undefined,
    eventByEvent = false,
    /** One span per event applied (see `traceApplied`); not for a rebuild's replay. */
    traced = true,
  ): Promise<void> {
    const startedAt = Date.now();
    const appliedBy = new Map<RecordedEvent, string[]>();
    const advanced = await this.readModels.transaction(async (tx) => {
      appliedBy.clear();
      const moved = new Map<string, number>();
      for (const entry of entries) {
        const name = entry.projection.name;
        // Already covered (below the checkpoint, or earlier in this batch): a re-delivery changes nothing.
        let high = this.checkpoints.get(name) ?? 0;
        const fresh = events.filter((event) => event.position > high && (high = event.position) > 0);
        const last = fresh[fresh.length - 1];
        if (last !== undefined) moved.set(name, last.position);
        const relevant = entry.types === undefined ? fresh : fresh.filter((e) => entry.types!.has(e.type));
        if (relevant.length === 0) continue;
        if (traced)
          for (const event of relevant) appliedBy.set(event, [...(appliedBy.get(event) ?? []), name]);
        const { projection } = entry;
        if (projection.applyBatch !== undefined && !eventByEvent) {
          try {
            await projection.applyBatch(tx, relevant);
          } catch (error) {
            throw new ApplyFailed(name, relevant[0]!, BATCH_FAILED, error);
          }
          continue;
        }
        for (const event of relevant) {
          try {
            await projection.apply(tx, event);
          } catch (error) {
            throw new ApplyFailed(name, event, events.indexOf(event), error);
          }
        }
      }
      // The store read everything up to `coveredTo` and filtered out what this batch lacks.
      if (coveredTo !== undefined) {
        for (const entry of entries) {
          const name = entry.projection.name;
          const checkpoint = moved.get(name) ?? this.checkpoints.get(name) ?? 0;
          if (coveredTo > checkpoint) moved.set(name, coveredTo);
        }
      }
      for (const [name, position] of moved)
        await tx.run('UPDATE projection_checkpoints SET position = ? WHERE name = ?', [position, name]);
      return moved;
    });
    for (const [name, position] of advanced) {
      this.checkpoints.set(name, position);
      this.namedWaiters.get(name)?.advance(position);
    }
    if (advanced.size > 0) {
      this.waiters.advance(this.lowestCheckpoint());
      this.changed();
    }
    if (appliedBy.size > 0) {
      const applied: AppliedEvent[] = [];
      for (const [event, projections] of appliedBy) {
        // The traceparent only: a tracestate stored by an older version is a caller's text, not continued.
        const { traceparent } = event.metadata;
        applied.push({
          type: event.type,
          position: event.position,
          projections,
          ...(typeof traceparent === 'string' ? { traceparent } : {}),
        });
      }
      this.onApplied(applied, startedAt);
    }
  }

  private fail(failure: ProjectionFailure): void {
    this.state = 'failed';
    this.failure = failure;
    this.buffer = [];
    this.logger.error(failure, 'projection failed; projector stopped');
    // Ends the for-await loop; the failing event is read again on the next start.
    this.subscription?.close().catch(() => undefined);
    this.abandonWaiters();
    this.changed();
  }

  private abandonWaiters(): void {
    this.waiters.abandon();
    for (const waiters of this.namedWaiters.values()) waiters.abandon();
  }

  private changed(): void {
    if (this.onChange === undefined) return;
    try {
      this.onChange(this.health());
    } catch {
      // a listener's failure is not the projector's
    }
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

/**
 * One span per event applied (committed), a child of the span that appended it (the W3C context
 * stored in the event's metadata), so that a command's trace shows its projection. It covers the
 * transaction the event was committed in. Only the event's type, position and the projections'
 * names are recorded, never its data. No-op when tracing is off.
 */
export function traceApplied(applied: readonly AppliedEvent[], startedAt: number): void {
  if (applied.length === 0) return;
  const tracer = trace.getTracer('nrm-ledger');
  for (const event of applied) {
    const carrier: Record<string, string> =
      event.traceparent !== undefined ? { traceparent: event.traceparent } : {};
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    tracer
      .startSpan(
        `project ${event.type}`,
        {
          kind: SpanKind.CONSUMER,
          startTime: startedAt,
          attributes: {
            'nrm.event.type': event.type,
            'nrm.event.position': event.position,
            'nrm.projections': [...event.projections],
          },
        },
        parent,
      )
      .end();
  }
}
