import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshStream, newEvent } from '../../test/conformance';
import type { RecordedEvent } from '../event-store';
import { SqliteEventStore } from './sqlite-event-store';

/**
 * `lastPositionOf` (issue #16 item 2): what a read waits for is the last event of the types its read
 * models follow, not the head, which the audit events of earlier reads keep moving.
 */
describe('SqliteEventStore.lastPositionOf', () => {
  let dir: string;
  let store: SqliteEventStore;
  const CASE = ['PotentialVictimReported', 'ReferralMade'];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-lastof-'));
    store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), pollIntervalMs: 50 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function append(...types: string[]): Promise<number> {
    const result = await store.append(
      freshStream(),
      types.map((type) => newEvent(type)),
      { expectedRevision: 'no-stream' },
    );
    return result.position;
  }

  it('is 0 on an empty store and for types never stored', async () => {
    expect(await store.lastPositionOf(CASE)).toBe(0);
    await append('RecordAccessed');
    expect(await store.lastPositionOf(CASE)).toBe(0);
    expect(await store.lastPositionOf([])).toBe(0);
  });

  it('stays at the last event of its types while events of other types follow, and moves with a new one', async () => {
    const reported = await append('PotentialVictimReported');
    for (let i = 0; i < 5; i++) await append('RecordAccessed');
    expect(await store.headPosition()).toBe(reported + 5);
    expect(await store.lastPositionOf(CASE)).toBe(reported);
    // Asked again: only the rows since the last call are looked at; the answer is the same.
    await append('RecordAccessed');
    expect(await store.lastPositionOf(CASE)).toBe(reported);
    const referral = await append('ReferralMade');
    await append('RecordAccessed', 'AccessDenied');
    expect(await store.lastPositionOf(CASE)).toBe(referral);
    // Another set of types keeps its own answer.
    expect(await store.lastPositionOf(['AccessDenied'])).toBe(referral + 2);
    expect(await store.lastPositionOf(['RecordAccessed', 'AccessDenied'])).toBe(referral + 2);
  });

  it('gives the same answer after more new rows than it scans one by one', async () => {
    expect(await store.lastPositionOf(CASE)).toBe(0);
    const reported = await append('PotentialVictimReported');
    await store.append(
      freshStream(),
      Array.from({ length: 300 }, () => newEvent('RecordAccessed')),
      { expectedRevision: 'no-stream' },
    );
    expect(await store.lastPositionOf(CASE)).toBe(reported);
    const late = await append('ReferralMade');
    expect(await store.lastPositionOf(CASE)).toBe(late);
  });

  it('sees what another connection to the file appended', async () => {
    const other = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), writerThread: false });
    try {
      expect(await store.lastPositionOf(CASE)).toBe(0);
      const { position } = await other.append(freshStream(), [newEvent('ReferralMade')], {
        expectedRevision: 'no-stream',
      });
      expect(await store.lastPositionOf(CASE)).toBe(position);
    } finally {
      await other.close();
    }
  });

  it('`wake` lets a reader on another connection look at once, not at its next poll', async () => {
    // A reader that would otherwise poll only every minute.
    const reader = new SqliteEventStore({
      filename: join(dir, 'events.sqlite'),
      writerThread: false,
      pollIntervalMs: 60_000,
    });
    const subscription = reader.subscribe({ fromPosition: 'end' });
    try {
      const next = subscription[Symbol.asyncIterator]().next();
      await new Promise((resolve) => setTimeout(resolve, 50)); // it is waiting now
      const position = await append('ReferralMade');
      reader.wake();
      const delivered: IteratorResult<RecordedEvent> = await next;
      expect(delivered.done).toBe(false);
      expect((delivered.value as RecordedEvent).position).toBe(position);
    } finally {
      await subscription.close();
      await reader.close();
    }
  });
});
