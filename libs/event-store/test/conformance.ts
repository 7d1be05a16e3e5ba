/**
 * The one behaviour suite every event-store adapter runs. An adapter's spec
 * calls `describeEventStoreConformance` with a factory; nothing here knows
 * which adapter it is testing.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import {
  DuplicateEventId,
  EventStoreClosed,
  InvalidEventStoreInput,
  WrongExpectedRevision,
  type EventStore,
  type ExpectedRevision,
  type JsonObject,
  type NewEvent,
  type RecordedEvent,
} from '../src';

export interface ConformanceTarget {
  readonly store: EventStore;
  /** A second, independent connection to the same storage (another process's view), when the adapter has one. */
  readonly openAnother?: () => Promise<EventStore>;
  /**
   * The adapter indexes event ids and refuses one stored in another stream (SQLite, PostgreSQL).
   * Default true; EventStoreDB says false (see the port's promise on event ids on `NewEvent`).
   */
  readonly idsCheckedAcrossStreams?: boolean;
  readonly dispose: () => Promise<void>;
}

export type ConformanceFactory = () => Promise<ConformanceTarget>;

let streamCounter = 0;
/** A fresh stream name per test, so adapters that share storage across tests still isolate. */
export function freshStream(prefix = 'case'): string {
  streamCounter++;
  return `${prefix}-${streamCounter}-${randomUUID().slice(0, 8)}`;
}

export function newEvent(
  type = 'PotentialVictimReported',
  data: JsonObject = {},
  id: string = randomUUID(),
): NewEvent {
  return {
    id,
    type,
    schemaVersion: 1,
    data,
    metadata: {
      correlationId: randomUUID(),
      principalId: 'principal-test',
      agencyId: 'agency-test',
      occurredAt: '2026-11-30T12:00:00.000Z',
    },
  };
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function caught(promise: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got success');
}

async function take(iterator: AsyncIterator<RecordedEvent>, count: number): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  while (out.length < count) {
    const next = await iterator.next();
    if (next.done) throw new Error(`subscription ended after ${out.length} of ${count} events`);
    out.push(next.value);
  }
  return out;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What other stores call "any revision"; this port refuses it. */
const UNSUPPORTED_EXPECTATION = 'any';

export function describeEventStoreConformance(adapter: string, factory: ConformanceFactory): void {
  describe(`event store conformance: ${adapter}`, () => {
    let target: ConformanceTarget;
    let store: EventStore;

    beforeEach(async () => {
      target = await factory();
      store = target.store;
    });
    afterEach(async () => {
      await target.dispose();
    });

    describe('append and read back', () => {
      it('stores events with revisions from 0 and strictly increasing positions, and returns them as given', async () => {
        const stream = freshStream();
        const events = [
          newEvent('A', { n: 1 }),
          newEvent('B', { n: 2 }),
          newEvent('C', { nested: { list: [1, 'x', null, true] } }),
        ];
        const result = await store.append(stream, events, { expectedRevision: 'no-stream' });
        expect(result.revision).toBe(2);

        const read = await collect(store.readStream(stream));
        expect(read.map((e) => e.revision)).toEqual([0, 1, 2]);
        expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(read.map((e) => e.type)).toEqual(['A', 'B', 'C']);
        expect(read.map((e) => e.data)).toEqual(events.map((e) => e.data));
        expect(read.map((e) => e.metadata)).toEqual(events.map((e) => e.metadata));
        expect(read.every((e) => e.stream === stream && e.schemaVersion === 1)).toBe(true);
        expect(read.every((e) => !Number.isNaN(Date.parse(e.recordedAt)))).toBe(true);
        expect(read[1]!.position).toBeGreaterThan(read[0]!.position);
        expect(read[2]!.position).toBeGreaterThan(read[1]!.position);
        expect(result.position).toBe(read[2]!.position);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(result.position);
      });

      it('appends after an exact revision and after stream-exists', async () => {
        const stream = freshStream();
        await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
        const second = await store.append(stream, [newEvent(), newEvent()], { expectedRevision: 0 });
        expect(second.revision).toBe(2);
        const third = await store.append(stream, [newEvent()], { expectedRevision: 'stream-exists' });
        expect(third.revision).toBe(3);
        expect((await collect(store.readStream(stream))).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
      });

      it('reads a stream backwards, from a revision, and up to maxCount', async () => {
        const stream = freshStream();
        await store.append(
          stream,
          Array.from({ length: 10 }, (_, i) => newEvent('N', { i })),
          { expectedRevision: 'no-stream' },
        );
        const revisions = async (options: Parameters<EventStore['readStream']>[1]) =>
          (await collect(store.readStream(stream, options))).map((e) => e.revision);
        expect(await revisions({ direction: 'backwards' })).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        expect(await revisions({ from: 7 })).toEqual([7, 8, 9]);
        expect(await revisions({ from: 7, direction: 'backwards', maxCount: 3 })).toEqual([7, 6, 5]);
        expect(await revisions({ maxCount: 2 })).toEqual([0, 1]);
        expect(await revisions({ from: 'end', direction: 'backwards', maxCount: 1 })).toEqual([9]);
        expect(await revisions({ from: 'end' })).toEqual([]);
        expect(await revisions({ maxCount: 0 })).toEqual([]);
      });

      it('reads nothing from a stream that does not exist', async () => {
        expect(await collect(store.readStream(freshStream('missing')))).toEqual([]);
      });

      it('pages through a stream longer than one batch, in both directions', async () => {
        const stream = freshStream('long');
        const total = 1300;
        for (let start = 0; start < total; start += 100) {
          await store.append(
            stream,
            Array.from({ length: 100 }, (_, i) => newEvent('N', { i: start + i })),
            { expectedRevision: start === 0 ? 'no-stream' : start - 1 },
          );
        }
        const forwards = await collect(store.readStream(stream));
        expect(forwards.map((e) => e.data.i)).toEqual(Array.from({ length: total }, (_, i) => i));
        const backwards = await collect(store.readStream(stream, { direction: 'backwards' }));
        expect(backwards.map((e) => e.revision)).toEqual(
          Array.from({ length: total }, (_, i) => total - 1 - i),
        );
      });
    });

    describe('the last position of some types (adapters that offer it)', () => {
      it('is the last event of those types whatever follows of others, and 0 for types never stored', async () => {
        if (store.lastPositionOf === undefined) return; // callers then wait for headPosition()
        const tag = randomUUID().slice(0, 8);
        const watched = `Watched${tag}`;
        const other = `Other${tag}`;
        expect(await store.lastPositionOf([watched])).toBe(0);
        expect(await store.lastPositionOf([])).toBe(0);
        const first = await store.append(freshStream(), [newEvent(watched)], {
          expectedRevision: 'no-stream',
        });
        for (let i = 0; i < 3; i++)
          await store.append(freshStream(), [newEvent(other)], { expectedRevision: 'no-stream' });
        expect(await store.lastPositionOf([watched])).toBe(first.position);
        expect(await store.lastPositionOf([watched, other])).toBe(await store.headPosition());
        const second = await store.append(freshStream(), [newEvent(watched)], {
          expectedRevision: 'no-stream',
        });
        await store.append(freshStream(), [newEvent(other)], { expectedRevision: 'no-stream' });
        expect(await store.lastPositionOf([watched])).toBe(second.position);
        expect(await store.lastPositionOf([other])).toBe(await store.headPosition());
        expect(second.position).toBeGreaterThan(first.position);
      });
    });

    describe('optimistic concurrency', () => {
      it('rejects an exact revision that is stale, saying expected and actual, and stores nothing', async () => {
        const stream = freshStream();
        await store.append(stream, [newEvent(), newEvent()], { expectedRevision: 'no-stream' });
        const head = await store.headPosition();
        const error = await caught(store.append(stream, [newEvent()], { expectedRevision: 0 }));
        expect(error).toBeInstanceOf(WrongExpectedRevision);
        expect(error).toMatchObject({
          stream,
          expected: 0,
          actual: 1,
          code: 'EVENT_STORE.WRONG_EXPECTED_REVISION',
        });
        expect(await store.headPosition()).toBe(head);
      });

      it("rejects 'no-stream' on an existing stream and 'stream-exists' on a missing one", async () => {
        const stream = freshStream();
        await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
        expect(
          await caught(store.append(stream, [newEvent()], { expectedRevision: 'no-stream' })),
        ).toMatchObject({
          expected: 'no-stream',
          actual: 0,
        });
        const missing = freshStream('missing');
        expect(
          await caught(store.append(missing, [newEvent()], { expectedRevision: 'stream-exists' })),
        ).toMatchObject({
          expected: 'stream-exists',
          actual: 'no-stream',
        });
        expect(await caught(store.append(missing, [newEvent()], { expectedRevision: 3 }))).toBeInstanceOf(
          WrongExpectedRevision,
        );
        expect(await collect(store.readStream(missing))).toEqual([]);
      });

      it('property: concurrent writers on few streams lose nothing, duplicate nothing, leave no gaps, and every loser gets WrongExpectedRevision', async () => {
        const others = target.openAnother ? [await target.openAnother()] : [];
        const connections = [store, ...others];
        try {
          await fc.assert(
            fc.asyncProperty(
              fc.integer({ min: 1, max: 3 }),
              fc.array(
                fc.tuple(
                  fc.nat(2),
                  fc.integer({ min: 1, max: 3 }),
                  fc.nat(connections.length - 1),
                  fc.nat(3),
                ),
                {
                  minLength: 2,
                  maxLength: 12,
                },
              ),
              async (streamCount, writers) => {
                const streams = Array.from({ length: streamCount }, () => freshStream('race'));
                const won: NewEvent[][] = [];
                const lost: NewEvent[][] = [];
                const unexpected: unknown[] = [];
                await Promise.all(
                  writers.map(async ([s, size, c, delay]) => {
                    const stream = streams[s % streamCount]!;
                    const via = connections[c]!;
                    const last = await collect(
                      via.readStream(stream, { direction: 'backwards', maxCount: 1 }),
                    );
                    const expectedRevision: ExpectedRevision = last[0]?.revision ?? 'no-stream';
                    for (let i = 0; i < delay; i++) await new Promise((r) => setImmediate(r));
                    const events = Array.from({ length: size }, () => newEvent('Raced', { stream }));
                    try {
                      await via.append(stream, events, { expectedRevision });
                      won.push(events);
                    } catch (error) {
                      if (error instanceof WrongExpectedRevision) lost.push(events);
                      else unexpected.push(error);
                    }
                  }),
                );
                expect(unexpected).toEqual([]);
                expect(won.length + lost.length).toBe(writers.length);
                const stored = (await Promise.all(streams.map((s) => collect(store.readStream(s))))).flat();
                const storedIds = stored.map((e) => e.id);
                expect(new Set(storedIds).size).toBe(storedIds.length); // 0 duplicated
                const wonIds = won.flat().map((e) => e.id);
                expect([...storedIds].sort()).toEqual([...wonIds].sort()); // 0 lost, 0 phantom
                for (const events of lost) for (const e of events) expect(storedIds).not.toContain(e.id);
                for (const s of streams) {
                  const revisions = stored.filter((e) => e.stream === s).map((e) => e.revision);
                  expect(revisions).toEqual(revisions.map((_, i) => i)); // 0 gaps
                }
                // Each stream's first append wins; others racing on the same read lose.
                expect(won.length).toBeGreaterThanOrEqual(
                  new Set(writers.map(([s]) => s % streamCount)).size,
                );
              },
            ),
            { numRuns: 40 },
          );
        } finally {
          await Promise.all(others.map((o) => o.close()));
        }
      });
    });

    describe('idempotency', () => {
      it('a retried append with the same event ids and expectation returns the first result and stores nothing new', async () => {
        const stream = freshStream();
        const events = [newEvent(), newEvent()];
        const first = await store.append(stream, events, { expectedRevision: 'no-stream' });
        const head = await store.headPosition();
        const again = await store.append(stream, events, { expectedRevision: 'no-stream' });
        expect(again).toEqual(first);
        expect(await store.headPosition()).toBe(head);
        expect(await collect(store.readStream(stream))).toHaveLength(2);

        const next = [newEvent()];
        const third = await store.append(stream, next, { expectedRevision: 1 });
        expect(await store.append(stream, next, { expectedRevision: 1 })).toEqual(third);
        expect(await store.append(stream, next, { expectedRevision: 'stream-exists' })).toEqual(third);
        expect(await collect(store.readStream(stream))).toHaveLength(3);
      });

      it('rejects an event id that is already stored in another stream, and stores nothing (adapters that index ids)', async () => {
        if (target.idsCheckedAcrossStreams === false) return;
        const event = newEvent();
        const a = freshStream();
        const b = freshStream();
        await store.append(a, [event], { expectedRevision: 'no-stream' });
        const head = await store.headPosition();
        const error = await caught(store.append(b, [newEvent(), event], { expectedRevision: 'no-stream' }));
        expect(error).toBeInstanceOf(DuplicateEventId);
        expect(error).toMatchObject({ eventId: event.id, existingStream: a, existingRevision: 0 });
        expect(await store.headPosition()).toBe(head);
        expect(await collect(store.readStream(b))).toEqual([]);
      });

      it('rejects a retry that only partly matches the stored append', async () => {
        const stream = freshStream();
        const [e1, e2] = [newEvent(), newEvent()];
        await store.append(stream, [e1], { expectedRevision: 'no-stream' });
        expect(
          await caught(store.append(stream, [e1, e2], { expectedRevision: 'no-stream' })),
        ).toBeInstanceOf(DuplicateEventId);
        expect(await collect(store.readStream(stream))).toHaveLength(1);
      });

      it('treats event ids case-insensitively', async () => {
        const event = newEvent();
        const a = freshStream();
        const first = await store.append(a, [event], { expectedRevision: 'no-stream' });
        const upper = { ...event, id: event.id.toUpperCase() };
        expect(await store.append(a, [upper], { expectedRevision: 'no-stream' })).toEqual(first);
        expect(await collect(store.readStream(a))).toHaveLength(1);
        if (target.idsCheckedAcrossStreams === false) return;
        expect(
          await caught(store.append(freshStream(), [upper], { expectedRevision: 'no-stream' })),
        ).toBeInstanceOf(DuplicateEventId);
      });

      it('recognises the retry of an append whatever happened to the stream after it', async () => {
        const stream = freshStream();
        const events = [newEvent(), newEvent()];
        const first = await store.append(stream, events, { expectedRevision: 'no-stream' });
        await store.append(stream, [newEvent()], { expectedRevision: 1 });
        await store.append(stream, [newEvent(), newEvent()], { expectedRevision: 2 });
        expect(await store.append(stream, events, { expectedRevision: 'no-stream' })).toEqual(first);
        const later = [newEvent()];
        const third = await store.append(stream, later, { expectedRevision: 4 });
        expect(await store.append(stream, later, { expectedRevision: 4 })).toEqual(third);
        expect(await collect(store.readStream(stream))).toHaveLength(6);
      });

      it('property: concurrent copies of one append (a client retrying before the answer) store it once', async () => {
        const others = target.openAnother ? [await target.openAnother()] : [];
        const connections = [store, ...others];
        try {
          await fc.assert(
            fc.asyncProperty(fc.integer({ min: 2, max: 5 }), fc.boolean(), async (copies, exists) => {
              const stream = freshStream('copies');
              if (exists) await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
              const expectedRevision: ExpectedRevision = exists ? 0 : 'no-stream';
              const events = [newEvent('Once'), newEvent('Once')];
              const results = await Promise.all(
                Array.from({ length: copies }, (_, i) =>
                  connections[i % connections.length]!.append(stream, events, { expectedRevision }),
                ),
              );
              expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
              const stored = await collect(store.readStream(stream));
              expect(stored.filter((e) => e.type === 'Once')).toHaveLength(2);
            }),
            { numRuns: 20 },
          );
        } finally {
          await Promise.all(others.map((o) => o.close()));
        }
      });

      it('rejects the same event id twice in one append', async () => {
        const event = newEvent();
        expect(
          await caught(store.append(freshStream(), [event, event], { expectedRevision: 'no-stream' })),
        ).toMatchObject({
          field: 'events[1].id',
        });
      });
    });

    describe('reading the whole store', () => {
      it('reads in position order from a position, up to maxCount, filtered by type or stream prefix', async () => {
        const start = await store.headPosition();
        const ref = randomUUID().slice(0, 8);
        const referral = `referral-${ref}`;
        const consent = `consent-${ref}`;
        await store.append(referral, [newEvent('ReferralMade'), newEvent('ReferralAcknowledged')], {
          expectedRevision: 'no-stream',
        });
        await store.append(consent, [newEvent('ConsentGranted')], { expectedRevision: 'no-stream' });
        await store.append(referral, [newEvent('ReferralAccepted')], { expectedRevision: 1 });

        const all = await collect(store.readAll({ fromPosition: { after: start } }));
        const ours = all.filter((e) => e.stream.endsWith(ref));
        expect(ours.map((e) => e.type)).toEqual([
          'ReferralMade',
          'ReferralAcknowledged',
          'ConsentGranted',
          'ReferralAccepted',
        ]);
        for (let i = 1; i < all.length; i++) expect(all[i]!.position).toBeGreaterThan(all[i - 1]!.position);

        const byType = await collect(
          store.readAll({
            fromPosition: { after: start },
            filter: { eventTypes: ['ReferralAcknowledged', 'ConsentGranted'] },
          }),
        );
        expect(byType.filter((e) => e.stream.endsWith(ref)).map((e) => e.type)).toEqual([
          'ReferralAcknowledged',
          'ConsentGranted',
        ]);

        const byPrefix = await collect(
          store.readAll({ fromPosition: { after: start }, filter: { streamPrefixes: [`consent-${ref}`] } }),
        );
        expect(byPrefix.map((e) => e.stream)).toEqual([consent]);

        const both = await collect(
          store.readAll({
            fromPosition: { after: start },
            filter: { streamPrefixes: [referral], eventTypes: ['ReferralAccepted'] },
          }),
        );
        expect(both.map((e) => e.type)).toEqual(['ReferralAccepted']);

        const limited = await collect(store.readAll({ fromPosition: { after: start }, maxCount: 2 }));
        expect(limited).toEqual(all.slice(0, 2));
        const after = await collect(
          store.readAll({ fromPosition: { after: limited[1]!.position }, maxCount: 2 }),
        );
        expect(after).toEqual(all.slice(2, 4));
      });
    });

    describe('subscriptions', () => {
      it('delivers stored events, then live ones, in order, and ends on close', async () => {
        const start = await store.headPosition();
        const stream = freshStream();
        await store.append(stream, [newEvent('First'), newEvent('Second')], {
          expectedRevision: 'no-stream',
        });
        const subscription = store.subscribe({
          fromPosition: { after: start },
          filter: { streamPrefixes: [stream] },
        });
        const iterator = subscription[Symbol.asyncIterator]();
        const caughtUp = await withTimeout(take(iterator, 2), 5000, 'catch-up');
        expect(caughtUp.map((e) => e.type)).toEqual(['First', 'Second']);

        const pending = take(iterator, 2);
        await store.append(stream, [newEvent('Third')], { expectedRevision: 1 });
        await store.append(stream, [newEvent('Fourth')], { expectedRevision: 2 });
        const live = await withTimeout(pending, 5000, 'live events');
        expect(live.map((e) => e.type)).toEqual(['Third', 'Fourth']);

        const waiting = iterator.next();
        await subscription.close();
        expect(subscription.closed).toBe(true);
        expect(await withTimeout(waiting, 5000, 'end after close')).toEqual({ done: true, value: undefined });
      });

      it("from 'end' delivers only what is appended afterwards", async () => {
        const stream = freshStream();
        await store.append(stream, [newEvent('Before')], { expectedRevision: 'no-stream' });
        const subscription = store.subscribe({ fromPosition: 'end' });
        const iterator = subscription[Symbol.asyncIterator]();
        const pending = take(iterator, 1);
        await store.append(stream, [newEvent('After')], { expectedRevision: 0 });
        const [event] = await withTimeout(pending, 5000, 'live event');
        expect(event).toMatchObject({ type: 'After', stream });
        await subscription.close();
      });

      it('applies its filter to stored and live events', async () => {
        const start = await store.headPosition();
        const stream = freshStream();
        const subscription = store.subscribe({
          fromPosition: { after: start },
          filter: { eventTypes: ['Wanted'] },
        });
        await store.append(stream, [newEvent('Unwanted'), newEvent('Wanted', { n: 1 })], {
          expectedRevision: 'no-stream',
        });
        await store.append(stream, [newEvent('Unwanted'), newEvent('Wanted', { n: 2 })], {
          expectedRevision: 1,
        });
        const received: RecordedEvent[] = [];
        await withTimeout(
          (async () => {
            for await (const event of subscription) {
              received.push(event);
              if (received.length === 2) break; // break closes the subscription
            }
          })(),
          5000,
          'filtered events',
        );
        expect(received.map((e) => e.data.n)).toEqual([1, 2]);
        expect(subscription.closed).toBe(true);
      });

      it('delivers a large backlog to a consumer that takes one event at a time', async () => {
        const start = await store.headPosition();
        const stream = freshStream('backlog');
        const total = 2000;
        for (let i = 0; i < total; i += 250) {
          await store.append(
            stream,
            Array.from({ length: 250 }, (_, j) => newEvent('N', { i: i + j })),
            {
              expectedRevision: i === 0 ? 'no-stream' : i - 1,
            },
          );
        }
        const subscription = store.subscribe({
          fromPosition: { after: start },
          filter: { streamPrefixes: [stream] },
        });
        const seen: number[] = [];
        await withTimeout(
          (async () => {
            for await (const event of subscription) {
              seen.push(event.data.i as number);
              if (seen.length % 500 === 0) await new Promise((r) => setTimeout(r, 5)); // a slow consumer
              if (seen.length === total) break;
            }
          })(),
          20_000,
          'backlog',
        );
        expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
      });

      it('ends when the store closes, and the store refuses work afterwards', async () => {
        const subscription = store.subscribe({ fromPosition: 'end' });
        const iterator = subscription[Symbol.asyncIterator]();
        const waiting = iterator.next();
        await store.close();
        expect(await withTimeout(waiting, 5000, 'end on store close')).toMatchObject({ done: true });
        expect(
          await caught(store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' })),
        ).toBeInstanceOf(EventStoreClosed);
      });
    });

    describe('content', () => {
      it('round-trips an event of 1 MiB', async () => {
        const stream = freshStream('large');
        const blob = 'x'.repeat(1024 * 1024);
        const event = newEvent('LargeNoteRecorded', { blob, tail: 'end' });
        await store.append(stream, [event], { expectedRevision: 'no-stream' });
        const [read] = await collect(store.readStream(stream));
        expect(read!.data.blob).toHaveLength(blob.length);
        expect(read!.data).toEqual(event.data);
      });

      it('round-trips unicode in stream names, types and data', async () => {
        const stream = `${freshStream('fall')}-Łódź-東京-مرحبا-👩🏽‍⚕️`;
        const data = {
          note: 'Zoë, Ñandú, İstanbul, ﷺ, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, e\u0301, \u202eRTL',
          emoji: '🧑‍🤝‍🧑',
          lone: '\ud800 lone surrogate stays itself',
          quotes: `'"; DROP TABLE events; --`,
          nul: 'a\u0000b',
        };
        await store.append(stream, [newEvent('NotiertÜbergabe', data)], { expectedRevision: 'no-stream' });
        const [read] = await collect(store.readStream(stream));
        expect(read).toMatchObject({ stream, type: 'NotiertÜbergabe', data });
        expect(await collect(store.readAll({ filter: { streamPrefixes: [stream] } }))).toHaveLength(1);
      });

      it('keeps many streams apart', async () => {
        const prefix = freshStream('many');
        const streams = Array.from({ length: 300 }, (_, i) => `${prefix}-${i}`);
        for (const [i, s] of streams.entries()) {
          await store.append(s, [newEvent('N', { i }), newEvent('N', { i })], {
            expectedRevision: 'no-stream',
          });
        }
        for (const [i, s] of streams.entries()) {
          const events = await collect(store.readStream(s));
          expect(events.map((e) => [e.revision, e.data.i])).toEqual([
            [0, i],
            [1, i],
          ]);
        }
        expect(await collect(store.readAll({ filter: { streamPrefixes: [`${prefix}-`] } }))).toHaveLength(
          600,
        );
      });
    });

    describe('bad input is refused with a typed error and nothing is stored', () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const cases: Array<[string, () => [unknown, unknown, unknown], string]> = [
        ['an empty stream name', () => ['', [newEvent()], { expectedRevision: 'no-stream' }], 'stream'],
        [
          'a stream name with a control character',
          () => ['case-\u0007-1', [newEvent()], { expectedRevision: 'no-stream' }],
          'stream',
        ],
        [
          'a stream name with a newline',
          () => ['case\n1', [newEvent()], { expectedRevision: 'no-stream' }],
          'stream',
        ],
        [
          'a stream name with a lone surrogate',
          () => ['case-\ud800', [newEvent()], { expectedRevision: 'no-stream' }],
          'stream',
        ],
        [
          'a stream name that is not a string',
          () => [42, [newEvent()], { expectedRevision: 'no-stream' }],
          'stream',
        ],
        ['no events', () => [freshStream(), [], { expectedRevision: 'no-stream' }], 'events'],
        [
          'events that are not an array',
          () => [freshStream(), newEvent(), { expectedRevision: 'no-stream' }],
          'events',
        ],
        [
          'an event without a type',
          () => [freshStream(), [{ ...newEvent(), type: undefined }], { expectedRevision: 'no-stream' }],
          'events[0].type',
        ],
        [
          'an event with an empty type',
          () => [freshStream(), [newEvent('')], { expectedRevision: 'no-stream' }],
          'events[0].type',
        ],
        [
          'an event type starting with $ (reserved for system events)',
          () => [freshStream(), [newEvent('$ReferralMade')], { expectedRevision: 'no-stream' }],
          'events[0].type',
        ],
        [
          'an event id that is not a UUID',
          () => [freshStream(), [newEvent('A', {}, 'not-a-uuid')], { expectedRevision: 'no-stream' }],
          'events[0].id',
        ],
        [
          'a schema version of 0',
          () => [freshStream(), [{ ...newEvent(), schemaVersion: 0 }], { expectedRevision: 'no-stream' }],
          'events[0].schemaVersion',
        ],
        [
          'data with a function',
          () => [
            freshStream(),
            [newEvent('A', { f: (() => 1) as unknown as string })],
            { expectedRevision: 'no-stream' },
          ],
          'events[0].data.f',
        ],
        [
          'data with a bigint',
          () => [
            freshStream(),
            [newEvent('A', { n: 1n as unknown as number })],
            { expectedRevision: 'no-stream' },
          ],
          'events[0].data.n',
        ],
        [
          'data with NaN',
          () => [freshStream(), [newEvent('A', { n: NaN })], { expectedRevision: 'no-stream' }],
          'events[0].data.n',
        ],
        [
          'data with undefined',
          () => [
            freshStream(),
            [newEvent('A', { u: undefined as unknown as null })],
            { expectedRevision: 'no-stream' },
          ],
          'events[0].data.u',
        ],
        [
          'data with a Date',
          () => [
            freshStream(),
            [newEvent('A', { d: new Date() as unknown as string })],
            { expectedRevision: 'no-stream' },
          ],
          'events[0].data.d',
        ],
        [
          'circular data',
          () => [freshStream(), [newEvent('A', circular as JsonObject)], { expectedRevision: 'no-stream' }],
          'events[0].data.self',
        ],
        [
          'data that is an array',
          () => [
            freshStream(),
            [newEvent('A', [1, 2] as unknown as JsonObject)],
            { expectedRevision: 'no-stream' },
          ],
          'events[0].data',
        ],
        [
          'metadata without a correlation id',
          () => [
            freshStream(),
            [{ ...newEvent(), metadata: { occurredAt: '2026-11-30T12:00:00Z' } }],
            { expectedRevision: 'no-stream' },
          ],
          'events[0].metadata.correlationId',
        ],
        [
          'metadata with a bad occurred-at',
          () => [
            freshStream(),
            [{ ...newEvent(), metadata: { correlationId: 'c', occurredAt: 'yesterday' } }],
            { expectedRevision: 'no-stream' },
          ],
          'events[0].metadata.occurredAt',
        ],
        [
          'a negative revision',
          () => [freshStream(), [newEvent()], { expectedRevision: -1 }],
          'expectedRevision',
        ],
        [
          'a fractional revision',
          () => [freshStream(), [newEvent()], { expectedRevision: 1.5 }],
          'expectedRevision',
        ],
        [
          'a revision given as text',
          () => [freshStream(), [newEvent()], { expectedRevision: '3' }],
          'expectedRevision',
        ],
        [
          "an 'any' revision (the port has none: domain paths state what they decided on)",
          () => [freshStream(), [newEvent()], { expectedRevision: UNSUPPORTED_EXPECTATION }],
          'expectedRevision',
        ],
        ['no options', () => [freshStream(), [newEvent()], undefined], 'options'],
        [
          'an event over the size limit',
          () => [
            freshStream(),
            [newEvent('A', { blob: 'x'.repeat(9 * 1024 * 1024) })],
            { expectedRevision: 'no-stream' },
          ],
          'events[0]',
        ],
      ];

      it.each(cases)('%s', async (_name, make, field) => {
        const head = await store.headPosition();
        const [stream, events, options] = make();
        const error = await caught(() =>
          store.append(
            stream as string,
            events as NewEvent[],
            options as { expectedRevision: ExpectedRevision },
          ),
        );
        expect(error).toBeInstanceOf(InvalidEventStoreInput);
        expect(error).toMatchObject({ field, code: 'EVENT_STORE.INVALID_INPUT' });
        expect(await store.headPosition()).toBe(head);
      });

      it('refuses malformed read and subscribe options', async () => {
        expect(await caught(() => store.readStream(''))).toMatchObject({ field: 'stream' });
        expect(await caught(() => store.readStream('s', { maxCount: -1 }))).toMatchObject({
          field: 'maxCount',
        });
        expect(await caught(() => store.readStream('s', { from: 1.5 }))).toMatchObject({ field: 'from' });
        expect(await caught(() => store.readAll({ fromPosition: { after: -3 } }))).toMatchObject({
          field: 'fromPosition',
        });
        expect(await caught(() => store.readAll({ filter: { eventTypes: [''] } }))).toMatchObject({
          field: 'filter.eventTypes[0]',
        });
        expect(await caught(() => store.subscribe({ fromPosition: 7 as unknown as 'end' }))).toMatchObject({
          field: 'fromPosition',
        });
      });
    });
  });
}
