import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collect, describeEventStoreConformance, freshStream, newEvent } from '../../test/conformance';
import type { Worker } from 'node:worker_threads';
import { EventStoreSchemaError, EventStoreUnavailable, WrongExpectedRevision } from '../errors';
import { LATEST_SCHEMA_VERSION } from './migrations';
import { SqliteEventStore } from './sqlite-event-store';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'nrm-es-'));
}

describeEventStoreConformance('sqlite (file, WAL)', async () => {
  const dir = tempDir();
  const filename = join(dir, 'events.sqlite');
  const store = new SqliteEventStore({ filename, pollIntervalMs: 50 });
  return {
    store,
    openAnother: async () => new SqliteEventStore({ filename, pollIntervalMs: 50 }),
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeEventStoreConformance('sqlite (file, WAL, FULL, committing on its own connection)', async () => {
  const dir = tempDir();
  const filename = join(dir, 'events.sqlite');
  const store = new SqliteEventStore({ filename, pollIntervalMs: 50, writerThread: false });
  return {
    store,
    openAnother: async () => new SqliteEventStore({ filename, pollIntervalMs: 50, writerThread: false }),
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describeEventStoreConformance('sqlite (:memory:, synchronous NORMAL)', async () => {
  const store = new SqliteEventStore({ filename: ':memory:', synchronous: 'NORMAL', batchSize: 64 });
  return { store, dispose: () => store.close() };
});

describe('sqlite adapter specifics', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates its data directory, uses WAL and the chosen synchronous level', async () => {
    const filename = join(dir, 'nested', 'deeper', 'events.sqlite');
    const full = new SqliteEventStore({ filename });
    await full.close();
    const db = new Database(filename, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();

    // synchronous is a per-connection setting: check it on the connection that commits the appends
    // (the writer thread's with FULL, the store's own with NORMAL) and on the store's own.
    for (const [level, code, thread] of [
      ['FULL', 2, true],
      ['NORMAL', 1, false],
    ] as const) {
      const store = new SqliteEventStore({ filename, synchronous: level });
      expect(store.hasWriterThread).toBe(thread);
      expect(await store.writeConnectionSynchronous()).toBe(code);
      const inner = (store as unknown as { db: Database.Database }).db;
      expect(inner.pragma('synchronous', { simple: true })).toBe(code);
      await store.close();
    }
    const memory = new SqliteEventStore({ filename: ':memory:' });
    expect(memory.hasWriterThread).toBe(false);
    await memory.close();
  });

  it('keeps events across reopening and applies migrations once', async () => {
    const filename = join(dir, 'events.sqlite');
    const first = new SqliteEventStore({ filename });
    const stream = freshStream();
    await first.append(stream, [newEvent('Kept', { n: 1 })], { expectedRevision: 'no-stream' });
    await first.close();

    const second = new SqliteEventStore({ filename });
    expect((await collect(second.readStream(stream))).map((e) => e.data)).toEqual([{ n: 1 }]);
    await second.close();

    const db = new Database(filename, { readonly: true });
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    db.close();
    expect(versions).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })));
  });

  it('refuses to open a database written by a newer schema, with a clear message', async () => {
    const filename = join(dir, 'events.sqlite');
    await new SqliteEventStore({ filename }).close();
    const db = new Database(filename);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      LATEST_SCHEMA_VERSION + 1,
      'from the future',
      new Date().toISOString(),
    );
    db.close();
    expect(() => new SqliteEventStore({ filename })).toThrow(EventStoreSchemaError);
    expect(() => new SqliteEventStore({ filename })).toThrow(/newer than this nrm-ledger knows/);
  });

  it('refuses updates and deletes of stored events at the database level', async () => {
    const filename = join(dir, 'events.sqlite');
    const store = new SqliteEventStore({ filename });
    await store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' });
    await store.close();
    const db = new Database(filename);
    expect(() => db.prepare("UPDATE events SET data = '{}'").run()).toThrow(/immutable/);
    expect(() => db.prepare('DELETE FROM events').run()).toThrow(/immutable/);
    db.close();
  });

  it('never hands out a position again after its last events were deleted', async () => {
    const filename = join(dir, 'events.sqlite');
    const store = new SqliteEventStore({ filename });
    for (let i = 0; i < 6; i++)
      await store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' });
    // An operator with file access drops the immutability triggers and deletes the last 3 events.
    const db = new Database(filename);
    db.exec('DROP TRIGGER events_are_immutable_delete');
    db.prepare('DELETE FROM events WHERE position > 3').run();
    expect(() => db.prepare('UPDATE positions_handed_out SET position = 3').run()).toThrow(/never go down/);
    expect(() => db.prepare('DELETE FROM positions_handed_out').run()).toThrow(/kept/);
    db.close();
    expect(await store.headPosition()).toBe(3);
    expect(await store.positionsHandedOut()).toBe(6);
    const appended = await store.append(freshStream(), [newEvent(), newEvent()], {
      expectedRevision: 'no-stream',
    });
    expect(appended.position).toBe(8);
    expect((await collect(store.readAll())).map((e) => e.position)).toEqual([1, 2, 3, 7, 8]);
    await store.close();

    console.log('position reuse: deleted 3, next appends at 7 and 8, reused 0');
  });

  it('a subscription sees appends made through another connection to the same file', async () => {
    const filename = join(dir, 'events.sqlite');
    const reader = new SqliteEventStore({ filename, pollIntervalMs: 20 });
    const writer = new SqliteEventStore({ filename });
    const subscription = reader.subscribe({ fromPosition: 'end' });
    const iterator = subscription[Symbol.asyncIterator]();
    const next = iterator.next();
    const stream = freshStream();
    await writer.append(stream, [newEvent('FromElsewhere')], { expectedRevision: 'no-stream' });
    expect((await next).value).toMatchObject({ type: 'FromElsewhere', stream });
    await subscription.close();
    await reader.close();
    await writer.close();
  });

  it('shares one commit among the appends gathered while the writer thread commits; a conflict refuses only its own', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    const taken = freshStream();
    await store.append(taken, [newEvent()], { expectedRevision: 'no-stream' });
    const streams = Array.from({ length: 20 }, () => freshStream());
    const results = await Promise.allSettled([
      ...streams.map((s) => store.append(s, [newEvent()], { expectedRevision: 'no-stream' })),
      store.append(taken, [newEvent()], { expectedRevision: 'no-stream' }),
    ]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevision);
    // Positions follow the order of the calls.
    const positions = results
      .slice(0, 20)
      .map((r) => (r as PromiseFulfilledResult<{ position: number }>).value.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(20);
    await store.close();
  });

  it('refuses appends as unavailable, and says so in health, once its writer thread is gone', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    await store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' }); // starts the thread
    // Stopped while idle (terminating it inside a native SQLite call would abort the process:
    // the store itself never terminates it, it asks it to close).
    await (store as unknown as { thread: Worker }).thread.terminate();
    await expect(
      store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' }),
    ).rejects.toBeInstanceOf(EventStoreUnavailable);
    expect(await store.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/writer thread/) });
    await store.close();
  });

  it('stores the recorded-at time from its clock, also through the writer thread', async () => {
    const clock = () => new Date('2026-01-02T03:04:05.000Z');
    const threaded = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), clock });
    expect(threaded.hasWriterThread).toBe(true);
    const s = freshStream();
    await threaded.append(s, [newEvent()], { expectedRevision: 'no-stream' });
    expect((await collect(threaded.readStream(s)))[0]!.recordedAt).toBe('2026-01-02T03:04:05.000Z');
    await threaded.close();

    const store = new SqliteEventStore({
      filename: ':memory:',
      clock: () => new Date('2026-01-02T03:04:05.000Z'),
    });
    const stream = freshStream();
    await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
    const [event] = await collect(store.readStream(stream));
    expect(event!.recordedAt).toBe('2026-01-02T03:04:05.000Z');
    await store.close();
  });
});
