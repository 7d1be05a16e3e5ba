import { EventStoreDbEventStore, EventStoreOutcomeUnknown, type RecordedEvent } from '@nrm/event-store';
import type { DomainEvent } from '@nrm/shared-kernel';
import { randomUUID } from 'node:crypto';
import { FakeEventStoreDb } from '../../../event-store/test/fake-eventstoredb-client';
import { CommandExecutor, RequestIds, type CommandContext, type CommandSpec } from './command-executor';

/**
 * The executor over the EventStoreDB adapter and the fake cluster: appends whose answer is lost,
 * and a client that sends the command again with its Idempotency-Key.
 */
type Noted = DomainEvent<'NoteRecorded', { text: string }>;

const SECRET = Buffer.from('a'.repeat(32));

/** A request: its context, and the Idempotency-Key its handler is given as an option. */
type Request = CommandContext & { readonly idempotencyKey?: string };

function context(key: string | undefined, fingerprint = 'POST /notes {"text":"a"}'): Request {
  return {
    actor: { principalId: 'principal-1', agencyId: 'agency-1', agencyKind: 'ngo', roles: [] },
    now: new Date().toISOString(),
    requestId: randomUUID(),
    ...(key !== undefined ? { idempotencyKey: key } : {}),
    fingerprint,
  };
}

function note(stream: string, ctx: Request): CommandSpec<Noted, number> {
  return {
    stream,
    evolve: (count) => count + 1,
    initialState: () => 0,
    decide: () => [{ type: 'NoteRecorded', schemaVersion: 1, data: { text: 'a' } }],
    context: ctx,
    ids: new RequestIds(
      ctx,
      ctx.idempotencyKey === undefined ? undefined : { key: ctx.idempotencyKey, idSecret: SECRET },
    ),
  };
}

async function stored(store: EventStoreDbEventStore, stream: string): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  for await (const e of store.readStream(stream)) out.push(e);
  return out;
}

describe('CommandExecutor when the event store cannot say whether an append landed', () => {
  let server: FakeEventStoreDb;
  let store: EventStoreDbEventStore;
  let executor: CommandExecutor;
  beforeEach(() => {
    server = new FakeEventStoreDb();
    store = new EventStoreDbEventStore({ client: server.client() });
    executor = new CommandExecutor(store);
  });
  afterEach(() => store.close());

  it('a reply lost after the write landed is answered as recorded, not replayed', async () => {
    const stream = `notes-${randomUUID()}`;
    server.fault('reply-lost', stream);
    const result = await executor.execute(note(stream, context('key-1')));
    expect(result).toMatchObject({ revision: 0, replayed: false });
    expect(await stored(store, stream)).toHaveLength(1);
  });

  it('an append left unknown is sent once more as it was, and a late commit of the first writes nothing', async () => {
    const stream = `notes-${randomUUID()}`;
    server.fault('lands-later', stream);
    const result = await executor.execute(note(stream, context(undefined)));
    expect(result).toMatchObject({ revision: 0, replayed: false });
    // The late commit of the first copy finds its ids at revision 0: the server's idempotency writes nothing.
    const written = server.counts.written;
    server.landPending();
    expect(server.counts.written).toBe(written);
    expect(await stored(store, stream)).toHaveLength(1);
  });

  it('attack: outcome unknown twice, then the client retries with its Idempotency-Key: recorded once, whether the first landed or not', async () => {
    const tally = { unknownAnswers: 0, replayed: 0, recordedByRetry: 0, events: 0 };
    for (const lands of [true, false, true, false]) {
      const stream = `notes-${randomUUID()}`;
      const key = `key-${randomUUID()}`;
      server.fault('lands-later', stream);
      server.fault('lands-later', stream);
      const first = await executor.execute(note(stream, context(key))).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(EventStoreOutcomeUnknown); // HTTP: 503 EVENT_STORE.OUTCOME_UNKNOWN
      tally.unknownAnswers++;
      if (lands) server.landPending();
      else server.pending.length = 0;
      const retry = await executor.execute(note(stream, context(key)));
      if (retry.replayed) tally.replayed++;
      else tally.recordedByRetry++;
      expect(retry.replayed).toBe(lands);
      server.landPending(); // whatever was still pending is refused now
      const events = await stored(store, stream);
      tally.events += events.length;
      expect(events).toHaveLength(1);
      expect(retry.eventIds).toEqual([events[0]!.id]);
    }
    console.log(`executor under unknown outcomes: ${JSON.stringify(tally)} for 4 commands`);
    expect(tally.events).toBe(4);
  });

  it('a retry with the same key and another request is still refused as a reused key', async () => {
    const stream = `notes-${randomUUID()}`;
    await executor.execute(note(stream, context('key-2')));
    await expect(
      executor.execute(note(stream, context('key-2', 'POST /notes {"text":"b"}'))),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY.KEY_REUSED' });
  });
});
