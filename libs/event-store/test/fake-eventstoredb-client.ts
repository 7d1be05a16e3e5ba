/**
 * An in-memory stand-in for an EventStoreDB server and @eventstore/db-client,
 * just faithful enough to run the EventStoreDB adapter's logic (id claims,
 * position mapping, paging, filters, subscriptions, errors) through the
 * conformance suite where no server runs. It mimics the behaviours the adapter
 * relies on, as EventStoreDB 22.10+ shows them through the client:
 *
 * - every event is its own log record; its commit position is the record's
 *   byte offset (so not dense), its prepare position the offset of the first
 *   record of its append; system records are in the log too, starting at 0;
 * - expected revisions as the server checks them, including its idempotency for
 *   an append repeated at an exact revision or "no stream" (and none for
 *   "stream exists", so that the adapter must not rely on it);
 * - reading a missing stream fails with `StreamNotFoundError`; `$all` reads from
 *   a position include it (forwards) or exclude it (backwards), and a position
 *   that is not the start of a record is an error;
 * - subscriptions exclude their start position, filter on event type or stream
 *   name by regex or prefixes, confirm, and go live; `dispose()` ends reads in
 *   flight as if they were complete (as cancelling the gRPC calls does).
 *
 * It is no proof about the real server: the conformance suite must also pass
 * against one (`eventstoredb-event-store.int.spec.ts`).
 */
import {
  DeadlineExceededError,
  END,
  MaxAppendSizeExceededError,
  NO_STREAM,
  NotLeaderError,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendResult,
  type AppendToStreamOptions,
  type EventData,
  type EventType,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ResolvedEvent,
  type StreamingRead,
  type SubscribeToAllOptions,
} from '@eventstore/db-client';
import { Readable, type ReadableOptions } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { EventStoreDbClient } from '../src/eventstoredb/eventstoredb-event-store';

interface LogRecord {
  readonly streamId: string;
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: string;
  readonly metadata: string;
  readonly created: Date;
  readonly logPosition: bigint;
  readonly transactionPosition: bigint;
  /** Index of the record in the log. */
  readonly index: number;
}

export type AppendFault = 'reply-lost' | 'lands-later' | 'unsent';

/** A gRPC error as @grpc/grpc-js gives it to the client's error classes. */
function grpcError(code: number, message: string, metadata: Record<string, string> = {}): ServiceError {
  return {
    code,
    details: message,
    message: `${code} ${message}`,
    metadata: { getMap: () => metadata },
  } as unknown as ServiceError;
}

type ServiceError = NonNullable<ConstructorParameters<typeof DeadlineExceededError>[0]>;

/** What the server counts against its MaxAppendSize: the event's data and metadata bytes. */
function appendSize(event: EventData<EventType>): number {
  const bytes = (value: unknown): number =>
    value === undefined
      ? 0
      : value instanceof Uint8Array
        ? value.byteLength
        : Buffer.byteLength(JSON.stringify(value));
  return bytes(event.data) + bytes(event.metadata);
}

/** A follower's refusal of a request that requires the leader, as the server sends it. */
function notLeader(): NotLeaderError {
  const metadata = { 'leader-endpoint-host': 'leader.fake', 'leader-endpoint-port': '2113' };
  return new NotLeaderError(grpcError(5, 'Leader info available', metadata));
}

/** The server: one log, shared by every client made from it. */
export class FakeEventStoreDb {
  readonly log: LogRecord[] = [];
  private readonly streams = new Map<string, LogRecord[]>();
  private nextPosition = 0n;
  private waiters: Array<() => void> = [];
  /** While set, every call fails as with an unreachable server. */
  unreachable = false;
  /**
   * Records a follower has: undefined while followers are in step, else the log length they
   * have replicated (see `election()`).
   */
  followerHas: number | undefined;
  private readonly clients = new Set<FakeEventStoreDbClient>();
  /**
   * Appends the server decided, events they wrote, appends answered by its idempotency (nothing
   * written), requests a follower refused as not the leader, stale reads a follower served.
   */
  readonly counts = { appends: 0, written: 0, idempotent: 0, notLeader: 0, followerReads: 0 };
  /** The server's MaxAppendSize: data and metadata bytes of one append (1 MiB by default, as the server's). */
  maxAppendSize = 1024 * 1024;
  private readonly faults: Array<{
    kind: AppendFault;
    stream: string | undefined;
    meanwhile: (() => void) | undefined;
  }> = [];
  readonly pending: Array<() => void> = [];

  constructor() {
    // Like a fresh database, the log starts with system records.
    this.write('$epoch-information', [
      { id: '8d5a3b3c-0000-4000-8000-000000000001', type: '$epoch-information' },
    ]);
    this.write('$settings', [{ id: '8d5a3b3c-0000-4000-8000-000000000002', type: '$settings' }]);
  }

  client(): FakeEventStoreDbClient {
    const client = new FakeEventStoreDbClient(this);
    this.clients.add(client);
    return client;
  }

  /**
   * A leader election, as a cluster has one: every client made so far stays connected to the
   * node it was on, now a follower, which has replicated the log up to this moment and no further
   * until `replicate()`. A follower answers reads without `requiresLeader` from what it has
   * (stale), forwards appends to the leader, and refuses requests with `requiresLeader` with
   * `NotLeaderError` (after which the client, like the real one, reconnects to the leader).
   */
  election(): void {
    this.followerHas = this.log.length;
    for (const client of this.clients) client.onFollower = true;
  }

  /** Followers catch up with the leader. */
  replicate(): void {
    this.followerHas = undefined;
  }

  streamRecords(stream: string): readonly LogRecord[] | undefined {
    return this.streams.get(stream);
  }

  write(
    stream: string,
    events: ReadonlyArray<{
      id: string;
      type: string;
      contentType?: string;
      data?: string;
      metadata?: string;
    }>,
  ): LogRecord[] {
    const records = this.streams.get(stream) ?? [];
    this.streams.set(stream, records);
    const first = this.nextPosition;
    const written = events.map((e) => {
      const record: LogRecord = {
        streamId: stream,
        revision: BigInt(records.length),
        id: e.id.toLowerCase(),
        type: e.type,
        contentType: e.contentType ?? 'application/json',
        data: e.data ?? '{}',
        metadata: e.metadata ?? '',
        created: new Date(),
        logPosition: this.nextPosition,
        transactionPosition: first,
        index: this.log.length,
      };
      this.nextPosition += BigInt(
        120 + stream.length + e.type.length + record.data.length + record.metadata.length,
      );
      records.push(record);
      this.log.push(record);
      return record;
    });
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    return written;
  }

  /**
   * An append as the leader decides it: the expected revision, and the server's idempotency for an
   * append repeated at an exact revision or "no stream" (none for "stream exists": the adapter must
   * not rely on it).
   */
  append(streamName: string, events: ReadonlyArray<EventData<EventType>>, expected: unknown): AppendResult {
    this.counts.appends++;
    const records = this.streamRecords(streamName) ?? [];
    const current = BigInt(records.length) - 1n;
    const wrong = (): never => {
      throw new WrongExpectedVersionError(undefined, {
        streamName,
        expected: expected as bigint,
        current: current < 0n ? NO_STREAM : current,
      });
    };
    if (expected === NO_STREAM || typeof expected === 'bigint') {
      const at = expected === NO_STREAM ? -1n : expected;
      if (at !== current) {
        // The server's idempotency: the same ids already right after the expected revision.
        const following = records.slice(Number(at + 1n), Number(at + 1n) + events.length);
        const same =
          at < current &&
          following.length === events.length &&
          following.every((r, i) => r.id === events[i]!.id.toLowerCase());
        if (!same) return wrong();
        this.counts.idempotent++;
        return {
          success: true,
          nextExpectedRevision: following[following.length - 1]!.revision,
          position: undefined,
        };
      }
    } else if (expected === STREAM_EXISTS && current < 0n) wrong();
    const written = this.write(
      streamName,
      events.map((e) => ({
        id: e.id,
        type: e.type,
        contentType: e.contentType,
        data: e.contentType === 'application/json' ? JSON.stringify(e.data) : Buffer.from(e.data).toString(),
        metadata: e.metadata === undefined ? '' : JSON.stringify(e.metadata),
      })),
    );
    this.counts.written += written.length;
    const first = written[0]!;
    const last = written[written.length - 1]!;
    // Like the server: the answer's position is not that of the last event.
    return {
      success: true,
      nextExpectedRevision: last.revision,
      position: { commit: first.logPosition, prepare: first.logPosition },
    };
  }

  /**
   * Makes the next append (to `stream`, or to any stream) go wrong as appends on a cluster do:
   * - `reply-lost`: stored, but the answer never comes (the client sees its deadline pass);
   * - `lands-later`: the server answers with its commit timeout, and the write commits when
   *   `landPending()` is called (if its expected revision still holds then);
   * - `unsent`: no connection, so nothing reached the server.
   */
  fault(kind: AppendFault, stream?: string, meanwhile?: () => void): void {
    this.faults.push({ kind, stream, meanwhile });
  }

  /** The fault for an append to `stream`, if one is set; what happens meanwhile happens now. */
  takeFault(stream: string): AppendFault | undefined {
    const i = this.faults.findIndex((f) => f.stream === undefined || f.stream === stream);
    if (i < 0) return undefined;
    const [fault] = this.faults.splice(i, 1);
    fault!.meanwhile?.();
    return fault!.kind;
  }

  /** Commits the writes left pending by `lands-later` faults; returns how many were stored. */
  landPending(): number {
    const pending = this.pending.splice(0);
    let landed = 0;
    for (const land of pending) {
      try {
        land();
        landed++;
      } catch {
        // its expected revision no longer held: the server refuses it, nobody hears of it
      }
    }
    return landed;
  }

  /** Resolves on the next write. */
  nextWrite(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Index of the first record at or after `position`; throws if `position` is inside a record. */
  indexAt(position: bigint): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.log[mid]!.logPosition < position) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.log.length && this.log[lo]!.logPosition !== position)
      throw new Error(`fake EventStoreDB: position ${position} is not the start of a record`);
    if (lo === this.log.length && position > this.nextPosition)
      throw new Error(`fake EventStoreDB: position ${position} is beyond the end of the log`);
    return lo;
  }
}

function toRecorded(record: LogRecord): AllStreamResolvedEvent['event'] {
  const isJson = record.contentType === 'application/json';
  return {
    streamId: record.streamId,
    id: record.id,
    revision: record.revision,
    type: record.type,
    isJson,
    created: record.created,
    data: isJson ? (JSON.parse(record.data) as Record<string, unknown>) : Buffer.from(record.data),
    metadata:
      record.metadata.length === 0 ? undefined : (JSON.parse(record.metadata) as Record<string, unknown>),
    position: { commit: record.logPosition, prepare: record.transactionPosition },
  } as AllStreamResolvedEvent['event'];
}

type Closable = Readable & { cancel(): Promise<void>; unsubscribe(): Promise<void> };

/** The client: the calls the adapter makes, answered from a `FakeEventStoreDb`. */
export class FakeEventStoreDbClient implements EventStoreDbClient {
  private readonly open = new Set<{ stop: () => void }>();
  private disposed = false;
  /** Connected to a node that lost its leadership (see `FakeEventStoreDb.election`). */
  onFollower = false;

  constructor(private readonly server: FakeEventStoreDb) {}

  private fail(requiresLeader?: boolean): void {
    if (this.server.unreachable)
      throw new UnavailableError(undefined, '14 UNAVAILABLE: No connection established (fake)');
    if (this.onFollower && requiresLeader === true) {
      this.onFollower = false; // the real client reconnects to the leader the error names
      this.server.counts.notLeader++;
      throw notLeader();
    }
  }

  /** What this client's node has of `records`: all of it on the leader, the replicated part on a follower. */
  private visible<R extends LogRecord>(
    records: readonly R[],
    requiresLeader: boolean | undefined,
  ): readonly R[] {
    const has = this.server.followerHas;
    if (!this.onFollower || requiresLeader === true || has === undefined) return records;
    this.server.counts.followerReads++;
    return records.filter((r) => r.index < has);
  }

  appendToStream = async <KnownEventType extends EventType = EventType>(
    streamName: string,
    event: EventData<KnownEventType> | Array<EventData<KnownEventType>>,
    options: AppendToStreamOptions = {},
  ): Promise<AppendResult> => {
    await nextTurn();
    this.fail(options.requiresLeader);
    const events: Array<EventData<EventType>> = Array.isArray(event) ? event : [event];
    const size = events.reduce((sum, e) => sum + appendSize(e), 0);
    if (size > this.server.maxAppendSize)
      throw MaxAppendSizeExceededError.fromMaxAppendSize(this.server.maxAppendSize);
    const expected = options.expectedRevision ?? 'any';
    const fault = this.server.takeFault(streamName);
    if (fault === 'unsent')
      throw new UnavailableError(undefined, '14 UNAVAILABLE: No connection established (fake)');
    if (fault === 'lands-later') {
      // The leader wrote it but replication did not confirm in time: it commits later (or never).
      this.server.pending.push(() => this.server.append(streamName, events, expected));
      throw new TimeoutError(grpcError(4, 'Commit timeout (fake)'));
    }
    const result = this.server.append(streamName, events, expected);
    if (fault === 'reply-lost') throw new DeadlineExceededError(grpcError(4, 'Deadline exceeded (fake)'));
    return result;
  };

  readStream = <KnownEventType extends EventType = EventType>(
    streamName: string,
    options: ReadStreamOptions = {},
    readableOptions: ReadableOptions = {},
  ): StreamingRead<ResolvedEvent<KnownEventType>> => {
    const server = this.server;
    const { fromRevision = START, direction = 'forwards', maxCount = Number.MAX_SAFE_INTEGER } = options;
    const fail = (): void => this.fail(options.requiresLeader);
    const visible = <R extends LogRecord>(r: readonly R[]) => this.visible(r, options.requiresLeader);
    return this.readable(async function* (stopped) {
      await nextTurn();
      fail();
      const stored = server.streamRecords(streamName);
      const records = stored === undefined ? undefined : visible(stored);
      if (records === undefined || records.length === 0) throw new StreamNotFoundError(undefined, streamName);
      const last = records.length - 1;
      let i =
        fromRevision === START
          ? direction === 'forwards'
            ? 0
            : -1
          : fromRevision === END
            ? direction === 'forwards'
              ? records.length
              : last
            : Number(fromRevision);
      let count = 0;
      // Backwards from past the end, the server reads the window below the revision asked for.
      if (direction === 'backwards' && i > last) {
        count = Math.min(i - last, Number(maxCount));
        i -= count;
      }
      while (i >= 0 && i < records.length && count < Number(maxCount) && !stopped()) {
        yield { event: toRecorded(records[i]!) };
        count++;
        i += direction === 'forwards' ? 1 : -1;
        if (count % 16 === 0) await nextTurn();
      }
    }, readableOptions);
  };

  readAll = (
    options: ReadAllOptions = {},
    readableOptions: ReadableOptions = {},
  ): StreamingRead<AllStreamResolvedEvent> => {
    const server = this.server;
    const { fromPosition = START, direction = 'forwards', maxCount = Number.MAX_SAFE_INTEGER } = options;
    const fail = (): void => this.fail(options.requiresLeader);
    const visible = <R extends LogRecord>(r: readonly R[]) => this.visible(r, options.requiresLeader);
    return this.readable(async function* (stopped) {
      await nextTurn();
      fail();
      const log = visible(server.log);
      // Forwards from a position includes the record there; backwards excludes it.
      let i =
        fromPosition === START
          ? direction === 'forwards'
            ? 0
            : -1
          : fromPosition === END
            ? direction === 'forwards'
              ? log.length
              : log.length - 1
            : direction === 'forwards'
              ? server.indexAt(fromPosition.commit)
              : server.indexAt(fromPosition.commit) - 1;
      let count = 0;
      while (i >= 0 && i < log.length && count < Number(maxCount) && !stopped()) {
        yield { event: toRecorded(log[i]!) };
        count++;
        i += direction === 'forwards' ? 1 : -1;
        if (count % 16 === 0) await nextTurn();
      }
    }, readableOptions);
  };

  subscribeToAll = (
    options: SubscribeToAllOptions = {},
    readableOptions: ReadableOptions = {},
  ): AllStreamSubscription => {
    const server = this.server;
    const { fromPosition = START, filter } = options;
    const fail = (): void => this.fail();
    const dropped = (): Promise<void> => this.dropped();
    const stoppedPromise = (stopped: () => boolean): Promise<void> => this.stoppedPromise(stopped);
    const matches = (record: LogRecord): boolean => {
      if (!filter) return true;
      const subject = filter.filterOn === 'eventType' ? record.type : record.streamId;
      if ('regex' in filter) return new RegExp(filter.regex).test(subject);
      return filter.prefixes.some((p) => subject.startsWith(p));
    };
    let readable: Closable | undefined = undefined;
    readable = this.readable(async function* (stopped) {
      await nextTurn();
      fail();
      let i =
        fromPosition === START
          ? 0
          : fromPosition === END
            ? server.log.length
            : server.indexAt(fromPosition.commit) + 1; // subscriptions exclude their start
      setImmediate(() => readable?.emit('confirmation'));
      while (!stopped()) {
        if (i < server.log.length) {
          const record = server.log[i++]!;
          if (matches(record)) yield { event: toRecorded(record) };
          continue;
        }
        await Promise.race([server.nextWrite(), dropped(), stoppedPromise(stopped)]);
        if (server.unreachable) fail();
      }
    }, readableOptions);
    return readable;
  };

  dispose = async (): Promise<void> => {
    this.disposed = true;
    for (const reader of this.open) reader.stop();
    this.open.clear();
  };

  private dropWaiters: Array<() => void> = [];

  /** Makes open subscriptions notice that the server became unreachable. */
  dropSubscriptions(): void {
    const waiters = this.dropWaiters;
    this.dropWaiters = [];
    for (const wake of waiters) wake();
  }

  private dropped(): Promise<void> {
    return new Promise((resolve) => this.dropWaiters.push(resolve));
  }

  private stoppedPromise(stopped: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (stopped()) resolve();
        else setTimeout(check, 5).unref();
      };
      check();
    });
  }

  /** A readable of what `produce` yields, with the client's cancel/unsubscribe, ended by dispose(). */
  private readable<T>(
    produce: (stopped: () => boolean) => AsyncGenerator<T>,
    readableOptions: ReadableOptions,
  ): Closable {
    let stop = false;
    const stopped = (): boolean => stop || this.disposed;
    const reader = {
      stop: () => {
        stop = true;
      },
    };
    this.open.add(reader);
    const source = produce(stopped);
    const readable = Readable.from(source, { objectMode: true, ...readableOptions }) as Closable;
    readable.cancel = async () => {
      stop = true;
      this.open.delete(reader);
    };
    readable.unsubscribe = readable.cancel;
    readable.once('close', () => this.open.delete(reader));
    return readable;
  }
}
