import type { EventStore, RecordedEvent } from './event-store';

export interface FoldedStreamCacheOptions<S> {
  /** The state of a stream with no events. */
  readonly initial: () => S;
  /** Folds one event into the state; must not change the state it is given (states are shared). */
  readonly evolve: (state: S, event: RecordedEvent) => S;
  /** Streams kept, least recently read dropped first. */
  readonly maxStreams: number;
}

interface Entry<S> {
  /** Revision of the last event folded into `state`; -1 for none. */
  readonly revision: number;
  readonly state: S;
}

/**
 * The folded state of streams, kept by the revision it was folded to, and checked against the
 * stream on every read: each `state(stream)` reads the stream from the revision after the cached
 * one (one indexed look-up that finds nothing when the stream has not moved) and folds only what
 * it finds. So an event appended and acknowledged before the call always counts, as if the whole
 * stream were folded again, at the cost of that one look-up. Bounded: least recently read streams
 * are dropped beyond `maxStreams`.
 */
export class FoldedStreamCache<S> {
  private readonly entries = new Map<string, Entry<S>>();
  /** Reads answered without folding anything, reads that folded new events, streams dropped. */
  readonly stats = { unchanged: 0, folded: 0, evicted: 0 };

  constructor(
    private readonly store: EventStore,
    private readonly options: FoldedStreamCacheOptions<S>,
  ) {
    if (!Number.isInteger(options.maxStreams) || options.maxStreams < 1)
      throw new RangeError('maxStreams must be a positive integer');
  }

  async state(stream: string): Promise<S> {
    const cached = this.entries.get(stream);
    let revision = cached?.revision ?? -1;
    let state = cached ? cached.state : this.options.initial();
    let folded = 0;
    for await (const event of this.store.readStream(stream, { from: revision + 1 })) {
      state = this.options.evolve(state, event);
      revision = event.revision;
      folded++;
    }
    if (folded === 0) this.stats.unchanged++;
    else this.stats.folded++;
    // Another read of the same stream may have stored a later revision meanwhile: keep the later.
    const now = this.entries.get(stream);
    if (now === undefined || now.revision <= revision) {
      this.entries.delete(stream); // re-inserted last: the most recently read
      this.entries.set(stream, { revision, state });
    } else {
      this.entries.delete(stream);
      this.entries.set(stream, now);
    }
    while (this.entries.size > this.options.maxStreams) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.stats.evicted++;
    }
    return state;
  }

  /** The revision the stream's state is cached at, if it is cached. */
  cachedRevision(stream: string): number | undefined {
    return this.entries.get(stream)?.revision;
  }

  get size(): number {
    return this.entries.size;
  }
}
