import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  WrongExpectedVersionError,
  type AllStreamRecordedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type EventData,
  type Position,
  type StreamingRead,
} from '@eventstore/db-client';
import type { ReadableOptions } from 'node:stream';
import {
  DuplicateEventId,
  EventStoreClosed,
  EventStoreError,
  EventStoreOutcomeUnknown,
  EventStoreUnavailable,
  InvalidEventStoreInput,
  WrongExpectedRevision,
} from '../errors';
import type {
  AppendOptions,
  AppendResult,
  EventFilter,
  EventStore,
  EventStoreHealth,
  ExpectedRevision,
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
  matchesFilter,
  serialise,
} from '../validation';
import {
  DEFAULT_MAX_APPEND_SIZE,
  DEFAULT_RECONNECT,
  maxAppendSizeOf,
  checkLedgerStreamName,
  clientConnectionString,
  connectionStringProblem,
  isForeignRecord,
  isLedgerRecord,
  isNotLeader,
  isStreamNotFound,
  outcomeUnknownReason,
  reconnectDelay,
  serverFilter,
  toEsdbPosition,
  toEventData,
  toPortPosition,
  toRecordedEvent,
  toRevision,
  toStoreError,
  unavailableReason,
  appendBytes,
  withUnaryAppends,
  type ReconnectOptions,
} from './eventstoredb-mapping';

/** The part of @eventstore/db-client's client this adapter uses (a test may hand in its own). */
export type EventStoreDbClient = Pick<
  EventStoreDBClient,
  'appendToStream' | 'readStream' | 'readAll' | 'subscribeToAll' | 'dispose'
>;

export interface EventStoreDbEventStoreOptions {
  /** `esdb://`, `esdb+discover://`, `kurrentdb://` or `kurrentdb+discover://` connection string. */
  readonly connectionString?: string;
  /** A client to use instead of one made from `connectionString` (tests); `close()` disposes it. */
  readonly client?: EventStoreDbClient;
  /** Records read per request by readStream, readAll and headPosition (at least 2). Default 512. */
  readonly batchSize?: number;
  /** Longest wait for one answer of the server before `EventStoreUnavailable`. Default 10 s. */
  readonly operationTimeoutMs?: number;
  /** Longest wait of `health()`. Default 2 s. */
  readonly healthTimeoutMs?: number;
  /** Events a subscription buffers ahead of its consumer before it stops reading. Default 64. */
  readonly subscriptionBufferSize?: number;
  readonly reconnect?: ReconnectOptions;
  /**
   * Told of each record of another program that readAll or a subscription passed over (it is
   * counted in `health().foreignRecordsSkipped` either way). For a warning in the log.
   */
  readonly onForeignRecord?: (record: ForeignRecord) => void;
  /**
   * The server's MaxAppendSize: the data and metadata bytes one append may carry. Checked before
   * anything is sent. Default: the `maxAppendSize` option of the connection string, else the
   * server's own default, 1 MiB.
   */
  readonly maxAppendSize?: number;
}

/** A record another program wrote into an ordinary stream; never its content. */
export interface ForeignRecord {
  readonly position: number;
  readonly type: string;
}

const ADAPTER = 'eventstoredb';
/** Attempts of a `'stream-exists'` append that keeps meeting new events. */
const STREAM_EXISTS_ATTEMPTS = 16;
/** A scan from the end of the log fetches little at a time: it usually stops at the first record. */
const HEAD_SCAN: ReadableOptions = { highWaterMark: 4 };
const ABORTED: unique symbol = Symbol('aborted');
/**
 * Every read and append of the port goes to the leader: after an election the client stays on
 * the node it was connected to, now a follower, whose reads can be behind the writes just made.
 * Subscriptions alone may be served by a follower (they are ordered and catch up).
 */
const LEADER = { requiresLeader: true } as const;
/** Attempts of one request that a follower refuses with `NotLeaderError` (the client then reconnects to the leader). */
const LEADER_ATTEMPTS = 3;
const ignore = (): void => undefined;

interface Found {
  readonly revision: number;
  readonly position: number;
}

/**
 * The production adapter: EventStoreDB 22.10+ or KurrentDB through
 * @eventstore/db-client (gRPC). How the port maps onto EventStoreDB:
 *
 * - revisions are EventStoreDB's stream revisions, and the expected revision is
 *   checked by the server (`'no-stream'`, `'stream-exists'`, exact), so writers in
 *   any number of processes get exact revisions;
 * - positions are commit positions in the transaction log (see `toPortPosition`):
 *   strictly increasing, not dense;
 * - event ids are EventStoreDB's event ids. A retried append is recognised by the
 *   server's own idempotency (the same ids right after the exact revision it
 *   expects), and by the adapter's look at the stream when the server refuses it;
 *   ids are not checked against other streams (see the port's promise on event
 *   ids): one quorum write per append;
 * - readAll reads `$all` in pages and filters on the client (the client library
 *   has no filtered read); subscriptions are `$all` catch-up subscriptions with a
 *   server-side filter, consumed with back-pressure and re-opened, after a
 *   bounded back-off, from the last event delivered;
 * - an unreachable or unresponsive server is `EventStoreUnavailable`.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDbClient;
  private readonly batchSize: number;
  private readonly operationTimeoutMs: number;
  private readonly healthTimeoutMs: number;
  private readonly readable: ReadableOptions;
  private readonly reconnect: Required<ReconnectOptions>;
  private readonly maxAppendSize: number;
  private readonly onForeignRecord: ((record: ForeignRecord) => void) | undefined;
  private foreignRecordsSkipped = 0;
  private readonly subscriptions = new Set<Subscription>();
  private readonly appending = new Set<Promise<void>>();
  /**
   * Appends whose answer was lost (see `resolveUnknown`): looked for on the leader, found stored,
   * ruled out by a later write, left unknown.
   */
  readonly outcomes = { checked: 0, landed: 0, ruledOut: 0, unknown: 0 };
  /** Refuses new work. */
  private isClosed = false;
  /** The client is disposed: reads cut short by it fail instead of looking complete. */
  private disposed = false;

  constructor(options: EventStoreDbEventStoreOptions) {
    let fromUrl: number | undefined;
    if (options.client) {
      this.client = options.client;
    } else {
      const url = options.connectionString ?? '';
      const problem = connectionStringProblem(url);
      if (problem !== undefined) throw new InvalidEventStoreInput('connectionString', problem);
      this.client = withUnaryAppends(EventStoreDBClient.connectionString(clientConnectionString(url)));
      fromUrl = maxAppendSizeOf(url);
    }
    this.maxAppendSize = options.maxAppendSize ?? fromUrl ?? DEFAULT_MAX_APPEND_SIZE;
    this.onForeignRecord = options.onForeignRecord;
    this.batchSize = Math.max(2, Math.floor(options.batchSize ?? 512));
    this.operationTimeoutMs = options.operationTimeoutMs ?? 10_000;
    this.healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
    this.readable = { highWaterMark: Math.max(1, Math.floor(options.subscriptionBufferSize ?? 64)) };
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  // -------------------------------------------------------------------------------------------
  // append
  // -------------------------------------------------------------------------------------------

  async append(stream: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    this.assertOpen();
    const request = checkAppend(stream, events, options);
    checkLedgerStreamName(request.stream);
    const data = request.events.map((event, i) => {
      serialise(event, `events[${i}]`); // the port's size limit, before anything is written
      return toEventData(event);
    });
    const bytes = data.reduce((sum, event) => sum + appendBytes(event), 0);
    if (bytes > this.maxAppendSize)
      throw new InvalidEventStoreInput(
        'events',
        `together are ${bytes} bytes; the server accepts at most ${this.maxAppendSize} in one append (its MaxAppendSize)`,
      );
    const work = this.appendChecked(request.stream, request.events, data, request.expectedRevision);
    const settled = work.then(ignore, ignore);
    this.appending.add(settled);
    void settled.then(() => this.appending.delete(settled));
    return work.catch((error: unknown) => {
      throw this.storeError(error);
    });
  }

  /**
   * One write: the events at the exact revision the expectation names (`'stream-exists'` is
   * first turned into one). The server stores them, or recognises the retry of an append stored
   * there already, or refuses with the revision it has; a refusal is then looked into (a
   * concurrent copy of this very append, or some of its ids stored where they would go).
   */
  private async appendChecked(
    stream: string,
    events: readonly NewEvent[],
    data: readonly EventData[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    const ids = events.map((e) => e.id.toLowerCase());
    for (let attempt = 1; ; attempt++) {
      let expectedRevision: AppendExpectedRevision;
      if (expected === 'no-stream') expectedRevision = NO_STREAM;
      else if (typeof expected === 'number') expectedRevision = BigInt(expected);
      else {
        // 'stream-exists' goes to the server as the exact revision at which none of these ids
        // was in the stream: the server's own "stream exists" check would let a concurrent
        // copy of this append (a client's retry) be stored a second time.
        const { last, found } = await this.scan(stream, ids);
        const earlier = this.sameAppend(stream, ids, expected, found);
        if (earlier) return earlier;
        if (last === undefined) throw new WrongExpectedRevision(stream, expected, 'no-stream');
        expectedRevision = BigInt(last);
      }
      let revision: number;
      try {
        const result = await this.withTimeout(
          this.onLeader(() => this.client.appendToStream(stream, [...data], { expectedRevision, ...LEADER })),
          'appending',
        );
        revision = toRevision(result.nextExpectedRevision, `stream ${JSON.stringify(stream)}`);
      } catch (error) {
        const unknown = outcomeUnknownReason(error);
        if (unknown !== undefined) {
          const sentAt = expectedRevision === NO_STREAM ? -1 : Number(expectedRevision);
          const resolved = await this.resolveUnknown(stream, ids, expected, sentAt, unknown);
          if (!('moved' in resolved)) return resolved;
          if (expected === 'stream-exists' && attempt < STREAM_EXISTS_ATTEMPTS) continue;
          throw new WrongExpectedRevision(stream, expected, resolved.moved ?? 'no-stream');
        }
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        // A concurrent copy of this append may be what is in the way.
        const earlier = this.sameAppend(stream, ids, expected, (await this.scan(stream, ids)).found);
        if (earlier) return earlier;
        const actual =
          error.actualVersion === NO_STREAM
            ? ('no-stream' as const)
            : toRevision(error.actualVersion, `stream ${JSON.stringify(stream)}`);
        if (expected === 'stream-exists' && actual !== 'no-stream' && attempt < STREAM_EXISTS_ATTEMPTS)
          continue;
        throw new WrongExpectedRevision(stream, expected, actual);
      }
      try {
        return { revision, position: await this.positionOf(stream, revision) };
      } catch (error) {
        // Stored (the server said so), but where in the log is not known: a retry is answered as one.
        const reason = unavailableReason(error);
        if (reason === undefined) throw error;
        throw new EventStoreOutcomeUnknown(stream, `stored, but its position could not be read (${reason})`);
      }
    }
  }

  /**
   * An append was sent and its answer lost: looks on the leader for its events.
   * - all there, where the expectation put them: the append's result (it landed);
   * - some there: `DuplicateEventId` (see `sameAppend`);
   * - none, and the stream moved past the revision the append was sent at: `{ moved }`. The
   *   append can no longer land (the server checks the exact revision whenever it gets to it),
   *   so it was not stored and the caller hears of the conflict;
   * - none, and the stream still where the append expected it: `EventStoreOutcomeUnknown`. A write
   *   whose commit timed out can still commit later; not finding it now proves nothing.
   */
  private async resolveUnknown(
    stream: string,
    ids: readonly string[],
    expected: ExpectedRevision,
    sentAt: number,
    reason: string,
  ): Promise<AppendResult | { moved: number | undefined }> {
    let scanned: Awaited<ReturnType<EventStoreDbEventStore['scan']>>;
    try {
      scanned = await this.withTimeout(this.scan(stream, ids), 'looking for an append whose answer was lost');
    } catch (error) {
      const why = unavailableReason(error) ?? (error instanceof Error ? error.name : 'error');
      throw new EventStoreOutcomeUnknown(
        stream,
        `${reason}; looking for it on the leader failed too (${why})`,
      );
    }
    this.outcomes.checked++;
    const earlier = this.sameAppend(stream, ids, expected, scanned.found);
    if (earlier) {
      this.outcomes.landed++;
      return earlier;
    }
    if ((scanned.last ?? -1) !== sentAt) {
      this.outcomes.ruledOut++;
      return { moved: scanned.last };
    }
    this.outcomes.unknown++;
    throw new EventStoreOutcomeUnknown(stream, `${reason}; not found on the leader, and it may still commit`);
  }

  /**
   * Given where `ids` are stored in `stream`: the result of this very append if
   * it is stored already (every id, in order, where the expectation put them);
   * a `DuplicateEventId` if only some of its ids are, or elsewhere; undefined if
   * none is.
   */
  private sameAppend(
    stream: string,
    ids: readonly string[],
    expected: ExpectedRevision,
    found: ReadonlyMap<string, Found>,
  ): AppendResult | undefined {
    if (found.size === 0) return undefined;
    const first = found.get(ids[0]!);
    const start = first?.revision ?? -1;
    const same =
      first !== undefined &&
      ids.every((id, i) => found.get(id)?.revision === start + i) &&
      (expected === 'no-stream' ? start === 0 : expected === 'stream-exists' ? true : start === expected + 1);
    if (!same) {
      const clash = ids.find((id) => found.has(id))!;
      throw new DuplicateEventId(clash, stream, found.get(clash)!.revision);
    }
    return found.get(ids[ids.length - 1]!);
  }

  /**
   * Reads `stream` from its end: its last revision when the read began, and
   * where each of `ids` is stored. Unless all are found, the whole stream is
   * read, so "none found" holds for every revision up to `last`.
   */
  private scan(
    stream: string,
    ids: readonly string[],
  ): Promise<{ last: number | undefined; found: Map<string, Found> }> {
    return this.onLeader(() => this.scanOnce(stream, ids));
  }

  private async scanOnce(
    stream: string,
    ids: readonly string[],
  ): Promise<{ last: number | undefined; found: Map<string, Found> }> {
    const wanted = new Set(ids);
    const found = new Map<string, Found>();
    let last: number | undefined;
    try {
      const read = this.client.readStream(
        stream,
        { fromRevision: END, direction: BACKWARDS, ...LEADER },
        this.readable,
      );
      for await (const { event } of this.drain(read)) {
        if (!event) continue;
        const where = `event ${event.id} in ${JSON.stringify(stream)}`;
        last ??= toRevision(event.revision, where);
        const id = event.id.toLowerCase();
        if (wanted.has(id))
          found.set(id, {
            revision: toRevision(event.revision, where),
            position: toPortPosition(event.position, where),
          });
        if (found.size === wanted.size) break;
      }
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    return { last, found };
  }

  /** The log position of one stored event, read back (an append's answer does not say it reliably). */
  private async positionOf(stream: string, revision: number): Promise<number> {
    const [event] = await this.onLeader(() =>
      this.page(this.client.readStream(stream, { fromRevision: BigInt(revision), maxCount: 1, ...LEADER })),
    );
    return toPortPosition(event?.event?.position, `event ${revision} of ${JSON.stringify(stream)}`);
  }

  // -------------------------------------------------------------------------------------------
  // reads
  // -------------------------------------------------------------------------------------------

  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const q = checkReadStream(stream, options);
    return { [Symbol.asyncIterator]: () => this.streamEvents(q) };
  }

  private async *streamEvents(q: ReturnType<typeof checkReadStream>): AsyncGenerator<RecordedEvent> {
    const backwards = q.direction === 'backwards';
    // Forwards from the end, or backwards from before the start, there is nothing.
    if ((q.from === 'end' && !backwards) || (q.from === 'start' && backwards)) return;
    let from: bigint | typeof START | typeof END =
      q.from === 'start' ? START : q.from === 'end' ? END : BigInt(q.from);
    let remaining = q.maxCount ?? Infinity;
    if (backwards && typeof from === 'bigint' && remaining > 0) {
      // The server reads backwards from past the end as an empty window; the port reads from the last event.
      const [newest] = await this.onLeader(() =>
        this.page(
          this.client.readStream(q.stream, {
            fromRevision: END,
            direction: BACKWARDS,
            maxCount: 1,
            ...LEADER,
          }),
        ),
      ).catch((error: unknown) => {
        throw this.storeError(error);
      });
      if (newest?.event === undefined) return;
      if (newest.event.revision < from) from = newest.event.revision;
    }
    let refusals = 0;
    while (remaining > 0) {
      this.assertOpen();
      const limit = Math.min(this.batchSize, remaining);
      let count = 0;
      let last: number | undefined;
      try {
        const read = this.client.readStream(
          q.stream,
          { fromRevision: from, direction: backwards ? BACKWARDS : FORWARDS, maxCount: limit, ...LEADER },
          this.readable,
        );
        for await (const { event } of this.drain(read)) {
          if (!event) continue;
          const recorded = toRecordedEvent(event);
          count++;
          last = recorded.revision;
          yield recorded;
        }
      } catch (error) {
        if (isStreamNotFound(error)) return;
        // Refused by a follower before anything was read: the client has reconnected to the leader.
        if (count === 0 && isNotLeader(error) && ++refusals < LEADER_ATTEMPTS) continue;
        throw this.storeError(error);
      }
      refusals = 0;
      remaining -= count;
      if (count < limit || last === undefined || (backwards && last === 0)) return;
      from = BigInt(backwards ? last - 1 : last + 1);
    }
  }

  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent> {
    this.assertOpen();
    const q = checkReadAll(options);
    return { [Symbol.asyncIterator]: () => this.allEvents(q) };
  }

  private async *allEvents(q: ReturnType<typeof checkReadAll>): AsyncGenerator<RecordedEvent> {
    let remaining = q.maxCount ?? Infinity;
    if (remaining === 0 || serverFilter(q.filter) === 'nothing') return;
    // The client library reads $all without a filter: pages of records, filtered here.
    let cursor = BigInt(q.after);
    let from: Position | typeof START = q.after === 0 ? START : toEsdbPosition(q.after);
    let refusals = 0;
    for (;;) {
      this.assertOpen();
      let seen = 0;
      let last: Position | undefined;
      try {
        const read = this.client.readAll(
          { fromPosition: from, maxCount: this.batchSize, ...LEADER },
          this.readable,
        );
        for await (const { event } of this.drain(read)) {
          seen++;
          if (!event) continue;
          last = event.position;
          // Reads of $all include the record they start at: it was delivered already.
          if (event.position.commit <= cursor) continue;
          cursor = event.position.commit;
          if (!this.wanted(event, q.filter)) continue;
          const recorded = this.ledgerEvent(event);
          if (recorded === undefined) continue;
          yield recorded;
          if (--remaining === 0) return;
        }
      } catch (error) {
        if (seen === 0 && isNotLeader(error) && ++refusals < LEADER_ATTEMPTS) continue;
        throw this.storeError(error);
      }
      refusals = 0;
      if (seen < this.batchSize || last === undefined) return;
      from = last;
    }
  }

  subscribe(options?: SubscribeOptions): Subscription {
    this.assertOpen();
    const q = checkSubscribe(options);
    const filter = serverFilter(q.filter);
    // 'end' is the store's end when subscribe() is called: asked now, not on the first next().
    const head = q.from === 'end' ? this.withTimeout(this.rawHead(), 'reading the head') : undefined;
    head?.catch(ignore); // awaited (and retried) by the subscription
    let first = head;
    const subscription: Subscription = new EventStoreDbSubscription({
      start: () => {
        if (typeof q.from === 'number') return Promise.resolve(BigInt(q.from));
        if (q.from === 'start') return Promise.resolve(0n);
        const start = first ?? this.withTimeout(this.rawHead(), 'reading the head');
        first = undefined;
        return start;
      },
      open:
        filter === 'nothing'
          ? undefined
          : (after) =>
              this.client.subscribeToAll(
                { fromPosition: after === 0n ? START : { commit: after, prepare: after }, filter },
                this.readable,
              ),
      accept: (event) => (this.wanted(event, q.filter) ? this.ledgerEvent(event) : undefined),
      reconnect: this.reconnect,
      onClose: () => this.subscriptions.delete(subscription),
    });
    this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    try {
      return await this.onLeader(() => this.lastLedgerPosition());
    } catch (error) {
      throw this.storeError(error);
    }
  }

  async isRecordStart(position: number): Promise<boolean> {
    this.assertOpen();
    if (!Number.isSafeInteger(position) || position < 1) return false;
    try {
      const [first] = await this.onLeader(() =>
        this.page(this.client.readAll({ fromPosition: toEsdbPosition(position), maxCount: 1, ...LEADER })),
      );
      return first?.event?.position.commit === BigInt(position);
    } catch (error) {
      const mapped = this.storeError(error);
      if (mapped instanceof EventStoreError) throw mapped;
      return false; // the server refuses to read from a position inside a record
    }
  }

  async health(): Promise<EventStoreHealth> {
    if (this.isClosed) return { ok: false, adapter: ADAPTER, detail: 'closed' };
    try {
      const headPosition = await this.withTimeout(
        this.onLeader(() => this.lastLedgerPosition()),
        'checking health',
        this.healthTimeoutMs,
      );
      return { ok: true, adapter: ADAPTER, headPosition, foreignRecordsSkipped: this.foreignRecordsSkipped };
    } catch (error) {
      const e = this.storeError(error);
      const detail =
        e instanceof EventStoreUnavailable
          ? `unavailable: ${e.reason}`
          : e instanceof Error
            ? e.message
            : 'unknown error';
      return { ok: false, adapter: ADAPTER, detail };
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    // Appends already accepted finish (or fail), not vanish; a server that does not answer is not waited for.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.appending]),
      new Promise((resolve) => (timer = setTimeout(resolve, this.operationTimeoutMs))),
    ]);
    clearTimeout(timer);
    this.disposed = true;
    await this.client.dispose();
  }

  // -------------------------------------------------------------------------------------------
  // helpers
  // -------------------------------------------------------------------------------------------

  /**
   * The port's event for a record read from `$all`, or undefined for a record another program
   * wrote (counted, and told to `onForeignRecord`): a reader of the whole store passes over it
   * rather than stop on it.
   */
  private ledgerEvent(event: AllStreamRecordedEvent): RecordedEvent | undefined {
    if (!isForeignRecord(event)) return toRecordedEvent(event);
    this.foreignRecordsSkipped++;
    this.onForeignRecord?.({
      position: toPortPosition(event.position, 'a foreign record'),
      type: event.type,
    });
    return undefined;
  }

  private wanted(event: AllStreamRecordedEvent, filter: EventFilter | undefined): boolean {
    return isLedgerRecord(event.streamId, event.type) && matchesFilter(filter, event.type, event.streamId);
  }

  /**
   * Position of the last ledger event, 0 when none: read from the end of `$all`
   * past system records, legacy id claims and other programs' records.
   */
  private async lastLedgerPosition(): Promise<number> {
    const read = this.client.readAll({ fromPosition: END, direction: BACKWARDS, ...LEADER }, HEAD_SCAN);
    for await (const { event } of this.drain(read)) {
      if (event && isLedgerRecord(event.streamId, event.type) && !isForeignRecord(event))
        return toPortPosition(event.position, 'the last event');
    }
    return 0;
  }

  /** Commit position of the last record of any kind, 0n when the log has none. */
  private async rawHead(): Promise<bigint> {
    const [last] = await this.onLeader(() =>
      this.page(this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1, ...LEADER })),
    );
    return last?.event?.position.commit ?? 0n;
  }

  /** Reads a short answer whole; a stream that does not exist reads as empty. */
  private async page<E>(read: StreamingRead<E>): Promise<E[]> {
    const out: E[] = [];
    try {
      for await (const item of this.drain(read)) out.push(item);
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      throw error;
    }
    return out;
  }

  /**
   * Iterates one server read with back-pressure: each item is awaited within the
   * operation timeout, and the server read is cancelled when left early.
   */
  private async *drain<E>(read: StreamingRead<E>): AsyncGenerator<E> {
    read.on('error', ignore); // an error arriving after we stopped listening must not crash the process
    const iterator = read[Symbol.asyncIterator]();
    let complete = false;
    try {
      for (;;) {
        const next = await this.withTimeout(iterator.next(), 'reading');
        // dispose() ends reads in flight as if they were complete: they are not.
        if (this.disposed) throw new EventStoreClosed();
        if (next.done) {
          complete = true;
          return;
        }
        yield next.value;
      }
    } finally {
      if (!complete) read.cancel().catch(ignore);
      read.destroy();
    }
  }

  /**
   * Runs a request again when a follower refused it as not the leader: the client has then
   * reconnected to the leader the refusal named. A follower refuses before it does anything,
   * so an append refused so is not stored and may be sent again as it is.
   */
  private async onLeader<T>(request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (!isNotLeader(error) || attempt >= LEADER_ATTEMPTS) throw error;
      }
    }
  }

  private withTimeout<T>(promise: Promise<T>, what: string, ms = this.operationTimeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EventStoreUnavailable(`no answer within ${ms} ms (${what})`)), ms);
    });
    promise.catch(ignore); // still settles after a timeout: not an unhandled rejection
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private storeError(error: unknown): unknown {
    if (this.disposed && !(error instanceof EventStoreError)) return new EventStoreClosed();
    return toStoreError(error);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new EventStoreClosed();
  }
}

/** What a subscription needs from its store. */
export interface SubscriptionSource {
  /** The commit position after which to deliver (0n: from the start of the log). */
  readonly start: () => Promise<bigint>;
  /** Opens a server subscription after `after`; absent when the filter matches nothing. */
  readonly open: ((after: bigint) => AllStreamSubscription) | undefined;
  /** The port's event for a record from the server, or undefined to pass over it. */
  readonly accept: (event: AllStreamRecordedEvent) => RecordedEvent | undefined;
  readonly reconnect: Required<ReconnectOptions>;
  readonly onClose?: () => void;
  /** Waits (tests shorten it); resolves early when `abort` fires. */
  readonly sleep?: (ms: number, abort: AbortSignal) => Promise<void>;
}

function sleep(ms: number, abort: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      abort.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    abort.addEventListener('abort', done, { once: true });
  });
}

/**
 * A `$all` catch-up subscription. The server subscription is a readable stream
 * read only as fast as the consumer takes events (its buffer is
 * `subscriptionBufferSize`; beyond it gRPC flow control holds the server back).
 * When the connection fails, it is opened again after `reconnectDelay`, from the
 * last record it received, up to `maxAttempts` consecutive failures; a
 * confirmed subscription or a received event resets the count.
 */
export class EventStoreDbSubscription implements Subscription {
  private readonly abort = new AbortController();
  private iterating = false;

  constructor(private readonly source: SubscriptionSource) {}

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.abort.abort();
    this.source.onClose?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.iterating) throw new Error('a subscription can be iterated only once');
    this.iterating = true;
    return this.events();
  }

  private async *events(): AsyncGenerator<RecordedEvent> {
    const { open, accept, reconnect } = this.source;
    const wait = this.source.sleep ?? sleep;
    let after: bigint | undefined;
    let failures = 0;
    try {
      while (!this.closed) {
        let server: AllStreamSubscription | undefined;
        let reason: string;
        try {
          if (after === undefined) {
            const start = await this.unlessClosed(this.source.start());
            if (start === ABORTED) return;
            after = start;
          }
          if (open === undefined) {
            await this.unlessClosed(new Promise<never>(ignore)); // a filter that matches nothing
            return;
          }
          server = open(after);
          server.on('error', ignore); // errors reach us through the iterator; never as an unhandled 'error'
          server.once('confirmation', () => {
            failures = 0;
          });
          const iterator = server[Symbol.asyncIterator]();
          for (;;) {
            const next = await this.unlessClosed(iterator.next());
            if (next === ABORTED) return;
            if (next.done) break;
            failures = 0;
            const record = next.value.event;
            // Re-opened subscriptions may repeat the record they start from.
            if (record === undefined || record.position.commit <= after) continue;
            after = record.position.commit;
            const event = accept(record);
            if (event !== undefined) yield event;
            if (this.closed) return;
          }
          reason = 'the server ended the subscription';
        } catch (error) {
          if (this.closed) return;
          const unavailable = unavailableReason(error);
          if (unavailable === undefined) throw toStoreError(error);
          reason = unavailable;
        } finally {
          if (server !== undefined) {
            server.unsubscribe().catch(ignore);
            server.destroy();
          }
        }
        failures++;
        if (failures > reconnect.maxAttempts)
          throw new EventStoreUnavailable(
            `${reason}; gave up after ${reconnect.maxAttempts} reconnection attempts`,
          );
        await wait(reconnectDelay(failures, reconnect), this.abort.signal);
      }
    } finally {
      await this.close();
    }
  }

  /** The promise's value, or ABORTED as soon as the subscription is closed. */
  private unlessClosed<T>(promise: Promise<T>): Promise<T | typeof ABORTED> {
    const signal = this.abort.signal;
    if (signal.aborted) {
      promise.catch(ignore);
      return Promise.resolve(ABORTED);
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => resolve(ABORTED);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
