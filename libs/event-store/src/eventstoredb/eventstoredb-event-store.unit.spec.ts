import type { AllStreamRecordedEvent, AllStreamSubscription } from '@eventstore/db-client';
import { Readable } from 'node:stream';
import { collect, describeEventStoreConformance, freshStream, newEvent } from '../../test/conformance';
import { FakeEventStoreDb } from '../../test/fake-eventstoredb-client';
import {
  EventStoreClosed,
  EventStoreOutcomeUnknown,
  EventStoreSchemaError,
  EventStoreUnavailable,
  InvalidEventStoreInput,
  WrongExpectedRevision,
} from '../errors';
import type { RecordedEvent } from '../event-store';
import { EventStoreDbEventStore, EventStoreDbSubscription } from './eventstoredb-event-store';
import { ID_CLAIM_STREAM_PREFIX, idClaimStream } from './eventstoredb-mapping';

/**
 * The adapter's logic through the conformance suite, over an in-memory fake of
 * the server and client (no I/O). The same suite against a real server is in
 * eventstoredb-event-store.int.spec.ts.
 */
describeEventStoreConformance('eventstoredb adapter over an in-memory fake client', async () => {
  const server = new FakeEventStoreDb();
  // Configured as the real-server suite configures its server: appends up to 9 MiB.
  server.maxAppendSize = 9 * 1024 * 1024;
  const options = { batchSize: 64, maxAppendSize: server.maxAppendSize };
  const store = new EventStoreDbEventStore({ client: server.client(), ...options });
  return {
    store,
    openAnother: async () => new EventStoreDbEventStore({ client: server.client(), ...options }),
    idsCheckedAcrossStreams: false,
    dispose: () => store.close(),
  };
});

describe('eventstoredb adapter specifics (fake client)', () => {
  let server: FakeEventStoreDb;
  let store: EventStoreDbEventStore;
  beforeEach(() => {
    server = new FakeEventStoreDb();
    store = new EventStoreDbEventStore({ client: server.client(), batchSize: 8 });
  });
  afterEach(() => store.close());

  it('passes our event ids through as EventStoreDB event ids, and writes nothing else', async () => {
    const stream = freshStream();
    const events = [newEvent('A'), newEvent('B')];
    const before = server.log.length;
    await store.append(stream, events, { expectedRevision: 'no-stream' });
    expect(server.streamRecords(stream)?.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(server.log.length - before).toBe(2);
  });

  it('keeps positions as commit positions: increasing, not dense, the same from the stream and from $all', async () => {
    const stream = freshStream();
    const result = await store.append(stream, [newEvent('A'), newEvent('B')], {
      expectedRevision: 'no-stream',
    });
    const [a, b] = await collect(store.readStream(stream));
    expect(b!.position - a!.position).toBeGreaterThan(1);
    expect(result.position).toBe(b!.position);
    const fromAll = await collect(store.readAll({ filter: { streamPrefixes: [stream] } }));
    expect(fromAll.map((e) => e.position)).toEqual([a!.position, b!.position]);
    expect(await store.headPosition()).toBe(b!.position);
  });

  it('hides system records and id claims an older version left from readAll, subscriptions and the head', async () => {
    const stream = freshStream();
    await store.append(stream, [newEvent('Mine')], { expectedRevision: 'no-stream' });
    const head = await store.headPosition();
    server.write(idClaimStream('0f000000-0000-4000-8000-0000000000c1'), [
      {
        id: '0f000000-0000-4000-8000-0000000000c2',
        type: 'NrmEventIdClaimed',
        data: JSON.stringify({ stream }),
      },
    ]);
    expect(server.log[server.log.length - 1]!.streamId.startsWith(ID_CLAIM_STREAM_PREFIX)).toBe(true);
    expect((await collect(store.readAll())).map((e) => e.stream)).toEqual([stream]);
    expect(await store.headPosition()).toBe(head);
    expect((await store.health()).foreignRecordsSkipped).toBe(0);
    const subscription = store.subscribe();
    const iterator = subscription[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ stream, type: 'Mine' });
    await subscription.close();
  });

  it('reads backwards from a revision past the end from the last event', async () => {
    const stream = freshStream();
    await store.append(
      stream,
      Array.from({ length: 10 }, (_, i) => newEvent('N', { i })),
      { expectedRevision: 'no-stream' },
    );
    const revisions = async (from: number) =>
      (await collect(store.readStream(stream, { from, direction: 'backwards', maxCount: 3 }))).map(
        (e) => e.revision,
      );
    expect(await revisions(100)).toEqual([9, 8, 7]);
    expect(await revisions(10)).toEqual([9, 8, 7]);
    expect(await revisions(9)).toEqual([9, 8, 7]);
    expect(await collect(store.readStream(freshStream(), { from: 5, direction: 'backwards' }))).toEqual([]);
  });

  it('refuses stream names that would write system, metadata or claim streams', async () => {
    for (const name of ['$settings', '$$case-1', `${ID_CLAIM_STREAM_PREFIX}x`]) {
      await expect(store.append(name, [newEvent()], { expectedRevision: 'no-stream' })).rejects.toMatchObject(
        {
          field: 'stream',
        },
      );
    }
  });

  it('retries of an append with stream-exists are stored once, even where the server would store them twice', async () => {
    const stream = freshStream();
    const events = [newEvent(), newEvent()];
    await expect(store.append(stream, events, { expectedRevision: 'stream-exists' })).rejects.toMatchObject({
      actual: 'no-stream',
    });
    await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
    // Two retries at once: EventStoreDB's own "stream exists" check would let both through.
    const [one, two] = await Promise.all([
      store.append(stream, events, { expectedRevision: 'stream-exists' }),
      store.append(stream, events, { expectedRevision: 'stream-exists' }),
    ]);
    expect(one).toEqual(two);
    expect(await collect(store.readStream(stream))).toHaveLength(3);
    expect(await store.append(stream, events, { expectedRevision: 'stream-exists' })).toEqual(one);
  });

  it('a retry after a lost race (nothing stored) appends normally', async () => {
    const stream = freshStream();
    await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
    const events = [newEvent(), newEvent()];
    await expect(store.append(stream, events, { expectedRevision: 'no-stream' })).rejects.toMatchObject({
      actual: 0,
    });
    expect(await store.append(stream, events, { expectedRevision: 0 })).toMatchObject({ revision: 2 });
  });

  it('an id of another stream is not checked: the port leaves store-wide uniqueness to the caller', async () => {
    const event = newEvent();
    const [a, b] = [freshStream(), freshStream()];
    await store.append(a, [event], { expectedRevision: 'no-stream' });
    await store.append(b, [event], { expectedRevision: 'no-stream' });
    expect(server.counts.appends).toBe(2);
  });

  it('writes per append: one quorum write per append, whatever its size (printed)', async () => {
    const figures: string[] = [];
    for (const size of [1, 5, 20]) {
      const stream = freshStream('writes');
      const before = server.counts.appends;
      const appends = 10;
      for (let i = 0; i < appends; i++)
        await store.append(
          stream,
          Array.from({ length: size }, () => newEvent()),
          { expectedRevision: i === 0 ? 'no-stream' : i * size - 1 },
        );
      figures.push(`${size} event(s): ${(server.counts.appends - before) / appends}`);
    }
    console.log(`writes per append over the fake: ${figures.join('; ')}`);
    expect(figures).toEqual(['1 event(s): 1', '5 event(s): 1', '20 event(s): 1']);
  });

  it('after an election, reads that decide go to the leader, never to the stale follower', async () => {
    const stream = freshStream();
    await store.append(stream, [newEvent('A')], { expectedRevision: 'no-stream' });
    server.election(); // the client stays on the old leader, now a follower
    // Another process, on the new leader, appends: the follower has not replicated it.
    const other = new EventStoreDbEventStore({ client: server.client(), batchSize: 8 });
    await other.append(stream, [newEvent('B')], { expectedRevision: 0 });
    expect(server.streamRecords(stream)).toHaveLength(2);

    const before = { ...server.counts };
    const read = await collect(store.readStream(stream));
    const all = await collect(store.readAll({ filter: { streamPrefixes: [stream] } }));
    const third = await store.append(stream, [newEvent('C')], { expectedRevision: 1 });
    const head = await store.headPosition();
    const refused = server.counts.notLeader - before.notLeader;
    const stale = server.counts.followerReads - before.followerReads;
    console.log(
      `election: ${refused} request(s) refused by the follower and retried on the leader, ${stale} stale read(s) served; read ${read.length} of 2 events`,
    );
    expect(read.map((e) => e.type)).toEqual(['A', 'B']);
    expect(all.map((e) => e.type)).toEqual(['A', 'B']);
    expect(third.revision).toBe(2);
    expect(head).toBe(third.position);
    expect(refused).toBe(1);
    expect(stale).toBe(0);
    await other.close();
  });

  describe('appends whose answer is lost', () => {
    it('a reply lost after the write landed is answered as stored, found on the leader', async () => {
      const stream = freshStream();
      server.fault('reply-lost', stream);
      const events = [newEvent('A'), newEvent('B')];
      const result = await store.append(stream, events, { expectedRevision: 'no-stream' });
      const stored = await collect(store.readStream(stream));
      expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
      expect(result).toEqual({ revision: 1, position: stored[1]!.position });
      expect(store.outcomes).toMatchObject({ checked: 1, landed: 1 });
    });

    it('a commit timed out, not found yet: outcome unknown; the same append sent again is stored once, landed or not', async () => {
      for (const lands of [true, false]) {
        const stream = freshStream();
        await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });
        server.fault('lands-later', stream);
        const events = [newEvent('A'), newEvent('B')];
        const error = await store.append(stream, events, { expectedRevision: 0 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventStoreOutcomeUnknown);
        expect(error).toMatchObject({ code: 'EVENT_STORE.OUTCOME_UNKNOWN', stream });
        if (lands) expect(server.landPending()).toBe(1);
        else server.pending.length = 0; // replication lost it: the new leader never had it
        const again = await store.append(stream, events, { expectedRevision: 0 });
        const stored = await collect(store.readStream(stream));
        expect(stored.map((e) => e.type)).toEqual(['PotentialVictimReported', 'A', 'B']);
        expect(again).toEqual({ revision: 2, position: stored[2]!.position });
      }
    });

    it('a commit timed out while another writer moved the stream: a conflict, and it never lands', async () => {
      const stream = freshStream();
      await store.append(stream, [newEvent()], { expectedRevision: 'no-stream' });

      server.fault('lands-later', stream, () => {
        server.write(stream, [{ id: '0f000000-0000-4000-8000-00000000000a', type: 'Other' }]);
      });

      const error = await store
        .append(stream, [newEvent('Mine')], { expectedRevision: 0 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WrongExpectedRevision);
      expect(error).toMatchObject({ expected: 0, actual: 1 });
      expect(server.landPending()).toBe(0);
      expect(server.streamRecords(stream)?.map((r) => r.type)).toEqual(['PotentialVictimReported', 'Other']);
      expect(store.outcomes).toMatchObject({ ruledOut: 1 });
    });

    it('a request that never left (no connection) is EventStoreUnavailable: not stored', async () => {
      const stream = freshStream();
      server.fault('unsent', stream);
      await expect(
        store.append(stream, [newEvent()], { expectedRevision: 'no-stream' }),
      ).rejects.toBeInstanceOf(EventStoreUnavailable);
      expect(server.streamRecords(stream)).toBeUndefined();
    });

    it('attack: 60 appends under random lost replies and late commits, each retried with its ids until answered, store every event exactly once', async () => {
      const kinds = ['reply-lost', 'lands-later', 'unsent', undefined] as const;
      let seed = 7;
      const random = (n: number): number => {
        seed = (seed * 16807) % 2147483647;
        return Math.floor((seed / 2147483647) * n);
      };
      const answers = { stored: 0, unknown: 0, unavailable: 0, conflict: 0 };
      const streams = Array.from({ length: 6 }, () => freshStream('lossy'));
      const sent: string[] = [];
      for (let i = 0; i < 60; i++) {
        const stream = streams[i % streams.length]!;
        const events = [newEvent('N', { i }), newEvent('N', { i })];
        sent.push(...events.map((e) => e.id));
        const last = (await collect(store.readStream(stream, { direction: 'backwards', maxCount: 1 })))[0];
        const expectedRevision = last?.revision ?? 'no-stream';
        for (let attempt = 0; ; attempt++) {
          const kind = attempt < 3 ? kinds[random(kinds.length)] : undefined;
          if (kind !== undefined) server.fault(kind, stream);
          if (random(2) === 0) server.landPending();
          try {
            await store.append(stream, events, { expectedRevision });
            answers.stored++;
            break;
          } catch (error) {
            if (error instanceof EventStoreOutcomeUnknown) answers.unknown++;
            else if (error instanceof EventStoreUnavailable) answers.unavailable++;
            else if (error instanceof WrongExpectedRevision) {
              answers.conflict++; // only if a late commit of our own landed elsewhere: must not happen
              throw error;
            } else throw error;
          }
        }
      }
      server.landPending();
      const stored = (await Promise.all(streams.map((s) => collect(store.readStream(s))))).flat();
      const ids = stored.map((e) => e.id);
      console.log(
        `lossy appends: 60 appends, answers ${JSON.stringify(answers)}, outcomes ${JSON.stringify(store.outcomes)}, ${ids.length} events stored of ${sent.length} sent, ${ids.length - new Set(ids).size} duplicated`,
      );
      expect(new Set(ids).size).toBe(ids.length);
      expect([...ids].sort()).toEqual([...sent].sort());
      expect(answers.stored).toBe(60);
    });

    it('refuses an append larger than the server takes, before anything is sent', async () => {
      const before = server.counts.appends;
      const half = 'x'.repeat(600 * 1024);
      const error = await store
        .append(freshStream(), [newEvent('A', { half }), newEvent('B', { half })], {
          expectedRevision: 'no-stream',
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidEventStoreInput);
      expect(error).toMatchObject({ field: 'events', reason: expect.stringMatching(/MaxAppendSize/) });
      expect(server.counts.appends - before).toBe(0);
    });
  });

  it('answers EventStoreUnavailable while the server is unreachable, and reports it in health', async () => {
    server.unreachable = true;
    await expect(
      store.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' }),
    ).rejects.toBeInstanceOf(EventStoreUnavailable);
    await expect(collect(store.readStream('s'))).rejects.toBeInstanceOf(EventStoreUnavailable);
    expect(await store.health()).toMatchObject({
      ok: false,
      adapter: 'eventstoredb',
      detail: /^unavailable: /,
    });
    server.unreachable = false;
    expect(await store.health()).toMatchObject({ ok: true, adapter: 'eventstoredb', headPosition: 0 });
  });

  it('refuses to read a stream another program wrote, naming it', async () => {
    server.write('foreign-1', [
      { id: '0f000000-0000-4000-8000-000000000001', type: 'X', data: '"just a string"' },
    ]);
    await expect(collect(store.readStream('foreign-1'))).rejects.toThrow(/foreign-1/);
    await expect(collect(store.readStream('foreign-1'))).rejects.toBeInstanceOf(EventStoreSchemaError);
  });

  it('attack: records other programs wrote between ledger events are passed over by readAll, subscriptions and the head, counted and told', async () => {
    const told: Array<{ position: number; type: string }> = [];
    const reader = new EventStoreDbEventStore({
      client: server.client(),
      batchSize: 8,
      onForeignRecord: (r) => told.push(r),
    });
    const stream = freshStream();
    await store.append(stream, [newEvent('One')], { expectedRevision: 'no-stream' });
    const foreign = [
      { id: '0f000000-0000-4000-8000-000000000001', type: 'X', data: '"just a string"' },
      { id: '0f000000-0000-4000-8000-000000000002', type: 'OrderPlaced', data: '{"order":1}' },
      {
        id: '0f000000-0000-4000-8000-000000000003',
        type: 'Y',
        data: '{}',
        metadata: '{"$correlationId":"c"}',
      },
    ];
    server.write('orders-7', foreign);
    await store.append(stream, [newEvent('Two')], { expectedRevision: 0 });
    server.write('orders-8', [
      {
        id: '0f000000-0000-4000-8000-000000000004',
        type: 'OrderShipped',
        contentType: 'application/octet-stream',
        data: 'raw',
      },
    ]);
    const all = await collect(reader.readAll());
    const subscription = reader.subscribe({ fromPosition: 'start' });
    const live: RecordedEvent[] = [];
    for await (const e of subscription) {
      live.push(e);
      if (live.length === 2) break;
    }
    const head = await reader.headPosition();
    const health = await reader.health();
    console.log(
      `foreign records: ${foreign.length + 1} written between 2 ledger events; readAll gave ${all.length}, the subscription ${live.length}; skipped ${health.foreignRecordsSkipped}, told ${told.length}`,
    );
    expect(all.map((e) => e.type)).toEqual(['One', 'Two']);
    expect(live.map((e) => e.type)).toEqual(['One', 'Two']);
    expect(head).toBe(all[1]!.position);
    expect(told.map((r) => r.type)).toEqual([
      'X',
      'OrderPlaced',
      'Y',
      'OrderShipped',
      'X',
      'OrderPlaced',
      'Y',
    ]);
    expect(health.foreignRecordsSkipped).toBe(7);
    await reader.close();
  });

  it('still stops on a ledger event this version cannot read', async () => {
    server.write('case-9', [
      {
        id: '0f000000-0000-4000-8000-000000000005',
        type: 'FromTheFuture',
        data: '{}',
        metadata: '{"$correlationId":"c","schemaVersion":"two","metadata":{}}',
      },
    ]);
    await expect(collect(store.readAll())).rejects.toBeInstanceOf(EventStoreSchemaError);
  });

  it('a read cut short by close fails instead of looking complete', async () => {
    // One record buffered at a time, and a page longer than the stream: only the store can tell.
    const reader = new EventStoreDbEventStore({
      client: server.client(),
      batchSize: 64,
      subscriptionBufferSize: 1,
    });
    const stream = freshStream();
    await store.append(
      stream,
      Array.from({ length: 40 }, () => newEvent()),
      { expectedRevision: 'no-stream' },
    );
    const iterator = reader.readStream(stream)[Symbol.asyncIterator]();
    await iterator.next();
    await reader.close();
    await expect(
      (async () => {
        for (;;) if ((await iterator.next()).done) return;
      })(),
    ).rejects.toBeInstanceOf(EventStoreClosed);
  });

  it('refuses a bad connection string without quoting its password', () => {
    expect(() => new EventStoreDbEventStore({ connectionString: 'https://admin:s3cret@db:2113' })).toThrow(
      InvalidEventStoreInput,
    );
    const refusal = (() => {
      try {
        return new EventStoreDbEventStore({ connectionString: 'esdb://admin:s3cret@db:port' });
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(InvalidEventStoreInput);
    expect((refusal as Error).message).toMatch(/connectionString: is not a valid connection string/);
    expect((refusal as Error).message).not.toMatch(/s3cret/);
  });
});

// ---------------------------------------------------------------------------------------------
// The subscription's reconnection, with a scripted server
// ---------------------------------------------------------------------------------------------

function record(commit: number, stream = 's', type = 'T'): AllStreamRecordedEvent {
  return {
    streamId: stream,
    id: `00000000-0000-4000-8000-${String(commit).padStart(12, '0')}`,
    revision: BigInt(commit),
    type,
    isJson: true,
    created: new Date(0),
    data: {},
    metadata: undefined,
    position: { commit: BigInt(commit), prepare: BigInt(commit) },
  };
}

function recorded(e: AllStreamRecordedEvent): RecordedEvent {
  return {
    id: e.id,
    stream: e.streamId,
    revision: Number(e.revision),
    position: Number(e.position.commit),
    type: e.type,
    schemaVersion: 1,
    data: {},
    metadata: { correlationId: 'c', occurredAt: '2026-01-01T00:00:00Z' },
    recordedAt: '1970-01-01T00:00:00.000Z',
  };
}

/** A server subscription that yields `records`, then fails with `error` (or stays open). */
function scripted(records: AllStreamRecordedEvent[], error?: Error): AllStreamSubscription {
  async function* produce() {
    for (const r of records) yield { event: r };
    if (error) throw error;
    await new Promise(() => undefined);
  }
  const readable = Readable.from(produce(), { objectMode: true }) as Readable & {
    unsubscribe(): Promise<void>;
  };
  readable.unsubscribe = async () => {
    readable.destroy();
  };
  setImmediate(() => readable.emit('confirmation'));
  return readable;
}

describe('EventStoreDbSubscription reconnection', () => {
  const unavailable = (): Error => new EventStoreUnavailable('connection reset');

  it('re-opens after a failure from the last record received, and delivers nothing twice', async () => {
    const opened: bigint[] = [];
    const delays: number[] = [];
    const scripts = [
      () => scripted([record(10), record(20)], unavailable()),
      // The server may repeat the record it resumes from.
      () => scripted([record(20), record(30)], unavailable()),
      () => scripted([record(40)]),
    ];
    const subscription = new EventStoreDbSubscription({
      start: async () => 0n,
      open: (after) => {
        opened.push(after);
        return scripts[opened.length - 1]!();
      },
      accept: recorded,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 3 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    const seen: number[] = [];
    for await (const event of subscription) {
      seen.push(event.position);
      if (seen.length === 4) break;
    }
    expect(seen).toEqual([10, 20, 30, 40]);
    expect(opened).toEqual([0n, 20n, 30n]);
    expect(delays).toHaveLength(2);
    expect(subscription.closed).toBe(true);
  });

  it('gives up after maxAttempts consecutive failures, with EventStoreUnavailable', async () => {
    let opens = 0;
    const delays: number[] = [];
    const subscription = new EventStoreDbSubscription({
      start: async () => 0n,
      open: () => {
        opens++;
        return scripted([], unavailable());
      },
      accept: recorded,
      reconnect: { initialDelayMs: 100, maxDelayMs: 250, maxAttempts: 3 },
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    await expect(collect(subscription)).rejects.toThrow(/gave up after 3 reconnection attempts/);
    expect(opens).toBe(4);
    expect(delays.every((d, i) => d <= [100, 200, 250][i]! && d >= [50, 100, 125][i]!)).toBe(true);
  });

  it('does not retry an error that is not about reaching the server', async () => {
    let opens = 0;
    const subscription = new EventStoreDbSubscription({
      start: async () => 0n,
      open: () => {
        opens++;
        return scripted([record(10)]);
      },
      accept: () => {
        throw new EventStoreSchemaError('unreadable');
      },
      reconnect: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 5 },
    });
    await expect(collect(subscription)).rejects.toBeInstanceOf(EventStoreSchemaError);
    expect(opens).toBe(1);
  });

  it('ends a pending next() when closed, and can be iterated only once', async () => {
    const subscription = new EventStoreDbSubscription({
      start: async () => 0n,
      open: () => scripted([]),
      accept: recorded,
      reconnect: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 1 },
    });
    const iterator = subscription[Symbol.asyncIterator]();
    const pending = iterator.next();
    await new Promise((r) => setImmediate(r));
    await subscription.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(() => subscription[Symbol.asyncIterator]()).toThrow(/only once/);
  });

  it('waits for close when its filter matches nothing', async () => {
    const subscription = new EventStoreDbSubscription({
      start: async () => 0n,
      open: undefined,
      accept: recorded,
      reconnect: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 1 },
    });
    const pending = subscription[Symbol.asyncIterator]().next();
    setTimeout(() => void subscription.close(), 20);
    expect(await pending).toEqual({ done: true, value: undefined });
  });
});
