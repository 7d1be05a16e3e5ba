import { AppendSignal, CatchUpSubscription, type ReadBatch } from './catch-up-subscription';
import type { RecordedEvent } from './event-store';

function recorded(position: number): RecordedEvent {
  return {
    id: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
    stream: 's',
    revision: position - 1,
    position,
    type: 'T',
    schemaVersion: 1,
    data: {},
    metadata: { correlationId: 'c', occurredAt: '2026-11-30T00:00:00Z' },
    recordedAt: '2026-11-30T00:00:00Z',
  };
}

/** A fake store of `head` events that records every batch the subscription asks for. */
function fakeStore(head: { value: number }) {
  const calls: Array<[number, number]> = [];
  const readBatch: ReadBatch = async (after, limit) => {
    calls.push([after, limit]);
    const events: RecordedEvent[] = [];
    for (let p = after + 1; p <= head.value && events.length < limit; p++) events.push(recorded(p));
    return { events, scannedTo: events.length === limit ? events[events.length - 1]!.position : head.value };
  };
  return { calls, readBatch };
}

describe('CatchUpSubscription', () => {
  it('reads the next batch only after the consumer has taken the previous one (back-pressure)', async () => {
    const head = { value: 10_000 };
    const { calls, readBatch } = fakeStore(head);
    const subscription = new CatchUpSubscription({
      after: 0,
      readBatch,
      signal: new AppendSignal(),
      batchSize: 4,
      pollIntervalMs: 10,
    });
    const iterator = subscription[Symbol.asyncIterator]();
    await iterator.next();
    expect(calls).toEqual([[0, 4]]);
    await iterator.next();
    await iterator.next();
    await iterator.next();
    expect(calls).toHaveLength(1); // four taken, nothing read ahead
    expect((await iterator.next()).value).toMatchObject({ position: 5 });
    expect(calls).toEqual([
      [0, 4],
      [4, 4],
    ]);
    await subscription.close();
  });

  it('wakes on an append signal instead of waiting for the poll interval', async () => {
    const head = { value: 0 };
    const { readBatch } = fakeStore(head);
    const signal = new AppendSignal();
    const subscription = new CatchUpSubscription({
      after: 0,
      readBatch,
      signal,
      batchSize: 4,
      pollIntervalMs: 60_000,
    });
    const iterator = subscription[Symbol.asyncIterator]();
    const next = iterator.next();
    await new Promise((r) => setTimeout(r, 20));
    head.value = 1;
    signal.notify();
    expect((await next).value).toMatchObject({ position: 1 });
    await subscription.close();
  });

  it('skips past events its filter left out, without reading them again', async () => {
    const calls: number[] = [];
    const readBatch: ReadBatch = async (after) => {
      calls.push(after);
      return { events: [], scannedTo: 500 }; // 500 stored, none matching
    };
    const subscription = new CatchUpSubscription({
      after: 0,
      readBatch,
      signal: new AppendSignal(),
      batchSize: 4,
      pollIntervalMs: 5,
    });
    const iterator = subscription[Symbol.asyncIterator]();
    const pending = iterator.next();
    await new Promise((r) => setTimeout(r, 30));
    await subscription.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(calls[0]).toBe(0);
    expect(calls.slice(1).every((after) => after === 500)).toBe(true);
  });

  it('can be iterated only once', () => {
    const subscription = new CatchUpSubscription({
      after: 0,
      readBatch: async () => ({ events: [], scannedTo: 0 }),
      signal: new AppendSignal(),
      batchSize: 1,
      pollIntervalMs: 5,
    });
    subscription[Symbol.asyncIterator]();
    expect(() => subscription[Symbol.asyncIterator]()).toThrow(/only once/);
    void subscription.close();
  });
});
