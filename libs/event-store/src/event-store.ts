/**
 * The event-store port. Every bounded context appends through it; every adapter
 * (the embedded SQLite one and the EventStoreDB/KurrentDB one) implements it and
 * passes the one conformance suite in `libs/event-store/test/conformance.ts`.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Who did what, why and when. Time comes from the caller, never from the store. */
export interface EventMetadata {
  /** Ties together every event caused by one user intention (one request). */
  readonly correlationId: string;
  /** The id of the command or event that caused this one, when known. */
  readonly causationId?: string;
  /** The acting principal, for events written on a principal's behalf. */
  readonly principalId?: string;
  /** The agency the principal acts for. */
  readonly agencyId?: string;
  /** When the fact happened in the domain (ISO-8601 with offset). */
  readonly occurredAt: string;
  /** Further plain-JSON metadata (request id, idempotency key, ...). */
  readonly [key: string]: JsonValue | undefined;
}

/**
 * An event as a caller hands it to `append`.
 *
 * What the store promises about event ids (compared case-insensitively), every adapter alike:
 * - a retried append (same stream, same ids in the same order, same expectation) is answered
 *   with the first append's result and stores nothing new; also when the first attempt ended in
 *   `EventStoreOutcomeUnknown`, and also when it lands after the retry was sent;
 * - an append some of whose ids are stored in its stream where the expectation would put them,
 *   but not as that same append, is refused with `DuplicateEventId`, storing nothing.
 *
 * Uniqueness across streams is the caller's: an id is a random UUID, or derived (keyed hash)
 * from something unique to one append in one stream, such as an Idempotency-Key together with
 * the stream (see the command executor). Adapters that index ids (SQLite, PostgreSQL) also refuse
 * an id stored anywhere else with `DuplicateEventId`; EventStoreDB has no index of ids, and
 * checking there would cost a quorum write per event, so it stores one append with one write and
 * does not look at other streams or earlier revisions.
 */
export interface NewEvent {
  /** UUID; see above for what the store checks. The key of idempotent retries. */
  readonly id: string;
  readonly type: string;
  /** Version of the payload shape of this type, from 1. */
  readonly schemaVersion: number;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
}

/** An event as the store returns it. */
export interface RecordedEvent {
  readonly id: string;
  readonly stream: string;
  /** 0-based position of the event inside its stream. */
  readonly revision: number;
  /** Position of the event in the whole store: 1 or more, strictly increasing in commit order. */
  readonly position: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: JsonObject;
  readonly metadata: EventMetadata;
  /** When the store committed the event (ISO-8601, UTC). */
  readonly recordedAt: string;
}

/**
 * What the caller believes about the stream before appending:
 * - `'no-stream'`: the stream has no events yet;
 * - `'stream-exists'`: it has at least one;
 * - a number: the revision of its last event, exactly.
 * There is deliberately no "any": domain paths always state what they decided on.
 */
export type ExpectedRevision = 'no-stream' | 'stream-exists' | number;

export interface AppendOptions {
  readonly expectedRevision: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event now in the stream: the next expected revision. */
  readonly revision: number;
  /** Global position of the last event appended (or found, on an idempotent retry). */
  readonly position: number;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** Revision to start from (inclusive); `'start'` or `'end'`. Default: start (forwards) or end (backwards). */
  readonly from?: number | 'start' | 'end';
  readonly direction?: Direction;
  readonly maxCount?: number;
}

/** Where a read of the whole store begins: at the start, or after a position already processed. */
export type AllPosition = 'start' | { readonly after: number };

export interface EventFilter {
  /** Only events of these types. */
  readonly eventTypes?: readonly string[];
  /** Only events whose stream name starts with one of these prefixes. */
  readonly streamPrefixes?: readonly string[];
}

export interface ReadAllOptions {
  readonly fromPosition?: AllPosition;
  readonly maxCount?: number;
  readonly filter?: EventFilter;
}

export interface SubscribeOptions {
  /** `'end'` delivers only events appended after the subscription started. */
  readonly fromPosition?: AllPosition | 'end';
  readonly filter?: EventFilter;
}

/**
 * A catch-up subscription: stored events in order, then live ones. Consume it
 * with `for await`; the store reads the next batch only when the consumer asks
 * for more (back-pressure). `close()` (or `break`) ends the iteration.
 */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
  readonly closed: boolean;
}

export interface EventStoreHealth {
  readonly ok: boolean;
  readonly adapter: string;
  /** Position of the last stored event, 0 when empty. */
  readonly headPosition?: number;
  readonly detail?: string;
  /**
   * Records that other programs wrote into the store's ordinary streams, passed over by readAll and
   * subscriptions since the store was opened (EventStoreDB, where the ledger does not own the
   * database alone). Absent where the store holds nothing but the ledger's events.
   */
  readonly foreignRecordsSkipped?: number;
}

export interface EventStore {
  append(stream: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  subscribe(options?: SubscribeOptions): Subscription;
  /** Position of the last stored event, 0 when the store is empty. */
  headPosition(): Promise<number>;
  /**
   * Position of the last stored event of one of these types, 0 when there is none: what a read
   * model that follows only these types must have covered to reflect everything stored so far
   * (events of other types after it do not change it). Absent where the adapter cannot say it
   * cheaply; callers then use `headPosition()`, which is never lower.
   */
  lastPositionOf?(eventTypes: readonly string[]): Promise<number>;
  /**
   * The highest position ever handed out, where the adapter keeps it apart from the events
   * (SQLite): above the head when events at the end were deleted, so that the audit log can tell
   * a deleted tail from an older copy of the store. Absent where positions cannot be reused.
   */
  positionsHandedOut?(): Promise<number | undefined>;
  /**
   * True when an event of the store starts at exactly this position: where positions are not
   * every integer (EventStoreDB's are byte offsets in its log), only such a position can be
   * resumed after, and a reader that kept one checks it before it resumes. Absent where every
   * position up to the head is a valid place to resume (SQLite).
   */
  isRecordStart?(position: number): Promise<boolean>;
  health(): Promise<EventStoreHealth>;
  /** Ends every subscription and releases the store's resources. */
  close(): Promise<void>;
}

/** Injection token for the configured adapter. */
export const EVENT_STORE = Symbol('EVENT_STORE');
