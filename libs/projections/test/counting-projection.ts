import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent, RecordedEvent } from '@nrm/event-store';
import type { Projection } from '../src/projection';
import type { SqlRunner } from '../src/store/read-model-store';

/** The event types the counting projection follows; `Ignored` events are interleaved to exercise the filter. */
export const COUNTED_TYPES = ['CaseOpened', 'CaseNoted'] as const;
export const STREAM_TYPES = ['case', 'referral', 'consent'] as const;

export interface CountRow {
  stream_type: string;
  n: number;
}

export interface CountingOptions {
  readonly name?: string;
  readonly version?: number;
  /** Default: COUNTED_TYPES. */
  readonly eventTypes?: readonly string[];
  /** Throws, after a partial write, on the events it picks. */
  readonly failOn?: (event: RecordedEvent) => boolean;
}

/** 'case-0001' → 'case'. */
export function streamType(stream: string): string {
  return stream.split('-')[0] ?? stream;
}

function tableOf(name: string): string {
  return `counts_${name.replace(/[^a-z0-9]/gi, '_')}`;
}

/** Counts events per stream type: small, deterministic, and any double application shows. */
export function countingProjection(options: CountingOptions = {}): Projection {
  const name = options.name ?? 'counts';
  const table = tableOf(name);
  return {
    name,
    version: options.version ?? 1,
    eventTypes: options.eventTypes ?? COUNTED_TYPES,
    async setUp(tx) {
      await tx.exec(
        `CREATE TABLE ${table} (stream_type TEXT PRIMARY KEY, n BIGINT NOT NULL, last_position BIGINT NOT NULL)`,
      );
    },
    async tearDown(tx) {
      await tx.exec(`DROP TABLE IF EXISTS ${table}`);
    },
    async apply(tx, event) {
      await tx.run(
        `INSERT INTO ${table} (stream_type, n, last_position) VALUES (?, 1, ?)
         ON CONFLICT (stream_type) DO UPDATE SET n = ${table}.n + 1, last_position = excluded.last_position`,
        [streamType(event.stream), event.position],
      );
      if (options.failOn?.(event)) throw new Error(`refused event of type ${event.type}`);
    },
  };
}

/** The counts, or none when the table does not exist (yet). */
export async function readCounts(db: SqlRunner, name = 'counts'): Promise<CountRow[]> {
  try {
    return await db.all<CountRow>(`SELECT stream_type, n FROM ${tableOf(name)} ORDER BY stream_type`);
  } catch (error) {
    if (/no such table|does not exist/.test(String(error))) return [];
    throw error;
  }
}

/** What the counting projection should hold after the given events. */
export function expectedCounts(
  events: readonly RecordedEvent[],
  types: readonly string[] = COUNTED_TYPES,
): CountRow[] {
  const counts = new Map<string, number>();
  for (const e of events) {
    if (!types.includes(e.type)) continue;
    const key = streamType(e.stream);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([stream_type, n]) => ({ stream_type, n }));
}

export function newEvent(type: string, data: Record<string, string | number | boolean> = {}): NewEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data,
    metadata: { correlationId: randomUUID(), occurredAt: '2026-11-30T12:00:00.000Z' },
  };
}

/**
 * Appends `count` events in appends of up to `perAppend`, each to a fresh
 * stream, cycling through stream types and mixing in ignored types.
 */
export async function appendMixed(
  store: EventStore,
  count: number,
  options: { perAppend?: number; between?: () => Promise<void> } = {},
): Promise<number> {
  const perAppend = options.perAppend ?? 10;
  let head = 0;
  let i = 0;
  let appends = 0;
  while (i < count) {
    const size = Math.min(perAppend, count - i);
    const events = Array.from({ length: size }, (_, k) => {
      const n = i + k;
      return newEvent(n % 4 === 3 ? 'Ignored' : (COUNTED_TYPES[n % 2] ?? 'CaseOpened'), { n });
    });
    const stream = `${STREAM_TYPES[appends++ % STREAM_TYPES.length] ?? 'case'}-${randomUUID()}`;
    head = (await store.append(stream, events, { expectedRevision: 'no-stream' })).position;
    i += size;
    await options.between?.();
  }
  return head;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
