import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type EventStore, type RecordedEvent, type Subscription } from '@nrm/event-store';
import {
  appendMixed,
  collect,
  countingProjection,
  expectedCounts,
  newEvent,
  readCounts,
} from '../test/counting-projection';
import { READ_MODEL_BACKENDS, type ReadModelLocation } from '../test/read-model-backends';
import type { Projection } from './projection';
import { Projector, ProjectorFailed, type ProjectorLogger, type RebuildProgress } from './projector';
import type { ReadModelStore, SqlRunner } from './store/read-model-store';

let dir: string;
let store: SqliteEventStore;
let here: ReadModelLocation;
const open: Projector[] = [];
const locations: ReadModelLocation[] = [];

/** A projector over the test's read-model location (a restarted process: a new store on the same location). */
function projector(
  projections: readonly Projection[] = [countingProjection()],
  options: {
    location?: ReadModelLocation;
    batchSize?: number;
    logger?: ProjectorLogger;
    store?: EventStore;
  } = {},
): Projector {
  const p = new Projector({
    store: options.store ?? store,
    readModels: (options.location ?? here).open(),
    projections,
    batchSize: options.batchSize ?? 16,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  open.push(p);
  return p;
}

function db(p: Projector): ReadModelStore {
  return p.readModelStore;
}

async function checkpointRows(
  runner: SqlRunner,
): Promise<{ name: string; version: number; position: number }[]> {
  return runner.all<{ name: string; version: number; position: number }>(
    'SELECT name, version, position FROM projection_checkpoints ORDER BY name',
  );
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function allEvents(): Promise<RecordedEvent[]> {
  return collect(store.readAll());
}

/** Re-delivers everything: each event twice, and always from the start whatever the checkpoint. */
function redeliveringStore(inner: EventStore): EventStore {
  return {
    append: (...args) => inner.append(...args),
    readStream: (...args) => inner.readStream(...args),
    readAll: (...args) => inner.readAll(...args),
    headPosition: () => inner.headPosition(),
    health: () => inner.health(),
    close: () => inner.close(),
    subscribe(): Subscription {
      const sub = inner.subscribe({ fromPosition: 'start' });
      return {
        get closed() {
          return sub.closed;
        },
        close: () => sub.close(),
        async *[Symbol.asyncIterator]() {
          for await (const event of sub) {
            yield event;
            yield event;
          }
        },
      };
    },
  };
}

describe.each(READ_MODEL_BACKENDS)('Projector on $name read models', (backend) => {
  beforeEach(() => {
    here = backend.location();
    locations.push(here);
    dir = mkdtempSync(join(tmpdir(), 'nrm-proj-'));
    store = new SqliteEventStore({
      filename: join(dir, 'events.sqlite'),
      synchronous: 'NORMAL',
      pollIntervalMs: 20,
    });
  });

  afterEach(async () => {
    for (const p of open.splice(0)) await p.close();
    for (const location of locations.splice(0)) await location.dispose();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('live', () => {
    it('projects events stored before and appended after start, and waitFor proves it', async () => {
      const p = projector();
      await appendMixed(store, 40);
      await p.start();
      expect(await p.waitFor(await store.headPosition(), 5000)).toBe(true);
      const head = await appendMixed(store, 75, { perAppend: 3 });

      expect(await p.waitFor(head, 5000)).toBe(true);
      expect(await readCounts(db(p))).toEqual(expectedCounts(await allEvents()));
      // The checkpoint covers the last event, ignored types included, so waitFor(head) can succeed.
      expect(p.position('counts')).toBe(head);
      expect(p.position()).toBe(head);
      expect(await checkpointRows(db(p))).toEqual([{ name: 'counts', version: 1, position: head }]);
      expect(p.health()).toEqual({ ok: true, state: 'running', positions: { counts: head } });
      expect(await p.waitFor(head + 1, 30)).toBe(false);
    });

    it('resolves a pending waitFor when the event arrives, and false on close', async () => {
      const p = projector();
      await p.start();
      const waiting = p.waitFor(1, 5000);
      await store.append('case-1', [newEvent('CaseOpened')], { expectedRevision: 'no-stream' });
      expect(await waiting).toBe(true);

      const never = p.waitFor(99, 5000);
      await p.close();
      expect(await never).toBe(false);
      expect(p.health().state).toBe('closed');
    });

    it('keeps projections apart: each sees only its types and keeps its own checkpoint', async () => {
      const all = countingProjection({
        name: 'everything',
        eventTypes: ['CaseOpened', 'CaseNoted', 'Ignored'],
      });
      const p = projector([countingProjection(), all]);
      await p.start();
      const head = await appendMixed(store, 30);
      expect(await p.waitFor(head, 5000)).toBe(true);
      const events = await allEvents();
      expect(await readCounts(db(p))).toEqual(expectedCounts(events));
      expect(await readCounts(db(p), 'everything')).toEqual(
        expectedCounts(events, ['CaseOpened', 'CaseNoted', 'Ignored']),
      );
      expect(p.health().positions).toEqual({ counts: head, everything: head });
    });

    it('applies a backlog in transactions of up to batchSize events, each with its checkpoint', async () => {
      // Inside a transaction the stored checkpoint is still the previous commit's: it tells batches apart.
      const batches = new Map<number, number>();
      const observer: Projection = {
        name: 'observer',
        version: 1,
        setUp: () => Promise.resolve(),
        tearDown: () => Promise.resolve(),
        async apply(tx) {
          const row = await tx.get<{ position: number }>(
            "SELECT position FROM projection_checkpoints WHERE name = 'observer'",
          );
          const seen = row?.position ?? -1;
          batches.set(seen, (batches.get(seen) ?? 0) + 1);
        },
      };
      const head = await appendMixed(store, 100);
      const p = projector([observer], { batchSize: 16 });
      await p.start();
      expect(await p.waitFor(head, 5000)).toBe(true);
      expect([...batches.values()]).toEqual([16, 16, 16, 16, 16, 16, 4]);
      expect([...batches.keys()]).toEqual([0, 16, 32, 48, 64, 80, 96]);
    });

    it('refuses an empty or ambiguous set of projections and unknown names', () => {
      expect(() => projector([])).toThrow(/at least one/);
      expect(() => projector([countingProjection(), countingProjection()])).toThrow(/two projections/);
      expect(() => projector([countingProjection()], { batchSize: 0 })).toThrow(/batchSize/);
      expect(() => projector().position('nope')).toThrow(/no projection named 'nope'/);
    });
  });

  describe('exactly-once effect', () => {
    it('changes nothing when an event is delivered again', async () => {
      await appendMixed(store, 30);
      const p = projector([countingProjection()], { store: redeliveringStore(store), batchSize: 4 });
      await p.start();
      let head = await appendMixed(store, 20);
      expect(await p.waitFor(head, 5000)).toBe(true);
      expect(await readCounts(db(p))).toEqual(expectedCounts(await allEvents()));

      // A restart on this store replays everything from position 1, twice over.
      await p.stop();
      await p.start();
      head = await appendMixed(store, 5);
      expect(await p.waitFor(head, 5000)).toBe(true);
      expect(await readCounts(db(p))).toEqual(expectedCounts(await allEvents()));
      expect(p.position()).toBe(head);
    });

    it('resumes from its checkpoint after a restart without applying anything twice', async () => {
      const first = projector([countingProjection()], { batchSize: 5 });
      await first.start();
      const firstHead = await appendMixed(store, 50);
      expect(await first.waitFor(firstHead, 5000)).toBe(true);
      await first.close();

      const head = await appendMixed(store, 30);
      const subscribe = jest.spyOn(store, 'subscribe');
      const second = projector([countingProjection()], { batchSize: 5 });
      await second.load();
      expect(second.position()).toBe(firstHead); // known before start
      await second.start();
      expect(subscribe).toHaveBeenCalledWith({ fromPosition: { after: firstHead } });
      expect(await second.waitFor(head, 5000)).toBe(true);
      expect(await readCounts(db(second))).toEqual(expectedCounts(await allEvents()));
      expect(second.position()).toBe(head);
    });

    it('commits what was delivered before stop, and stop/start/stop are idempotent', async () => {
      const p = projector([countingProjection()], { batchSize: 1000 });
      await p.stop();
      await p.start();
      await p.start();
      const head = await appendMixed(store, 12);
      expect(await p.waitFor(head, 5000)).toBe(true);
      await p.stop();
      await p.stop();
      expect(p.health()).toMatchObject({ ok: false, state: 'stopped' });
      expect(await readCounts(db(p))).toEqual(expectedCounts(await allEvents()));
    });
  });

  describe('versions and rebuilds', () => {
    it('sets up a new projection once, and drops and rebuilds it when its version changes', async () => {
      const v1 = countingProjection();
      const setUp = jest.spyOn(v1, 'setUp');
      const first = projector([v1]);
      await first.start();
      const head = await appendMixed(store, 40);
      expect(await first.waitFor(head, 5000)).toBe(true);
      await first.close();
      expect(setUp).toHaveBeenCalledTimes(1);

      // Same version: tables and checkpoint are kept (the planted row survives).
      const planter = here.open();
      await planter.run("INSERT INTO counts_counts (stream_type, n, last_position) VALUES ('planted', 1, 0)");
      await planter.close();
      const same = countingProjection();
      const sameSetUp = jest.spyOn(same, 'setUp');
      const second = projector([same]);
      await second.start();
      expect(await second.waitFor(head, 5000)).toBe(true);
      expect(sameSetUp).not.toHaveBeenCalled();
      expect((await readCounts(db(second))).map((r) => r.stream_type)).toContain('planted');
      await second.close();

      // Version 2: torn down, set up, rebuilt from zero.
      const v2 = countingProjection({ version: 2 });
      const tearDown = jest.spyOn(v2, 'tearDown');
      const third = projector([v2]);
      await third.load();
      expect(third.position()).toBe(0); // the stored checkpoint belongs to version 1
      await third.start();
      expect(tearDown).toHaveBeenCalledTimes(1);
      expect(await third.waitFor(head, 5000)).toBe(true);
      expect(await readCounts(db(third))).toEqual(expectedCounts(await allEvents()));
      expect(await checkpointRows(db(third))).toEqual([{ name: 'counts', version: 2, position: head }]);
    });

    it('rebuilds while running to the live result, with progress and a positive rate, then resumes', async () => {
      const p = projector([countingProjection()], { batchSize: 64 });
      await p.start();
      const head = await appendMixed(store, 500, { perAppend: 25 });
      expect(await p.waitFor(head, 5000)).toBe(true);
      const live = await readCounts(db(p));

      const progress: RebuildProgress[] = [];
      const states = new Set<string>();
      const result = await p.rebuild('counts', (e) => {
        progress.push(e);
        states.add(`${p.health().state} ${p.health().ok}`);
      });
      expect([...states]).toEqual(['rebuilding true']);
      expect(await readCounts(db(p))).toEqual(live);
      expect(p.position('counts')).toBe(head);
      expect(result.events).toBe(head);
      expect(result.applied).toBe(375); // 3 in 4 are counted types
      expect(result.seconds).toBeGreaterThan(0);
      expect(result.eventsPerSec).toBeGreaterThan(0);
      // Pages of 64 counted events, then the last page: several reports, increasing, ending at the head.
      expect(progress.length).toBeGreaterThanOrEqual(Math.ceil(375 / 64));
      expect(progress.map((e) => e.processed)).toEqual(
        [...progress.map((e) => e.processed)].sort((a, b) => a - b),
      );
      expect(progress.at(-1)).toMatchObject({ processed: head, total: head });
      expect(progress.every((e) => e.eventsPerSec > 0)).toBe(true);

      // Back to live.
      expect(p.health().state).toBe('running');
      const later = await appendMixed(store, 8);
      expect(await p.waitFor(later, 5000)).toBe(true);
      expect(await readCounts(db(p))).toEqual(expectedCounts(await allEvents()));
    });

    it('rebuilds when not started (CLI use) into a fresh database, equal to the live one', async () => {
      const live = projector();
      await live.start();
      const head = await appendMixed(store, 200, { perAppend: 7 });
      expect(await live.waitFor(head, 5000)).toBe(true);

      const elsewhere = backend.location();
      locations.push(elsewhere);
      const cli = projector([countingProjection()], { location: elsewhere, batchSize: 50 });
      const result = await cli.rebuild('counts');
      expect(result).toMatchObject({ events: head, applied: 150 });
      expect(await readCounts(db(cli))).toEqual(await readCounts(db(live)));
      expect(cli.position()).toBe(head);
      expect(cli.health().state).toBe('stopped');
      await expect(cli.rebuild('nope')).rejects.toThrow(/no projection named/);
    });

    it('stops at the head of the time of the call while appends go on, and the live loop carries on', async () => {
      await appendMixed(store, 300, { perAppend: 30 });
      const p = projector([countingProjection()], { batchSize: 32 });
      await p.start();
      const head = await store.headPosition();
      let appending = true;
      const writer = (async () => {
        // Appends resolve within microtasks: give the rebuild its turns.
        while (appending) await appendMixed(store, 3, { between: () => new Promise((r) => setImmediate(r)) });
      })();
      const result = await p.rebuild('counts');
      appending = false;
      await writer;
      expect(result.events).toBe(head);
      const end = await store.headPosition();
      expect(await p.waitFor(end, 5000)).toBe(true);
      expect(await readCounts(db(p))).toEqual(expectedCounts(await allEvents()));
    });
  });

  describe('a failing projection', () => {
    const poisoned = (e: { data: Record<string, unknown> }): boolean => e.data.poison === true;

    it('stops at the failing event: rolled back, logged without payload, health down, never skipped', async () => {
      const errors: unknown[] = [];
      const logger: ProjectorLogger = {
        info: () => undefined,
        error: (obj, msg) => errors.push({ obj, msg }),
      };
      await appendMixed(store, 25);
      const { position: poison } = await store.append(
        'case-poison',
        [newEvent('CaseOpened', { poison: true, name: 'Jane Example' })],
        { expectedRevision: 'no-stream' },
      );
      await appendMixed(store, 10);

      const fragile = countingProjection({ name: 'fragile', failOn: poisoned });
      const p = projector([countingProjection(), fragile], { batchSize: 64, logger });
      await p.start();
      await until(() => p.health().state === 'failed');

      const health = p.health();
      expect(health).toEqual({
        ok: false,
        state: 'failed',
        positions: { counts: poison - 1, fragile: poison - 1 },
        failure: {
          projection: 'fragile',
          position: poison,
          eventType: 'CaseOpened',
          message: 'refused event of type CaseOpened',
        },
      });
      // Nothing partial: neither the failing write nor the other projection's share of that event stayed.
      const before = (await allEvents()).filter((e) => e.position < poison);
      expect(await readCounts(db(p), 'fragile')).toEqual(expectedCounts(before));
      expect(await readCounts(db(p))).toEqual(expectedCounts(before));
      expect((await checkpointRows(db(p))).map((r) => r.position)).toEqual([poison - 1, poison - 1]);
      expect(errors).toEqual([
        {
          obj: health.failure,
          msg: 'projection failed; projector stopped',
        },
      ]);
      expect(JSON.stringify(errors)).not.toContain('Jane');
      expect(await p.waitFor(poison, 1000)).toBe(false);

      // A restart retries the same event: it is not skipped.
      await p.start();
      await until(() => p.health().state === 'failed');
      expect(p.health().failure?.position).toBe(poison);
      expect(p.position()).toBe(poison - 1);
      await p.close();

      // Once the projection is fixed, the event is applied and the projector catches up.
      const fixed = projector([countingProjection(), countingProjection({ name: 'fragile' })]);
      await fixed.start();
      const head = await store.headPosition();
      expect(await fixed.waitFor(head, 5000)).toBe(true);
      expect(await readCounts(db(fixed), 'fragile')).toEqual(expectedCounts(await allEvents()));
    });

    it('finds the event at fault when a projection applies batches, and keeps the sound events before it', async () => {
      await appendMixed(store, 20);
      const { position: poison } = await store.append('case-b', [newEvent('CaseOpened', { poison: true })], {
        expectedRevision: 'no-stream',
      });
      await appendMixed(store, 10);
      const single = countingProjection({ name: 'batched', failOn: poisoned });
      let batches = 0;
      const batched: Projection = {
        ...single,
        async applyBatch(tx, events) {
          batches++;
          for (const event of events) await single.apply(tx, event);
        },
      };
      const p = projector([batched], { batchSize: 64 });
      await p.start();
      await until(() => p.health().state === 'failed');
      expect(batches).toBeGreaterThan(0);
      expect(p.health().failure).toMatchObject({ projection: 'batched', position: poison });
      expect(p.position()).toBe(poison - 1);
      expect(await readCounts(db(p), 'batched')).toEqual(
        expectedCounts((await allEvents()).filter((e) => e.position < poison)),
      );
    });

    it('fails a rebuild the same way and does not resume the live loop', async () => {
      await appendMixed(store, 10);
      const { position: poison } = await store.append('case-x', [newEvent('CaseNoted', { poison: true })], {
        expectedRevision: 'no-stream',
      });
      const p = projector([countingProjection({ failOn: poisoned })], { batchSize: 4 });
      const rebuilt = p.rebuild('counts');
      await expect(rebuilt).rejects.toBeInstanceOf(ProjectorFailed);
      await expect(rebuilt).rejects.toThrow(`projection 'counts' failed at position ${poison}`);
      expect(p.health()).toMatchObject({ ok: false, state: 'failed', failure: { position: poison } });
      expect(p.position()).toBeLessThan(poison);
      expect(await readCounts(db(p))).toEqual(
        expectedCounts((await allEvents()).filter((e) => e.position <= p.position())),
      );
    });

    it('builds the indexes an interrupted rebuild left out at the next start, and catches up', async () => {
      const indexed = (failOn?: (e: { data: Record<string, unknown> }) => boolean): Projection => ({
        ...countingProjection(failOn ? { failOn } : {}),
        createIndexes: (tx) =>
          tx.exec('CREATE INDEX IF NOT EXISTS counts_by_position ON counts_counts (last_position)'),
      });
      const hasIndex = async (runner: SqlRunner): Promise<boolean> => {
        const sql =
          runner.dialect === 'sqlite'
            ? "SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?"
            : 'SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?';
        return (await runner.all(sql, ['counts_by_position'])).length === 1;
      };
      await appendMixed(store, 10);
      const { position: poison } = await store.append('case-x', [newEvent('CaseNoted', { poison: true })], {
        expectedRevision: 'no-stream',
      });
      await appendMixed(store, 5);
      const first = projector([indexed(poisoned)], { batchSize: 4 });
      await expect(first.rebuild('counts')).rejects.toBeInstanceOf(ProjectorFailed);
      // Stopped before its end: the rows before the failing event are committed, the index not yet built.
      expect(first.position()).toBe(poison - 1);
      expect(await hasIndex(db(first))).toBe(false);
      await first.close();

      // Restarted with the projection mended: the index is built at start, the rest applied live.
      const second = projector([indexed()], { batchSize: 4 });
      await second.start();
      expect(await hasIndex(db(second))).toBe(true);
      const head = await store.headPosition();
      expect(await second.waitFor(head, 5000)).toBe(true);
      expect(await readCounts(db(second))).toEqual(expectedCounts(await allEvents()));

      // A rebuild that reaches its end builds the index in its last transaction.
      await second.rebuild('counts');
      expect(await hasIndex(db(second))).toBe(true);
      expect(await readCounts(db(second))).toEqual(expectedCounts(await allEvents()));
    });
  });
});
