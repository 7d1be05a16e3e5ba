import { InvalidEventStoreInput } from './errors';
import type {
  EventFilter,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
} from './event-store';

/**
 * Input checks shared by every adapter, so that each rejects the same bad input
 * with the same typed error before touching storage.
 */

export const MAX_STREAM_NAME_LENGTH = 512;
export const MAX_EVENT_TYPE_LENGTH = 256;
/** Largest serialised event (data + metadata) an adapter accepts. */
export const MAX_EVENT_BYTES = 8 * 1024 * 1024;
export const MAX_EVENTS_PER_APPEND = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function checkName(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string') throw new InvalidEventStoreInput(field, 'must be a string');
  if (value.length === 0) throw new InvalidEventStoreInput(field, 'must not be empty');
  if (value.length > maxLength)
    throw new InvalidEventStoreInput(field, `must be at most ${maxLength} characters`);
  if (CONTROL.test(value)) throw new InvalidEventStoreInput(field, 'must not contain control characters');
  if (!value.isWellFormed())
    throw new InvalidEventStoreInput(field, 'must be well-formed Unicode (no lone surrogates)');
  if (value.trim() !== value)
    throw new InvalidEventStoreInput(field, 'must not start or end with white space');
  return value;
}

export function checkStreamName(stream: unknown): string {
  return checkName(stream, 'stream', MAX_STREAM_NAME_LENGTH);
}

export function checkExpectedRevision(expected: unknown): ExpectedRevision {
  if (expected === 'no-stream' || expected === 'stream-exists') return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return expected;
  throw new InvalidEventStoreInput(
    'expectedRevision',
    "must be 'no-stream', 'stream-exists' or a non-negative integer revision",
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Accepts exactly what survives a JSON round trip unchanged: null, booleans,
 * finite numbers, strings, arrays and plain objects. Anything that JSON would
 * drop or alter silently (undefined, NaN, Date, Map, class instances) is refused.
 */
export function checkJson(value: unknown, field: string, seen: Set<object> = new Set()): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidEventStoreInput(field, 'must be a finite number');
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) throw new InvalidEventStoreInput(field, 'must not be circular');
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new InvalidEventStoreInput(`${field}[${i}]`, 'must not be a hole');
          checkJson(value[i], `${field}[${i}]`, seen);
        }
      } else {
        if (!isPlainObject(value))
          throw new InvalidEventStoreInput(field, 'must be plain JSON (no class instances)');
        for (const key of Object.keys(value)) {
          checkJson((value as Record<string, unknown>)[key], `${field}.${key}`, seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      throw new InvalidEventStoreInput(field, `is not JSON-serialisable (${typeof value})`);
  }
}

function checkJsonObject(value: unknown, field: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidEventStoreInput(field, 'must be a JSON object');
  checkJson(value, field);
}

function checkEvent(event: unknown, field: string): void {
  if (typeof event !== 'object' || event === null)
    throw new InvalidEventStoreInput(field, 'must be an object');
  const e = event as Partial<Record<keyof NewEvent, unknown>>;
  if (typeof e.id !== 'string' || !UUID.test(e.id))
    throw new InvalidEventStoreInput(`${field}.id`, 'must be a UUID');
  checkName(e.type, `${field}.type`, MAX_EVENT_TYPE_LENGTH);
  // EventStoreDB keeps `$` types for its own records and hides them from $all readers: refused by
  // every adapter alike, so that no event is stored that one store would show and another hide.
  if ((e.type as string).startsWith('$'))
    throw new InvalidEventStoreInput(`${field}.type`, 'must not start with $ (reserved for system events)');
  if (typeof e.schemaVersion !== 'number' || !Number.isSafeInteger(e.schemaVersion) || e.schemaVersion < 1)
    throw new InvalidEventStoreInput(`${field}.schemaVersion`, 'must be an integer of at least 1');
  checkJsonObject(e.data, `${field}.data`);
  checkJsonObject(e.metadata, `${field}.metadata`);
  const metadata = e.metadata as Record<string, unknown>;
  if (typeof metadata.correlationId !== 'string' || metadata.correlationId.length === 0)
    throw new InvalidEventStoreInput(`${field}.metadata.correlationId`, 'must be a non-empty string');
  if (typeof metadata.occurredAt !== 'string' || Number.isNaN(Date.parse(metadata.occurredAt)))
    throw new InvalidEventStoreInput(`${field}.metadata.occurredAt`, 'must be an ISO-8601 date-time');
  for (const key of ['causationId', 'principalId', 'agencyId'] as const) {
    if (metadata[key] !== undefined && typeof metadata[key] !== 'string')
      throw new InvalidEventStoreInput(`${field}.metadata.${key}`, 'must be a string when present');
  }
}

/** Checks a whole append request; throws `InvalidEventStoreInput` naming the first fault. */
export function checkAppend(
  stream: unknown,
  events: unknown,
  options: unknown,
): { stream: string; events: readonly NewEvent[]; expectedRevision: ExpectedRevision } {
  const name = checkStreamName(stream);
  if (typeof options !== 'object' || options === null)
    throw new InvalidEventStoreInput('options', 'must state an expectedRevision');
  const expectedRevision = checkExpectedRevision(
    (options as { expectedRevision?: unknown }).expectedRevision,
  );
  if (!Array.isArray(events)) throw new InvalidEventStoreInput('events', 'must be an array');
  if (events.length === 0) throw new InvalidEventStoreInput('events', 'must contain at least one event');
  if (events.length > MAX_EVENTS_PER_APPEND)
    throw new InvalidEventStoreInput('events', `must contain at most ${MAX_EVENTS_PER_APPEND} events`);
  const ids = new Set<string>();
  events.forEach((event: unknown, i) => {
    checkEvent(event, `events[${i}]`);
    const id = (event as NewEvent).id.toLowerCase();
    if (ids.has(id)) throw new InvalidEventStoreInput(`events[${i}].id`, 'appears twice in one append');
    ids.add(id);
  });
  return { stream: name, events: events as NewEvent[], expectedRevision };
}

export interface Serialised {
  readonly data: string;
  readonly metadata: string;
}

/** Serialises data and metadata, enforcing the size limit. */
export function serialise(event: NewEvent, field: string): Serialised {
  const data = JSON.stringify(event.data);
  const metadata = JSON.stringify(event.metadata);
  // UTF-16 length is a cheap lower bound on bytes; measure exactly only when close.
  if ((data.length + metadata.length) * 3 > MAX_EVENT_BYTES) {
    const bytes = Buffer.byteLength(data) + Buffer.byteLength(metadata);
    if (bytes > MAX_EVENT_BYTES)
      throw new InvalidEventStoreInput(field, `is ${bytes} bytes; at most ${MAX_EVENT_BYTES} are accepted`);
  }
  return { data, metadata };
}

function checkCount(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new InvalidEventStoreInput(field, 'must be a non-negative integer');
  return value;
}

export function checkFilter(filter: unknown): EventFilter | undefined {
  if (filter === undefined) return undefined;
  if (typeof filter !== 'object' || filter === null)
    throw new InvalidEventStoreInput('filter', 'must be an object');
  const f = filter as Record<string, unknown>;
  const list = (key: 'eventTypes' | 'streamPrefixes', max: number): string[] | undefined => {
    const v = f[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new InvalidEventStoreInput(`filter.${key}`, 'must be an array of strings');
    return v.map((s: unknown, i) => checkName(s, `filter.${key}[${i}]`, max));
  };
  return {
    eventTypes: list('eventTypes', MAX_EVENT_TYPE_LENGTH),
    streamPrefixes: list('streamPrefixes', MAX_STREAM_NAME_LENGTH),
  };
}

export function checkPosition(value: unknown, field: string, allowEnd: boolean): 'start' | 'end' | number {
  if (value === undefined || value === 'start') return 'start';
  if (allowEnd && value === 'end') return 'end';
  if (typeof value === 'object' && value !== null) {
    const after = (value as { after?: unknown }).after;
    if (typeof after === 'number' && Number.isSafeInteger(after) && after >= 0) return after;
  }
  throw new InvalidEventStoreInput(
    field,
    `must be 'start'${allowEnd ? ", 'end'" : ''} or { after: <non-negative integer position> }`,
  );
}

export function checkReadStream(stream: unknown, options: ReadStreamOptions | undefined) {
  const name = checkStreamName(stream);
  const direction = options?.direction ?? 'forwards';
  if (direction !== 'forwards' && direction !== 'backwards')
    throw new InvalidEventStoreInput('direction', "must be 'forwards' or 'backwards'");
  const from = options?.from ?? (direction === 'forwards' ? 'start' : 'end');
  if (from !== 'start' && from !== 'end' && checkCount(from, 'from') === undefined)
    throw new InvalidEventStoreInput('from', "must be 'start', 'end' or a non-negative revision");
  return { stream: name, direction, from, maxCount: checkCount(options?.maxCount, 'maxCount') };
}

export function checkReadAll(options: ReadAllOptions | undefined) {
  const from = checkPosition(options?.fromPosition, 'fromPosition', false);
  return {
    after: from === 'start' ? 0 : (from as number),
    maxCount: checkCount(options?.maxCount, 'maxCount'),
    filter: checkFilter(options?.filter),
  };
}

export function checkSubscribe(options: SubscribeOptions | undefined) {
  return {
    from: checkPosition(options?.fromPosition, 'fromPosition', true),
    filter: checkFilter(options?.filter),
  };
}

/** In-memory form of a filter, for adapters that filter after reading. */
export function matchesFilter(filter: EventFilter | undefined, type: string, stream: string): boolean {
  if (!filter) return true;
  if (filter.eventTypes && !filter.eventTypes.includes(type)) return false;
  if (filter.streamPrefixes && !filter.streamPrefixes.some((p) => stream.startsWith(p))) return false;
  return true;
}
