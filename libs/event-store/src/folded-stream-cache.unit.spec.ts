import { collect, freshStream, newEvent } from '../test/conformance';
import type { RecordedEvent } from './event-store';
import { FoldedStreamCache } from './folded-stream-cache';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

/** A state that lists the revisions folded into it, and counts every evolve call. */
function listing(store: SqliteEventStore, maxStreams = 100) {
  const calls = { evolve: 0 };
  const cache = new FoldedStreamCache<readonly number[]>(store, {
    initial: () => [],
    evolve: (state, event: RecordedEvent) => {
      calls.evolve++;
      return [...state, event.data.n as number];
    },
    maxStreams,
  });
  return { cache, calls };
}

describe('FoldedStreamCache', () => {
  let store: SqliteEventStore;
  beforeEach(() => {
    store = new SqliteEventStore({ filename: ':memory:' });
  });
  afterEach(() => store.close());

  const add = (stream: string, from: number, count: number) =>
    store.append(
      stream,
      Array.from({ length: count }, (_, i) => newEvent('Counted', { n: from + i })),
      { expectedRevision: from === 0 ? 'no-stream' : from - 1 },
    );

  it('folds the whole stream once, then only the events after the cached revision', async () => {
    const { cache, calls } = listing(store);
    const stream = freshStream();
    await add(stream, 0, 5);
    expect(await cache.state(stream)).toEqual([0, 1, 2, 3, 4]);
    expect(calls.evolve).toBe(5);
    expect(cache.cachedRevision(stream)).toBe(4);

    expect(await cache.state(stream)).toEqual([0, 1, 2, 3, 4]);
    expect(calls.evolve).toBe(5); // nothing new: nothing folded
    expect(cache.stats).toMatchObject({ unchanged: 1, folded: 1 });

    await add(stream, 5, 2);
    expect(await cache.state(stream)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(calls.evolve).toBe(7); // only the two new events
    expect(cache.cachedRevision(stream)).toBe(6);
  });

  it('an event appended and acknowledged counts on the very next read, every time', async () => {
    const { cache } = listing(store);
    const stream = freshStream();
    for (let n = 0; n < 50; n++) {
      await add(stream, n, 1);
      const state = await cache.state(stream);
      // The same answer as folding the whole stream from scratch.
      expect(state).toEqual((await collect(store.readStream(stream))).map((e) => e.data.n));
    }
  });

  it('gives the initial state for a stream with no events, and caches it until one arrives', async () => {
    const { cache } = listing(store);
    const stream = freshStream();
    expect(await cache.state(stream)).toEqual([]);
    expect(cache.cachedRevision(stream)).toBe(-1);
    await add(stream, 0, 1);
    expect(await cache.state(stream)).toEqual([0]);
  });

  it('keeps at most maxStreams, dropping the least recently read, and refolds a dropped one from scratch', async () => {
    const { cache, calls } = listing(store, 2);
    const [a, b, c] = [freshStream(), freshStream(), freshStream()];
    for (const s of [a, b, c]) await add(s, 0, 3);
    await cache.state(a);
    await cache.state(b);
    await cache.state(a); // a is now the most recently read
    await cache.state(c); // drops b
    expect(cache.size).toBe(2);
    expect(cache.cachedRevision(b)).toBeUndefined();
    expect(cache.cachedRevision(a)).toBe(2);
    expect(cache.stats.evicted).toBe(1);
    const before = calls.evolve;
    expect(await cache.state(b)).toEqual([0, 1, 2]);
    expect(calls.evolve - before).toBe(3);
  });

  it('concurrent reads of one stream leave the latest revision cached', async () => {
    const { cache } = listing(store);
    const stream = freshStream();
    await add(stream, 0, 3);
    const first = cache.state(stream);
    await add(stream, 3, 3);
    const second = cache.state(stream);
    const states = await Promise.all([first, second]);
    expect(states[1]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(cache.cachedRevision(stream)).toBe(5);
    expect(await cache.state(stream)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => listing(store, 0)).toThrow(RangeError);
    expect(() => listing(store, 1.5)).toThrow(RangeError);
  });
});
