import type { RecordedEvent, Subscription } from './event-store';

/**
 * Reads up to `limit` events after `position` that pass the subscription's
 * filter, and says how far the store was examined (`scannedTo`), so that a
 * filter skipping many events does not rescan them.
 */
export type ReadBatch = (
  after: number,
  limit: number,
) => Promise<{ readonly events: readonly RecordedEvent[]; readonly scannedTo: number }>;

/**
 * Wakes waiting subscriptions when the adapter commits. Adapters whose writers
 * may live in other processes also poll, so a missed wake-up only delays.
 */
export class AppendSignal {
  private waiters = new Set<() => void>();
  /** Grows with every notify; a waiter that saw an older value does not wait. */
  version = 0;

  notify(): void {
    this.version++;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next notify after `seenVersion`, after `timeoutMs`, or when `abort` fires. */
  wait(seenVersion: number, timeoutMs: number, abort: AbortSignal): Promise<void> {
    if (seenVersion !== this.version || abort.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        abort.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      abort.addEventListener('abort', done, { once: true });
    });
  }
}

export interface CatchUpOptions {
  /** Deliver events with a position greater than this. */
  readonly after: number;
  readonly readBatch: ReadBatch;
  readonly signal: AppendSignal;
  readonly batchSize: number;
  /** Longest wait between two looks at the store when no wake-up arrives. */
  readonly pollIntervalMs: number;
  readonly onClose?: () => void;
}

/**
 * A catch-up subscription over any adapter that can read a batch after a
 * position. It reads the next batch only once the consumer has taken the
 * previous one, so a slow consumer holds at most one batch in memory.
 */
export class CatchUpSubscription implements Subscription {
  private readonly abort = new AbortController();
  private iterating = false;

  constructor(private readonly options: CatchUpOptions) {}

  get closed(): boolean {
    return this.abort.signal.aborted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.abort.abort();
    this.options.onClose?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.iterating) throw new Error('a subscription can be iterated only once');
    this.iterating = true;
    return this.events();
  }

  private async *events(): AsyncGenerator<RecordedEvent> {
    const { readBatch, signal, batchSize, pollIntervalMs } = this.options;
    let after = this.options.after;
    try {
      while (!this.closed) {
        const seen = signal.version;
        const { events: batch, scannedTo } = await readBatch(after, batchSize);
        if (this.closed) return;
        if (batch.length === 0) {
          after = Math.max(after, scannedTo);
          await signal.wait(seen, pollIntervalMs, this.abort.signal);
          continue;
        }
        for (const event of batch) {
          if (this.closed) return;
          yield event;
          after = event.position;
        }
        after = Math.max(after, scannedTo);
      }
    } finally {
      await this.close();
    }
  }
}
