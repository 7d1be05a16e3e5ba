import { EventStoreDbEventStore, SqliteEventStore, type EventStore } from '@nrm/event-store';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeEventStoreDb } from '../../../libs/event-store/test/fake-eventstoredb-client';
import { appendPlanned, interleavedCases } from '../test/case-events';
import { expectedDeliveries, storedEvents } from '../test/delivery';
import type { Publisher } from './kafka-publisher';
import { Relay } from './relay';
import { BatchState, RelayStore } from './relay-store';
import { entitledCategories, topicNames, type OutgoingMessage } from './routing';

/** A stand-in for Kafka that fails on demand: `failures` says what the next sends do. */
class ScriptedPublisher implements Publisher {
  readonly acknowledged: OutgoingMessage[] = [];
  readonly written: OutgoingMessage[] = [];
  connects = 0;
  /** 'refuse': nothing written; 'lose-ack': written, but the acknowledgement never arrives. */
  failures: Array<'refuse' | 'lose-ack'> = [];

  async connect(): Promise<void> {
    this.connects++;
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const failure = this.failures.shift();
    if (failure === 'refuse') throw new Error('broker unavailable');
    this.written.push(...messages);
    if (failure === 'lose-ack') throw new Error('request timed out');
    this.acknowledged.push(...messages);
  }

  async disconnect(): Promise<void> {}
}

describe('the relay loop', () => {
  let store: SqliteEventStore;
  let relayStore: RelayStore;
  let relay: Relay | undefined;
  const prefix = 'unit.';

  beforeEach(() => {
    store = new SqliteEventStore({ filename: ':memory:', synchronous: 'NORMAL' });
    relayStore = new RelayStore(':memory:');
  });
  afterEach(async () => {
    await relay?.stop();
    relayStore.close();
    await store.close();
  });

  function start(publisher: Publisher, batchSize = 10): Relay {
    relay = new Relay({
      store,
      relayStore,
      publisher,
      topics: topicNames(prefix),
      batchSize,
      retry: { firstMs: 5, maxMs: 20 },
    });
    relay.start();
    return relay;
  }

  it('retries a refused batch from its checkpoint, even when no new event comes, and loses nothing', async () => {
    const head = await appendPlanned(store, interleavedCases(2).events);
    const publisher = new ScriptedPublisher();
    publisher.failures = ['refuse', 'refuse', 'refuse'];
    // One batch holds the whole store: after it, the subscription waits for appends that never come.
    const running = start(publisher, 100);
    expect(await running.waitFor(head, 5_000)).toBe(true);
    const expected = expectedDeliveries(await storedEvents(store), prefix);
    expect(publisher.acknowledged.map((m) => m.headers['event-id'])).toEqual(expected.map((e) => e.eventId));
    expect(running.health()).toMatchObject({ ok: true, checkpoint: head, retries: 3 });
    expect(publisher.connects).toBe(4);
    expect(relayStore.checkpoint()).toBe(head);
  });

  it('sends a batch again when its acknowledgement was lost: duplicates, never a gap', async () => {
    const head = await appendPlanned(store, interleavedCases(2).events);
    const publisher = new ScriptedPublisher();
    publisher.failures = ['lose-ack'];
    const running = start(publisher);
    expect(await running.waitFor(head, 5_000)).toBe(true);
    const expected = expectedDeliveries(await storedEvents(store), prefix).map(
      (e) => `${e.topic}|${e.eventId}`,
    );
    const ids = (ms: readonly OutgoingMessage[]) => ms.map((m) => `${m.topic}|${m.headers['event-id']}`);
    // Kafka holds the first batch twice, then everything once more in store order.
    const resent = publisher.written.length - expected.length;
    expect(resent).toBeGreaterThan(0);
    expect(ids(publisher.written.slice(0, resent))).toEqual(expected.slice(0, resent));
    expect(ids(publisher.written.slice(resent))).toEqual(expected);
    expect(ids(publisher.acknowledged)).toEqual(expected);
    expect(running.health().retries).toBe(1);
  });

  it('does not move its checkpoint while Kafka refuses, and resumes where it stopped after a restart', async () => {
    const { events } = interleavedCases(2);
    const revisions = new Map<string, number>();
    const first = await appendPlanned(store, events.slice(0, 12), revisions);
    const publisher = new ScriptedPublisher();
    let running = start(publisher, 5);
    expect(await running.waitFor(first, 5_000)).toBe(true);
    await running.stop();
    const sentBefore = publisher.acknowledged.length;

    publisher.failures = Array.from({ length: 1000 }, () => 'refuse' as const);
    const head = await appendPlanned(store, events.slice(12), revisions);
    running = start(publisher, 5);
    await new Promise((r) => setTimeout(r, 100));
    expect(running.health()).toMatchObject({ ok: false, state: 'retrying', checkpoint: first });
    expect(relayStore.checkpoint()).toBe(first);
    await running.stop();

    publisher.failures = [];
    running = start(publisher, 5);
    expect(await running.waitFor(head, 5_000)).toBe(true);
    const expected = expectedDeliveries(await storedEvents(store), prefix);
    expect(publisher.acknowledged.slice(sentBefore).map((m) => m.headers['event-id'])).toEqual(
      expected.slice(sentBefore).map((e) => e.eventId),
    );
  });
});

describe('the relay resuming from a checkpoint', () => {
  /** Waits (bounded) until the relay leaves the states it passes through while it starts. */
  async function settled(relay: Relay): Promise<string> {
    for (let i = 0; i < 1000 && ['stopped', 'connecting'].includes(relay.health().state); i++)
      await new Promise((r) => setTimeout(r, 5));
    return relay.health().state;
  }

  async function attempt(store: EventStore, checkpoint: number) {
    const relayStore = new RelayStore(':memory:');
    relayStore.commit(new BatchState(relayStore).commitOf(checkpoint));
    const publisher = new ScriptedPublisher();
    const relay = new Relay({
      store,
      relayStore,
      publisher,
      topics: topicNames('unit.'),
      retry: { firstMs: 5, maxMs: 20 },
    });
    relay.start();
    const state = await settled(relay);
    const health = relay.health();
    await relay.stop();
    relayStore.close();
    return { state, health, published: publisher.written.length };
  }

  it('attack: refuses to resume beyond the head (an older copy of the store) or inside an EventStoreDB record, and says why', async () => {
    const sqlite = new SqliteEventStore({ filename: ':memory:', synchronous: 'NORMAL' });
    const server = new FakeEventStoreDb();
    const esdb = new EventStoreDbEventStore({ client: server.client() });
    try {
      const sqliteHead = await appendPlanned(sqlite, interleavedCases(1).events);
      const esdbHead = await appendPlanned(esdb, interleavedCases(1).events);
      const cases = [
        { store: sqlite, checkpoint: sqliteHead, refused: undefined },
        { store: sqlite, checkpoint: sqliteHead + 50, refused: /beyond the event store's last event/ },
        { store: esdb, checkpoint: esdbHead, refused: undefined },
        { store: esdb, checkpoint: esdbHead + 1_000_000, refused: /beyond the event store's last event/ },
        { store: esdb, checkpoint: esdbHead - 1, refused: /no event of the event store starts at/ },
      ];
      const outcomes: string[] = [];
      for (const { store, checkpoint, refused } of cases) {
        const { state, health, published } = await attempt(store, checkpoint);
        outcomes.push(state);
        if (refused === undefined) expect(state).toBe('running');
        else {
          expect(state).toBe('failed');
          expect(health).toMatchObject({ ok: false, lastError: expect.stringMatching(refused) });
          expect(health.retries).toBe(0);
          expect(published).toBe(0);
        }
      }
      console.log(`relay resume: ${cases.length} checkpoints tried, outcomes ${outcomes.join(', ')}`);
    } finally {
      await esdb.close();
      await sqlite.close();
    }
  });
});

describe('the relay store, with a case state from before withdrawals by pairs', () => {
  it('reads a legacy grant (no withdrawals, no recorder) without failing, covering what it listed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-relay-legacy-'));
    try {
      const file = join(dir, 'relay.sqlite');
      new RelayStore(file).close();
      const db = new Database(file);
      const legacy = {
        consent: {
          status: 'recorded',
          caseId: 'case-l',
          consents: {
            'c-1': {
              agencyIds: ['ngo-l'],
              categories: ['case-status'],
              purposes: ['assistance'],
              expiresAt: '2030-01-01T00:00:00Z',
              grantedAt: '2025-01-01T00:00:00Z',
              withdrawn: false,
            },
          },
          lawfulBases: {},
          refusals: 0,
        },
        parties: { 'ngo-l': { relations: ['referral-receiver'], purposes: ['assistance'] } },
      };
      db.prepare('INSERT INTO relay_cases (case_id, state) VALUES (?, ?)').run(
        'case-l',
        JSON.stringify(legacy),
      );
      db.close();
      const relayStore = new RelayStore(file);
      const state = relayStore.caseState('case-l')!;
      expect([...entitledCategories(state, 'ngo-l', 'ngo', '2026-01-01T00:00:00Z')]).toEqual(['case-status']);
      relayStore.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a relay file of an older state shape (schema version 1)', () => {
  const dump = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      const rows = (table: string, key: string) =>
        db.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all() as Array<Record<string, unknown>>;
      return {
        cases: rows('relay_cases', 'case_id'),
        referrals: rows('relay_referrals', 'referral_id'),
        agencies: rows('relay_agencies', 'agency_id'),
        checkpoint: rows('relay_checkpoint', 'id'),
      };
    } finally {
      db.close();
    }
  };

  it('is folded again from the event store up to its checkpoint, publishing nothing: the state of a relay rebuilt from scratch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-relay-refold-'));
    const store = new SqliteEventStore({ filename: ':memory:', synchronous: 'NORMAL' });
    try {
      // The scenario's shelter declines its referral: a receiver the new rule drops.
      const head = await appendPlanned(store, interleavedCases(3).events);
      const run = async (file: string) => {
        const relayStore = new RelayStore(file);
        const publisher = new ScriptedPublisher();
        const relay = new Relay({ store, relayStore, publisher, topics: topicNames('unit.'), batchSize: 7 });
        relay.start();
        const reached = await relay.waitFor(head, 5_000);
        // Past its start (and its refold, if any): delivering or waiting for new events.
        for (let i = 0; i < 1000 && relay.health().state !== 'running'; i++)
          await new Promise((r) => setTimeout(r, 5));
        await relay.stop();
        relayStore.close();
        expect(reached).toBe(true);
        return publisher.written.length;
      };
      const rebuilt = join(dir, 'rebuilt.sqlite');
      expect(await run(rebuilt)).toBeGreaterThan(0);

      // A version 1 file at the same checkpoint, whose state is stale: parties as version 1 kept them.
      const old = join(dir, 'old.sqlite');
      new RelayStore(old).close();
      const db = new Database(old);
      db.exec('DROP TABLE relay_refold');
      db.prepare('UPDATE relay_checkpoint SET position = ?').run(head);
      db.prepare('INSERT INTO relay_cases (case_id, state) VALUES (?, ?)').run(
        'stale',
        JSON.stringify({
          consent: { status: 'none' },
          parties: { x: { relations: ['reporter'], purposes: [] } },
        }),
      );
      db.pragma('user_version = 1');
      db.close();

      expect(await run(old)).toBe(0);
      expect(dump(old)).toEqual(dump(rebuilt));
      expect(dump(old).cases.length).toBeGreaterThan(0);
      // Folded once: a second start neither folds again nor publishes.
      expect(await run(old)).toBe(0);
      expect(dump(old)).toEqual(dump(rebuilt));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
