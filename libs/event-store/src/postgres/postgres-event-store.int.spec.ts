import { collect, describeEventStoreConformance, freshStream, newEvent } from '../../test/conformance';
import { dropSchema, openPostgresStore, rawClient, uniqueSchema } from '../../test/postgres';
import {
  DuplicateEventId,
  EventStoreSchemaError,
  EventStoreUnavailable,
  WrongExpectedRevision,
} from '../errors';
import type { RecordedEvent } from '../event-store';
import { LATEST_POSTGRES_SCHEMA_VERSION } from './migrations';
import { LISTENER_APPLICATION_NAME, PostgresEventStore, notificationChannel } from './postgres-event-store';

const schema = uniqueSchema('conf');
afterAll(() => dropSchema(schema));

describeEventStoreConformance('postgres', async () => {
  const store = openPostgresStore(schema, { pollIntervalMs: 50 });
  return {
    store,
    openAnother: async () => openPostgresStore(schema, { pollIntervalMs: 50 }),
    dispose: () => store.close(),
  };
});

describeEventStoreConformance('postgres (small batches, polling only every 60 s)', async () => {
  // Subscriptions here can only be woken by LISTEN/NOTIFY (or their own appends): the poll is too slow.
  const store = openPostgresStore(schema, { batchSize: 64, pollIntervalMs: 60_000 });
  return { store, dispose: () => store.close() };
});

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got success');
}

describe('postgres adapter specifics', () => {
  const own = uniqueSchema('spec');
  afterAll(() => dropSchema(own));

  it('migrates once, keeps events across reopening, and refuses a schema from a newer version', async () => {
    const first = openPostgresStore(own);
    const second = openPostgresStore(own);
    const stream = freshStream();
    // Two stores opening the same new schema at once migrate it once.
    await Promise.all([
      first.append(stream, [newEvent('Kept', { n: 1 })], { expectedRevision: 'no-stream' }),
      second.headPosition(),
    ]);
    await first.close();
    await second.close();
    const again = openPostgresStore(own);
    expect((await collect(again.readStream(stream))).map((e) => e.data)).toEqual([{ n: 1 }]);
    await again.close();

    const client = await rawClient(own);
    try {
      const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r: { version: number }) => r.version)).toEqual(
        Array.from({ length: LATEST_POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1),
      );
      await client.query('BEGIN');
      await client.query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', now())",
        [LATEST_POSTGRES_SCHEMA_VERSION + 1],
      );
      await client.query('COMMIT');
      const future = openPostgresStore(own);
      const error = await caught(future.headPosition());
      expect(error).toBeInstanceOf(EventStoreSchemaError);
      expect(String(error)).toMatch(/newer than this nrm-ledger knows/);
      await future.close();
      await client.query('DELETE FROM schema_migrations WHERE version = $1', [
        LATEST_POSTGRES_SCHEMA_VERSION + 1,
      ]);
    } finally {
      await client.end();
    }
  });

  it('refuses updates, deletes and truncation of stored events at the database level, and never reuses a position', async () => {
    const store = openPostgresStore(own);
    for (let i = 0; i < 3; i++)
      await store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' });
    const head = await store.headPosition();
    const client = await rawClient(own);
    try {
      await expect(client.query("UPDATE events SET data = '{}'")).rejects.toThrow(/immutable/);
      await expect(client.query('DELETE FROM events')).rejects.toThrow(/immutable/);
      await expect(client.query('TRUNCATE events')).rejects.toThrow(/immutable/);
      await expect(client.query('UPDATE positions_handed_out SET position = 0')).rejects.toThrow(
        /never go down/,
      );
      await expect(client.query('DELETE FROM positions_handed_out')).rejects.toThrow(/kept/);
      // An operator with full rights drops the trigger and deletes the last event.
      await client.query('ALTER TABLE events DISABLE TRIGGER events_are_immutable');
      await client.query('DELETE FROM events WHERE position = $1', [head]);
      await client.query('ALTER TABLE events ENABLE TRIGGER events_are_immutable');
    } finally {
      await client.end();
    }
    expect(await store.headPosition()).toBe(head - 1);
    expect(await store.positionsHandedOut()).toBe(head);
    const next = await store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' });
    expect(next.position).toBe(head + 1);
    await store.close();
    console.log(`position reuse: deleted position ${head}, next append at ${next.position}, reused 0`);
  });

  it('stores the recorded-at time from its clock', async () => {
    const store = openPostgresStore(own, { clock: () => new Date('2026-01-02T03:04:05.000Z') });
    const stream = freshStream();
    await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
    const [event] = await collect(store.readStream(stream));
    expect(event!.recordedAt).toBe('2026-01-02T03:04:05.000Z');
    await store.close();
  });

  it('wakes a subscriber in another store by notification, not by its poll', async () => {
    const reader = openPostgresStore(own, { pollIntervalMs: 600_000 });
    const writer = openPostgresStore(own);
    const subscription = reader.subscribe({ fromPosition: 'end' });
    const iterator = subscription[Symbol.asyncIterator]();
    const next = iterator.next();
    // Let the reader settle on the head and wait (its first read, then LISTEN).
    await new Promise((r) => setTimeout(r, 300));
    const stream = freshStream();
    await writer.append(stream, [newEvent('FromElsewhere')], { expectedRevision: 'no-stream' });
    // With a 10-minute poll, only the notification can deliver this before the test's timeout.
    expect((await next).value).toMatchObject({ type: 'FromElsewhere', stream });
    await subscription.close();
    await reader.close();
    await writer.close();
  });

  it('attack: the LISTEN connection is killed; subscribers still get every event, and it listens again', async () => {
    const reader = openPostgresStore(own, { pollIntervalMs: 300 });
    const writer = openPostgresStore(own);
    const stream = freshStream('relisten');
    const subscription = reader.subscribe({ fromPosition: 'end', filter: { streamPrefixes: [stream] } });
    const iterator = subscription[Symbol.asyncIterator]();
    const admin = await rawClient(own);
    const listeners = async (): Promise<number[]> =>
      (
        await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = $2`,
          [LISTENER_APPLICATION_NAME, `LISTEN "${notificationChannel(own)}"`],
        )
      ).rows.map((r) => r.pid);
    try {
      const first = iterator.next();
      let before: number[] = [];
      for (let i = 0; i < 100 && before.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        before = await listeners();
      }
      expect(before).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [before[0]]);
      const delivered: number[] = [];
      for (let n = 0; n < 5; n++) {
        await writer.append(stream, [newEvent('AfterKill', { n })], {
          expectedRevision: n === 0 ? 'no-stream' : n - 1,
        });
      }
      delivered.push(((await first).value as RecordedEvent).data.n as number);
      for (let n = 1; n < 5; n++)
        delivered.push(((await iterator.next()).value as RecordedEvent).data.n as number);
      expect(delivered).toEqual([0, 1, 2, 3, 4]);
      let after: number[] = [];
      for (let i = 0; i < 100 && (after.length === 0 || after[0] === before[0]); i++) {
        await new Promise((r) => setTimeout(r, 50));
        after = await listeners();
      }
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before[0]);
      console.log(
        `listener killed (pid ${before[0]}): ${delivered.length} of 5 events delivered in order, listening again (pid ${after[0]})`,
      );
    } finally {
      await admin.end();
      await subscription.close();
      await reader.close();
      await writer.close();
    }
  });

  it('attack: an append whose connection is killed is answered EventStoreUnavailable; its retry stores it once', async () => {
    const store = openPostgresStore(own);
    await store.headPosition(); // migrated
    const blocker = await rawClient(own);
    const admin = await rawClient(own);
    const stream = freshStream('killed');
    const events = [newEvent('Once', { n: 1 }), newEvent('Once', { n: 2 })];
    try {
      // Hold the position lock, so that the append waits inside PostgreSQL, then kill its backend.
      await blocker.query('BEGIN');
      await blocker.query('SELECT position FROM positions_handed_out WHERE id = 1 FOR UPDATE');
      const attempt = caught(store.append(stream, events, { expectedRevision: 'no-stream' }));
      let waiting: number[] = [];
      for (let i = 0; i < 100 && waiting.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        waiting = (
          await admin.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%append_batch%'",
          )
        ).rows.map((r) => r.pid);
      }
      expect(waiting).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [waiting[0]]);
      const error = await attempt;
      expect(error).toBeInstanceOf(EventStoreUnavailable);
      await blocker.query('COMMIT');
      // The caller retries with the same ids and expectation, twice: stored once.
      const first = await store.append(stream, events, { expectedRevision: 'no-stream' });
      const second = await store.append(stream, events, { expectedRevision: 'no-stream' });
      expect(second).toEqual(first);
      const stored = await collect(store.readStream(stream));
      expect(stored.map((e) => e.data.n)).toEqual([1, 2]);
      console.log(
        `killed append: ${(error as EventStoreUnavailable).code}, retried twice, ${stored.length} events stored (of 2)`,
      );
    } finally {
      await blocker.end();
      await admin.end();
      await store.close();
    }
  });

  it('answers EventStoreUnavailable when PostgreSQL cannot be reached, and health says so', async () => {
    const store = new PostgresEventStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      schema: own,
    });
    expect(
      await caught(store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' })),
    ).toBeInstanceOf(EventStoreUnavailable);
    expect(await store.health()).toMatchObject({ ok: false, adapter: 'postgres' });
    await store.close();
  });

  it('attack: two connections write the same revision at once, round after round: exactly one wins each time', async () => {
    const a = openPostgresStore(own);
    const b = openPostgresStore(own);
    const stream = freshStream('contested');
    await a.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
    const rounds = 60;
    let wins = 0;
    let losses = 0;
    for (let revision = 0; revision < rounds; revision++) {
      const outcomes = await Promise.allSettled([
        a.append(stream, [newEvent('ByA')], { expectedRevision: revision }),
        b.append(stream, [newEvent('ByB')], { expectedRevision: revision }),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled').length;
      const lost = outcomes.filter(
        (o) => o.status === 'rejected' && o.reason instanceof WrongExpectedRevision,
      ).length;
      expect([won, lost]).toEqual([1, 1]);
      wins += won;
      losses += lost;
    }
    const stored = await collect(a.readStream(stream));
    expect(stored.map((e) => e.revision)).toEqual(Array.from({ length: rounds + 1 }, (_, i) => i));

    await a.close();
    await b.close();

    // The constraint holds even for a writer that bypasses the adapter and its lock (in a schema
    // of its own: such a writer also breaks the global order, which later tests rely on).
    const bypassed = uniqueSchema('bypass');
    const setup = openPostgresStore(bypassed);
    await setup.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
    await setup.close();
    const raw = [await rawClient(bypassed), await rawClient(bypassed)];
    let constraintWins = 0;
    let constraintRefusals = 0;
    try {
      const insert = (client: (typeof raw)[number], position: number) =>
        client.query(
          `INSERT INTO events (position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at)
           VALUES ($1, gen_random_uuid(), $2, $3, 'Bypass', 1, '{}', '{}', now())`,
          [position, stream, 1],
        );
      const results = await Promise.allSettled([insert(raw[0]!, 101), insert(raw[1]!, 102)]);
      for (const r of results) {
        if (r.status === 'fulfilled') constraintWins++;
        else if ((r.reason as { constraint?: string }).constraint === 'events_stream_revision_key')
          constraintRefusals++;
      }
    } finally {
      await Promise.all(raw.map((c) => c.end()));
      await dropSchema(bypassed);
    }
    expect([constraintWins, constraintRefusals]).toEqual([1, 1]);
    console.log(
      `same-revision race: ${rounds} rounds, ${wins} wins, ${losses} WrongExpectedRevision, 0 doubles; ` +
        `bypassing the adapter: ${constraintWins} insert won, ${constraintRefusals} refused by UNIQUE (stream, revision)`,
    );
  });

  it('attack: an event id already stored is refused with DuplicateEventId, from any connection, and nothing is written', async () => {
    const a = openPostgresStore(own);
    const b = openPostgresStore(own);
    const stored = newEvent('Original');
    const home = freshStream();
    await a.append(home, [stored], { expectedRevision: 'no-stream' });
    const head = await a.headPosition();
    const handedOut = await a.positionsHandedOut();
    let refused = 0;
    // The same id, alone or among fresh ones, in new streams and in its own stream at a later revision
    // (with the right expectation, or a wrong one).
    const attempts = [
      b.append(freshStream(), [stored], { expectedRevision: 'no-stream' }),
      b.append(freshStream(), [newEvent(), newEvent(), { ...stored, id: stored.id.toUpperCase() }], {
        expectedRevision: 'no-stream',
      }),
      a.append(home, [newEvent(), stored], { expectedRevision: 0 }),
      b.append(home, [stored], { expectedRevision: 5 }),
    ];
    for (const error of await Promise.all(attempts.map(caught))) {
      expect(error).toBeInstanceOf(DuplicateEventId);
      expect(error).toMatchObject({ eventId: stored.id, existingStream: home, existingRevision: 0 });
      refused++;
    }
    expect(await a.headPosition()).toBe(head);
    expect(await a.positionsHandedOut()).toBe(handedOut);

    // Two connections race to store one new id in two streams: one stores it, the other is refused.
    const contested = newEvent('Contested');
    const race = await Promise.allSettled([
      a.append(freshStream(), [contested], { expectedRevision: 'no-stream' }),
      b.append(freshStream(), [contested], { expectedRevision: 'no-stream' }),
    ]);
    const raceWon = race.filter((r) => r.status === 'fulfilled').length;
    const raceRefused = race.filter(
      (r) => r.status === 'rejected' && r.reason instanceof DuplicateEventId,
    ).length;
    expect([raceWon, raceRefused]).toEqual([1, 1]);
    const copies = (await collect(a.readAll({ fromPosition: { after: head } }))).filter(
      (e) => e.id === contested.id,
    );
    expect(copies).toHaveLength(1);

    // Appends made in the same turn share a batch (one transaction): the one with a stored id is
    // refused alone, its neighbours are stored.
    const neighbours = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        a.append(freshStream(), [i === 7 ? stored : newEvent()], { expectedRevision: 'no-stream' }),
      ),
    );
    const neighboursStored = neighbours.filter((r) => r.status === 'fulfilled').length;
    expect(neighboursStored).toBe(19);
    expect(neighbours[7]).toMatchObject({ status: 'rejected', reason: expect.any(DuplicateEventId) });
    await a.close();
    await b.close();
    console.log(
      `duplicate ids: ${refused} of ${attempts.length} appends refused with nothing written; ` +
        `race for one id: ${raceWon} stored, ${raceRefused} refused, copies ${copies.length}; ` +
        `in a batch of 20: ${neighboursStored} stored, 1 refused`,
    );
  });

  it('reads a live subscription from the store of another process in order while appends race', async () => {
    const writer = openPostgresStore(own);
    const reader = openPostgresStore(own);
    const start = await reader.headPosition();
    const prefix = freshStream('live');
    const subscription = reader.subscribe({
      fromPosition: { after: start },
      filter: { streamPrefixes: [prefix] },
    });
    const seen: RecordedEvent[] = [];
    const total = 200;
    const consuming = (async () => {
      for await (const event of subscription) {
        seen.push(event);
        if (seen.length === total) break;
      }
    })();
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        writer.append(`${prefix}-${i % 7}-${i}`, [newEvent('N', { i })], { expectedRevision: 'no-stream' }),
      ),
    );
    await consuming;
    expect(new Set(seen.map((e) => e.id)).size).toBe(total);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.position).toBeGreaterThan(seen[i - 1]!.position);
    await reader.close();
    await writer.close();
  });
});
