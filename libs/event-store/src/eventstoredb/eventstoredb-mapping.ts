import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  EventStoreDBClient,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamNotFoundError,
  TimeoutError,
  UnavailableError,
  convertToCommandError,
  eventTypeFilter,
  jsonEvent,
  streamNameFilter,
  type EventData,
  type Filter,
  type Position,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import {
  EventStoreError,
  EventStoreSchemaError,
  EventStoreUnavailable,
  InvalidEventStoreInput,
} from '../errors';
import type { EventFilter, EventMetadata, JsonObject, NewEvent, RecordedEvent } from '../event-store';

/**
 * The pure half of the EventStoreDB adapter: how the port's positions, filters,
 * events and errors map onto EventStoreDB's, the reconnection schedule, and the
 * connection-string check used at boot. Nothing here talks to a server.
 */

// ---------------------------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------------------------

/**
 * The port's `position` is EventStoreDB's commit position, as a number.
 *
 * Every event appended through gRPC is its own self-committed record in the
 * transaction log, and its commit position is that record's byte offset in the
 * log: unique per event, 1 or more, strictly increasing in commit order, and equal
 * whether the event is read from its stream or from `$all`. That is exactly what
 * the port asks for; it is not dense (consecutive events differ by their size in
 * bytes), and nothing in the port or its consumers needs density: projector
 * checkpoints compare positions and resume with `{ after: n }`.
 *
 * A byte offset stays below 2^53 (Number.MAX_SAFE_INTEGER) for a log of up to
 * 8 PiB; beyond that the adapter refuses rather than round.
 *
 * The way back, `{ commit: n, prepare: n }`, is the position of the record that
 * starts at byte n, which is what EventStoreDB reads `$all` from (forwards
 * inclusively, subscriptions exclusively: the adapter skips the event at n itself
 * either way). So `{ after: n }` must name a position this store gave out:
 * checkpoints kept from another adapter mean nothing here (switching adapters
 * means rebuilding projections). Events of the legacy TCP client's explicit
 * transactions share one commit position; such logs are not supported.
 */
export function toPortPosition(position: Position | undefined, what: string): number {
  if (position === undefined || position.commit <= 0n)
    throw new EventStoreSchemaError(
      `${what} came without a log position: EventStoreDB 22.10 or later (or KurrentDB) is required`,
    );
  if (position.commit > BigInt(Number.MAX_SAFE_INTEGER))
    throw new EventStoreSchemaError(
      `${what} lies beyond 2^53 bytes into the log: positions would lose precision`,
    );
  return Number(position.commit);
}

export function toEsdbPosition(position: number): Position {
  const at = BigInt(position);
  return { commit: at, prepare: at };
}

/** Stream revisions are 0-based and fit a number; EventStoreDB sends them as bigint. */
export function toRevision(revision: bigint, what: string): number {
  if (revision < 0n || revision > BigInt(Number.MAX_SAFE_INTEGER))
    throw new EventStoreSchemaError(`${what} has revision ${revision}, outside 0..2^53`);
  return Number(revision);
}

// ---------------------------------------------------------------------------------------------
// Event-id claims: kept hidden where an older version wrote them
// ---------------------------------------------------------------------------------------------

/**
 * Versions before this one claimed every event id before appending it: one append to
 * `nrm-event-id-<uuid>` per event (n+1 quorum writes per append, a stream per event, a claim
 * left behind by any append that then failed). The adapter writes no claims any more (see the
 * port's promise on event ids), but databases may hold them: they stay invisible to reads,
 * subscriptions and the head, and their names stay refused to appends.
 */
export const ID_CLAIM_STREAM_PREFIX = 'nrm-event-id-';

export function idClaimStream(eventId: string): string {
  return `${ID_CLAIM_STREAM_PREFIX}${eventId.toLowerCase()}`;
}

/**
 * True for the ledger's own events: not EventStoreDB's system streams (`$…`,
 * including metadata streams `$$…`), not system event types, not id claims.
 */
export function isLedgerRecord(stream: string, type: string): boolean {
  return !stream.startsWith('$') && !type.startsWith('$') && !stream.startsWith(ID_CLAIM_STREAM_PREFIX);
}

/** Stream names this adapter refuses to append to: they would write EventStoreDB's system data or its own claims. */
export function checkLedgerStreamName(stream: string): void {
  if (stream.startsWith('$'))
    throw new InvalidEventStoreInput(
      'stream',
      'must not start with $ (reserved by EventStoreDB for system and metadata streams)',
    );
  if (stream.startsWith(ID_CLAIM_STREAM_PREFIX))
    throw new InvalidEventStoreInput(
      'stream',
      `must not start with ${ID_CLAIM_STREAM_PREFIX} (reserved for event-id claims)`,
    );
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/**
 * EventStoreDB keeps the port's metadata, with the payload's schema version, in
 * its custom metadata. `$correlationId` and `$causationId` are EventStoreDB's own
 * names for the same ideas, copied so that its tools (and its by-correlation
 * projection, where enabled) understand them.
 */
export interface StoredMetadata {
  readonly $correlationId: string;
  readonly $causationId?: string;
  readonly schemaVersion: number;
  readonly metadata: EventMetadata;
}

/** The server's default MaxAppendSize (1 MiB). */
export const DEFAULT_MAX_APPEND_SIZE = 1024 * 1024;

/**
 * What the server counts against its MaxAppendSize for one event: its data and metadata bytes
 * (as sent: JSON, UTF-8). The total of an append is checked before anything is sent.
 */
export function appendBytes(event: EventData): number {
  const bytes = (value: unknown): number =>
    value === undefined
      ? 0
      : value instanceof Uint8Array
        ? value.byteLength
        : Buffer.byteLength(JSON.stringify(value));
  return bytes(event.data) + bytes(event.metadata);
}

/** Our event as EventStoreDB event data: JSON, with our id as EventStoreDB's event id. */
export function toEventData(event: NewEvent): EventData {
  const metadata: StoredMetadata = {
    $correlationId: event.metadata.correlationId,
    ...(event.metadata.causationId !== undefined ? { $causationId: event.metadata.causationId } : {}),
    schemaVersion: event.schemaVersion,
    metadata: event.metadata,
  };
  return jsonEvent({ id: event.id, type: event.type, data: event.data, metadata });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/**
 * True for a record in an ordinary stream that another program wrote (no JSON data, or metadata
 * without the shape this adapter gives it). Readers of the whole store pass over such records; a
 * record with our shape that this version cannot read is not foreign: it stops its reader.
 */
export function isForeignRecord(event: EsdbRecordedEvent): boolean {
  const stored: unknown = event.metadata;
  return (
    !event.isJson ||
    !isPlainObject(event.data) ||
    !isPlainObject(stored) ||
    typeof stored.$correlationId !== 'string' ||
    !('schemaVersion' in stored) ||
    !('metadata' in stored)
  );
}

/** A stored EventStoreDB event as the port's event; anything not written by this adapter is refused. */
export function toRecordedEvent(event: EsdbRecordedEvent): RecordedEvent {
  const where = `event ${event.id} in ${JSON.stringify(event.streamId)}`;
  const data: unknown = event.data;
  const stored: unknown = event.metadata;
  if (!event.isJson || !isPlainObject(data) || !isPlainObject(stored))
    throw new EventStoreSchemaError(
      `${where} was not written by the nrm-ledger adapter (no JSON data and metadata)`,
    );
  const { schemaVersion, metadata } = stored;
  if (
    typeof schemaVersion !== 'number' ||
    !Number.isSafeInteger(schemaVersion) ||
    schemaVersion < 1 ||
    !isPlainObject(metadata) ||
    typeof metadata.correlationId !== 'string' ||
    typeof metadata.occurredAt !== 'string'
  )
    throw new EventStoreSchemaError(`${where} has metadata this version of nrm-ledger cannot read`);
  return {
    id: event.id,
    stream: event.streamId,
    revision: toRevision(event.revision, where),
    position: toPortPosition(event.position, where),
    type: event.type,
    schemaVersion,
    data: data as JsonObject,
    metadata: metadata as EventMetadata,
    recordedAt: event.created.toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

/** Escapes what is special in .NET (server) and JavaScript regular expressions alike. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}#]/g, '\\$&');
}

/**
 * The server-side filter of a `$all` subscription. EventStoreDB filters on one
 * dimension only, event type or stream name, so:
 * - event types: an exact-match regex on the type (its prefix filter would let
 *   `ReferralMade` through for `Referral`);
 * - stream prefixes only: a regex on the stream name (.NET's `StartsWith` is
 *   culture-sensitive; a regex compares characters);
 * - both: event types on the server, stream prefixes on the client;
 * - no filter: every stream that is neither a system stream nor an id claim.
 * The client always applies the whole filter again (`isLedgerRecord` and
 * `matchesFilter`), so the server's filter only has to let through a superset.
 * Returns `'nothing'` for a filter with an empty list, which matches no event.
 */
export function serverFilter(filter: EventFilter | undefined): Filter | 'nothing' {
  if (filter?.eventTypes?.length === 0 || filter?.streamPrefixes?.length === 0) return 'nothing';
  if (filter?.eventTypes)
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$` });
  if (filter?.streamPrefixes)
    return streamNameFilter({ regex: `^(?:${filter.streamPrefixes.map(escapeRegex).join('|')})` });
  return streamNameFilter({ regex: `^(?!\\$|${escapeRegex(ID_CLAIM_STREAM_PREFIX)})` });
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** gRPC status code UNIMPLEMENTED. */
const GRPC_UNIMPLEMENTED = 12;

function firstLine(error: Error): string {
  const line = (error.message.split('\n')[0] ?? '').replace(/\.?\s*Resolution note:.*$/, '').trim();
  return line || error.name;
}

/**
 * Why an error from the client means the store is unavailable to us (so the API
 * answers 503 and subscriptions reconnect), or undefined for any other error.
 */
export function unavailableReason(error: unknown): string | undefined {
  if (error instanceof EventStoreUnavailable) return error.reason;
  if (!(error instanceof Error)) return undefined;
  const e = convertToCommandError(error);
  if (e instanceof UnavailableError) return `server unreachable (${firstLine(e)})`;
  if (e instanceof DeadlineExceededError) return 'no answer before the deadline';
  if (e instanceof TimeoutError) return 'the server timed the operation out';
  if (e instanceof NotLeaderError) return 'the node is no longer the leader';
  if (e instanceof CancelledError) return 'the server cancelled the request';
  if (e instanceof AccessDeniedError)
    return 'access denied: check the credentials in EVENTSTOREDB_URL and their rights on $all';
  if (/^Failed to discover/.test(e.message)) return `cluster discovery failed (${firstLine(e)})`;
  // What answers at that address is not EventStoreDB (a proxy, another service on the port).
  if ((e as { code?: unknown }).code === GRPC_UNIMPLEMENTED)
    return `the server does not answer as EventStoreDB (${firstLine(e)})`;
  return undefined;
}

/** A follower refused a request that requires the leader. */
export function isNotLeader(error: unknown): boolean {
  return error instanceof Error && convertToCommandError(error) instanceof NotLeaderError;
}

/**
 * Why the outcome of an append that got this error is unknown (it may have been stored), or
 * undefined when the error says it was not: our deadline passed or the client's did, the server
 * cancelled the call or timed its commit out (replication did not confirm in time: the write may
 * still commit), or the connection failed after the request may have left. "No connection
 * established" means the request never left.
 */
export function outcomeUnknownReason(error: unknown): string | undefined {
  if (error instanceof EventStoreUnavailable)
    return /^no answer within/.test(error.reason) ? error.reason : undefined;
  if (!(error instanceof Error)) return undefined;
  const e = convertToCommandError(error);
  if (e instanceof DeadlineExceededError) return 'no answer before the deadline';
  if (e instanceof TimeoutError) return 'the server timed the commit out';
  if (e instanceof CancelledError) return 'the request was cancelled';
  if (e instanceof UnavailableError && !/No connection established/i.test(e.message))
    return `the connection failed (${firstLine(e)})`;
  return undefined;
}

export function isStreamNotFound(error: unknown): boolean {
  return error instanceof StreamNotFoundError;
}

/** The port's error for an error from the client; other errors pass unchanged. */
export function toStoreError(error: unknown): unknown {
  if (error instanceof EventStoreError) return error;
  if (error instanceof Error && convertToCommandError(error) instanceof MaxAppendSizeExceededError) {
    const limit = (convertToCommandError(error) as MaxAppendSizeExceededError).maxAppendSize;
    return new InvalidEventStoreInput(
      'events',
      `together exceed what the server accepts in one append (${limit} bytes; its MaxAppendSize setting)`,
    );
  }
  const reason = unavailableReason(error);
  return reason === undefined ? error : new EventStoreUnavailable(reason);
}

// ---------------------------------------------------------------------------------------------
// Reconnection
// ---------------------------------------------------------------------------------------------

export interface ReconnectOptions {
  /** Delay before the first reconnection. Default 100 ms. */
  readonly initialDelayMs?: number;
  /** Longest delay between two attempts. Default 10 s. */
  readonly maxDelayMs?: number;
  /** Consecutive failed attempts after which the subscription ends with `EventStoreUnavailable`. Default 30. */
  readonly maxAttempts?: number;
}

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = {
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  maxAttempts: 30,
};

/**
 * The wait before reconnection attempt `attempt` (1, 2, ...): doubling from the
 * initial delay up to the cap, with "equal jitter" (between half and all of it),
 * so that many subscribers do not come back at the same instant.
 */
export function reconnectDelay(
  attempt: number,
  options: ReconnectOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? DEFAULT_RECONNECT.initialDelayMs;
  const max = options.maxDelayMs ?? DEFAULT_RECONNECT.maxDelayMs;
  const ceiling = Math.min(max, initial * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

// ---------------------------------------------------------------------------------------------
// The client's process-global table of pending appends (@eventstore/db-client 6.2.1)
// ---------------------------------------------------------------------------------------------

/** The gRPC method @eventstore/db-client 6.2.1 sends appends through when the server has it. */
export const BATCH_APPEND_PATH = '/event_store.client.streams.Streams/BatchAppend';

/**
 * Makes the client send every append as its own unary `Append` call instead of over the shared
 * `BatchAppend` stream. In 6.2.1 that stream keeps its pending appends in one table for the
 * whole process: an error on the stream rejects every pending append of every client, and a
 * reply arriving after that throws inside a data handler (an uncaught exception). A unary call
 * has its own deadline and its own error. The client chooses the stream only when
 * `supports(batchAppend)` says the server has it; this answers no for that one method, per
 * client instance. (`@kurrent/kurrentdb-client` keeps one table per stream: see the README.)
 */
export function withUnaryAppends<C extends object>(client: C): C {
  const target = client as unknown as {
    supports: (method: { path?: string }, feature?: string) => Promise<boolean>;
  };
  const supports = target.supports;
  if (typeof supports !== 'function')
    throw new Error('@eventstore/db-client has no supports(): check withUnaryAppends against this version');
  target.supports = (method, feature) =>
    method?.path === BATCH_APPEND_PATH ? Promise.resolve(false) : supports.call(client, method, feature);
  return client;
}

// ---------------------------------------------------------------------------------------------
// Connection strings
// ---------------------------------------------------------------------------------------------

/** The schemes accepted, and what @eventstore/db-client calls them. */
const SCHEMES: ReadonlyMap<string, string> = new Map([
  ['esdb', 'esdb'],
  ['esdb+discover', 'esdb+discover'],
  ['kurrentdb', 'esdb'],
  ['kurrentdb+discover', 'esdb+discover'],
]);

export const CONNECTION_STRING_SCHEMES: readonly string[] = [...SCHEMES.keys()].map((s) => `${s}://`);

/**
 * Query options the adapter reads itself and removes before the client sees the string:
 * `maxAppendSize` (bytes), the server's MaxAppendSize, when it is not the default 1 MiB.
 */
const ADAPTER_OPTIONS: ReadonlySet<string> = new Set(['maxappendsize']);

/** The `maxAppendSize` option of a connection string, when it has one (checked by `clientConnectionString`). */
export function maxAppendSizeOf(url: string): number | undefined {
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  for (const pair of query.split('&')) {
    const [key = '', value = ''] = pair.split('=');
    if (flat(key) === 'maxappendsize') return Number(value.trim());
  }
  return undefined;
}

/** Query options @eventstore/db-client knows (it ignores case, `-` and `_`). */
const QUERY_OPTIONS: ReadonlySet<string> = new Set(
  [
    'userCertFile',
    'userKeyFile',
    'maxDiscoverAttempts',
    'connectionName',
    'defaultDeadline',
    'discoveryInterval',
    'gossipTimeout',
    'nodePreference',
    'tls',
    'tlsVerifyCert',
    'tlsCAFile',
    'throwOnAppendFailure',
    'keepAliveInterval',
    'keepAliveTimeout',
  ].map((k) => k.toLowerCase()),
);

const flat = (key: string): string => key.trim().toLowerCase().replace(/[_-]/g, '');

/** The string with its user name and password hidden, for messages. */
export function redactConnectionString(url: string): string {
  return url.replace(/^([^:/?#]*:\/\/).*@/s, '$1***@');
}

/**
 * The connection string as @eventstore/db-client reads it: `kurrentdb://` and
 * `kurrentdb+discover://` become `esdb://` and `esdb+discover://` (the same
 * format). Throws `InvalidEventStoreInput` naming what is wrong, never quoting
 * the credentials.
 */
export function clientConnectionString(url: string): string {
  const trimmed = url.trim();
  const match = /^([a-z][a-z+]*):\/\//i.exec(trimmed);
  const scheme = match?.[1] === undefined ? undefined : SCHEMES.get(match[1].toLowerCase());
  if (match === null || scheme === undefined)
    throw new InvalidEventStoreInput(
      'connectionString',
      `must start with ${CONNECTION_STRING_SCHEMES.join(', ')}, e.g. esdb://eventstore:2113?tls=false`,
    );
  const rest = trimmed.slice(match[0].length);
  if (rest.replace(/^[^@]*@/s, '').replace(/[/?].*$/s, '').length === 0)
    throw new InvalidEventStoreInput('connectionString', 'must name a host, e.g. esdb://eventstore:2113');
  const query = rest.includes('?') ? rest.slice(rest.indexOf('?') + 1) : '';
  const forClient: string[] = [];
  for (const pair of query.length > 0 ? query.split('&') : []) {
    const [key = '', value = ''] = pair.split('=');
    if (ADAPTER_OPTIONS.has(flat(key))) {
      if (!/^\d{1,10}$/.test(value.trim()) || Number(value.trim()) < 1024)
        throw new InvalidEventStoreInput(
          'connectionString',
          'has a maxAppendSize that is not a number of bytes of at least 1024',
        );
      continue;
    }
    forClient.push(pair);
    if (!QUERY_OPTIONS.has(flat(key)))
      throw new InvalidEventStoreInput(
        'connectionString',
        `has an unknown option ${JSON.stringify(key.trim())}`,
      );
    if (flat(key) === 'throwonappendfailure' && value.trim() === 'false')
      throw new InvalidEventStoreInput(
        'connectionString',
        'must not set throwOnAppendFailure=false: the adapter maps failed appends to the port errors',
      );
    if (flat(key) === 'tlsverifycert' && value.trim() === 'false')
      throw new InvalidEventStoreInput(
        'connectionString',
        'cannot set tlsVerifyCert=false (the client does not support it): give the CA with tlsCAFile',
      );
  }
  const base = rest.includes('?') ? rest.slice(0, rest.indexOf('?')) : rest;
  return `${scheme}://${base}${forClient.length > 0 ? `?${forClient.join('&')}` : ''}`;
}

/**
 * Why a connection string cannot be used, or undefined when it can: checks the
 * scheme, then lets the client parse it (host list, port numbers, option values,
 * certificate files). Connects to nothing.
 */
export function connectionStringProblem(url: string): string | undefined {
  let client: string;
  try {
    client = clientConnectionString(url);
  } catch (error) {
    return error instanceof InvalidEventStoreInput ? error.reason : String(error);
  }
  try {
    EventStoreDBClient.connectionString(client);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The client's parse errors quote the offending text, which may be a password: keep only where and what.
    const at = /at position (\d+), expected (.+?)\.?$/s.exec(message);
    if (at) {
      const shift = url.trim().indexOf('://') - client.indexOf('://'); // kurrentdb:// was read as esdb://
      return `is not a valid connection string at position ${Number(at[1]) + shift} (expected ${at[2]})`;
    }
    return `cannot be used: ${firstLine(error instanceof Error ? error : new Error(message))}`;
  }
}
