import { SqliteEventStore, type EventStore } from '@nrm/event-store';
import type { Actor, DomainEvent } from '@nrm/shared-kernel';
import { randomUUID } from 'node:crypto';
import {
  CommandConflict,
  CommandExecutor,
  IdempotencyKeyReused,
  RequestIds,
  type CommandContext,
  type CommandSpec,
} from './command-executor';
import { once } from './once';
import { storedIdempotencyKey } from './id-secret';

/**
 * The command executor against a real (in-memory SQLite) event store: idempotent retries, the
 * fingerprint that tells a retry from a reused key, and the bounded retry when another writer wins
 * the race. Other writers are real appends made while a command is being decided, not mocks.
 */

type Counted = DomainEvent<'Counted', { n: number; by: string }>;
type Count = { total: number; seen: number };

const SECRET = Buffer.alloc(32, 7);
const actor = (principalId: string): Actor => ({
  principalId,
  agencyId: `agency-of-${principalId}`,
  agencyKind: 'ngo',
  roles: ['caseworker'],
});

/**
 * A request as these tests write it: the command's context, and the Idempotency-Key the handler is
 * given as an option (`RequestIds`' idempotency) when the request has one.
 */
type Request = CommandContext & { readonly idempotencyKey?: string };

function context(overrides: Partial<Request> = {}): Request {
  return {
    actor: actor('p-1'),
    now: '2026-12-07T09:00:00.000Z',
    requestId: randomUUID(),
    fingerprint: 'POST /counters/c-1 {"n":1}',
    ...overrides,
  };
}

/** The request's ids: derived from its key when it has one (the handler's `idempotency` option). */
function idsOf(request: Request): RequestIds {
  const { idempotencyKey: key, ...ctx } = request;
  return new RequestIds(ctx, key === undefined ? undefined : { key, idSecret: SECRET });
}

/** A command that adds `n` (twice when `twice`), deciding from the folded state; counts its decisions. */
function spec(
  stream: string,
  ctx: Request,
  options: { n?: number; twice?: boolean; beforeDecide?: (state: Count) => Promise<void> } = {},
) {
  const calls: Count[] = [];
  const n = options.n ?? 1;
  const command: CommandSpec<Counted, Count> = {
    stream,
    context: ctx,
    ids: idsOf(ctx),
    initialState: () => ({ total: 0, seen: 0 }),
    evolve: (state, event) => ({ total: state.total + event.data.n, seen: state.seen + 1 }),
    decide: async (state) => {
      calls.push(state);
      await options.beforeDecide?.(state);
      const event: Counted = { type: 'Counted', schemaVersion: 1, data: { n, by: ctx.requestId } };
      return options.twice ? [event, event] : [event];
    },
  };
  return { command, calls };
}

/** Another writer appending to `stream` at once, as a second process would. */
async function intrude(store: EventStore, stream: string, n = 100): Promise<void> {
  let head = -1;
  for await (const event of store.readStream(stream)) head = event.revision;
  await store.append(
    stream,
    [
      {
        id: randomUUID(),
        type: 'Counted',
        schemaVersion: 1,
        data: { n, by: 'intruder' },
        metadata: { correlationId: randomUUID(), occurredAt: '2026-12-07T09:00:00.000Z' },
      },
    ],
    { expectedRevision: head < 0 ? 'no-stream' : head },
  );
}

/** The store's port calls, counted (what a command costs), the store itself unchanged. */
function counting(store: EventStore): { store: EventStore; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return (...args: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

async function streamOf(store: EventStore, stream: string) {
  const events = [];
  for await (const event of store.readStream(stream)) events.push(event);
  return events;
}

describe('CommandExecutor', () => {
  let store: SqliteEventStore;
  let executor: CommandExecutor;
  beforeEach(() => {
    store = new SqliteEventStore({ filename: ':memory:', synchronous: 'NORMAL' });
    executor = new CommandExecutor(store, { maxAttempts: 4 });
  });
  afterEach(async () => {
    await store.close();
  });

  describe('without an Idempotency-Key', () => {
    it('folds the stream, decides once and appends with the metadata of the request', async () => {
      await intrude(store, 'c-1', 5);
      const ctx = context({ idempotencyKey: undefined });
      const { command, calls } = spec('c-1', ctx, { twice: true });
      const result = await executor.execute(command);
      expect(calls).toEqual([{ total: 5, seen: 1 }]);
      expect(result).toMatchObject({ stream: 'c-1', revision: 2, replayed: false });
      const stored = await streamOf(store, 'c-1');
      expect(stored.map((e) => e.id).slice(1)).toEqual(result.eventIds);
      expect(stored[1]!.metadata).toMatchObject({
        correlationId: ctx.requestId,
        occurredAt: ctx.now,
        principalId: 'p-1',
        agencyId: 'agency-of-p-1',
        requestFingerprint: ctx.fingerprint,
      });
      expect(stored[1]!.metadata.idempotencyKey).toBeUndefined();
    });

    it('records the same request twice when it is sent twice: only a key makes a retry', async () => {
      const ctx = context({ idempotencyKey: undefined });
      const first = await executor.execute(spec('c-1', ctx).command);
      const second = await executor.execute(spec('c-1', ctx).command);
      expect(second.eventIds).not.toEqual(first.eventIds);
      expect(await streamOf(store, 'c-1')).toHaveLength(2);
    });

    it('appends nothing when the decision is empty', async () => {
      const ctx = context({ idempotencyKey: undefined });
      const command: CommandSpec<Counted, Count> = {
        ...spec('c-1', ctx).command,
        decide: () => [],
      };
      expect(await executor.execute(command)).toEqual({
        stream: 'c-1',
        revision: -1,
        position: 0,
        eventIds: [],
        replayed: false,
      });
      expect(await streamOf(store, 'c-1')).toHaveLength(0);
    });
  });

  describe('with an Idempotency-Key', () => {
    it('answers a retry with the events first recorded, without deciding again (attack)', async () => {
      const first = spec('c-1', context({ idempotencyKey: 'key-1' }), { twice: true });
      const recorded = await executor.execute(first.command);
      expect(recorded.replayed).toBe(false);

      let retries = 0;
      let decisions = 0;
      for (let i = 0; i < 5; i++) {
        // A retry: another request id and instant, the same principal, key and request.
        const retry = spec(
          'c-1',
          context({ idempotencyKey: 'key-1', now: `2026-12-07T09:0${i + 1}:00.000Z` }),
        );
        const answer = await executor.execute(retry.command);
        expect(answer).toEqual({ ...recorded, replayed: true });
        decisions += retry.calls.length;
        retries++;
      }
      const stored = await streamOf(store, 'c-1');
      console.log(
        `command executor: ${retries} retries answered as replays, ${decisions} decisions re-run, ${stored.length} events stored`,
      );
      expect(decisions).toBe(0);
      expect(stored).toHaveLength(2);
    });

    it('derives the same ids for a retry, and different ids for another principal, key or stream', () => {
      const ids = idsOf;
      const base = context({ idempotencyKey: 'key-1' });
      expect(ids(base).event(0, 'c-1')).toBe(ids(context({ idempotencyKey: 'key-1' })).event(0, 'c-1'));
      expect(ids(base).entity('case')).toBe(ids(context({ idempotencyKey: 'key-1' })).entity('case'));
      expect(ids(base).event(0, 'c-1')).not.toBe(ids(base).event(1, 'c-1'));
      expect(ids(base).event(0, 'c-1')).not.toBe(ids(context({ idempotencyKey: 'key-2' })).event(0, 'c-1'));
      expect(ids(base).event(0, 'c-1')).not.toBe(
        ids(context({ idempotencyKey: 'key-1', actor: actor('p-2') })).event(0, 'c-1'),
      );
      expect(ids(base).event(0, 'c-1')).not.toBe(ids(base).event(0, 'c-2'));
      // Without the option the ids are random, whatever the context.
      expect(ids(context()).event(0, 'c-1')).not.toBe(ids(context()).event(0, 'c-1'));
    });

    it('refuses the key reused for a different request: another fingerprint (attack)', async () => {
      await executor.execute(spec('c-1', context({ idempotencyKey: 'key-1' })).command);
      const other = spec(
        'c-1',
        context({ idempotencyKey: 'key-1', fingerprint: 'POST /counters/c-1 {"n":2}' }),
        {
          n: 2,
        },
      );
      await expect(executor.execute(other.command)).rejects.toBeInstanceOf(IdempotencyKeyReused);
      expect(other.calls).toHaveLength(0);
      expect(await streamOf(store, 'c-1')).toHaveLength(1);
    });

    it('scopes a key to the record it changes: on another record it is a new request', async () => {
      // Event ids are derived with the stream (the event store leaves uniqueness across streams to
      // its callers), so the same key on another record neither replays nor collides.
      const first = await executor.execute(spec('c-1', context({ idempotencyKey: 'key-1' })).command);
      const elsewhere = spec('c-2', context({ idempotencyKey: 'key-1' }));
      const second = await executor.execute(elsewhere.command);
      expect(second.replayed).toBe(false);
      expect(second.eventIds).not.toEqual(first.eventIds);
      expect(await streamOf(store, 'c-2')).toHaveLength(1);
      expect(await streamOf(store, 'c-1')).toHaveLength(1);
    });

    it('lets another principal use the same key for its own request', async () => {
      await executor.execute(spec('c-1', context({ idempotencyKey: 'key-1' })).command);
      const theirs = await executor.execute(
        spec('c-1', context({ idempotencyKey: 'key-1', actor: actor('p-2') })).command,
      );
      expect(theirs.replayed).toBe(false);
      expect(await streamOf(store, 'c-1')).toHaveLength(2);
    });

    it('records a keyed digest of the key, never the key as sent, and recognises a retry by it', async () => {
      const key = 'Velmora_Dashkintree_1997-05-06-report';
      const first = await executor.execute(
        spec('c-1', context({ idempotencyKey: key }), { twice: true }).command,
      );
      const stored = await streamOf(store, 'c-1');
      const recorded = stored.map((e) => e.metadata.idempotencyKey);
      expect(recorded).toEqual([
        storedIdempotencyKey(SECRET, 'p-1', key),
        storedIdempotencyKey(SECRET, 'p-1', key),
      ]);
      expect(JSON.stringify(stored.map((e) => e.metadata))).not.toContain('Velmora');
      // Keyed: another secret, another principal or another key give other digests.
      expect(storedIdempotencyKey(Buffer.alloc(32, 8), 'p-1', key)).not.toBe(recorded[0]);
      expect(storedIdempotencyKey(SECRET, 'p-2', key)).not.toBe(recorded[0]);
      expect(storedIdempotencyKey(SECRET, 'p-1', `${key}x`)).not.toBe(recorded[0]);
      // A retry (a new executor: as after a restart, with the same secret) replays.
      const retry = await new CommandExecutor(store).execute(
        spec('c-1', context({ idempotencyKey: key, now: '2026-12-07T10:00:00.000Z' })).command,
      );
      expect(retry).toEqual({ ...first, replayed: true });
      expect(await streamOf(store, 'c-1')).toHaveLength(2);
    });

    it('still recognises a retry of a request recorded with the key as sent (events of earlier versions)', async () => {
      // What an earlier version stored: the derived event ids, the key itself in the metadata.
      const ctx = context({ idempotencyKey: 'legacy-key-1' });
      const ids = idsOf(ctx);
      await store.append(
        'c-1',
        [0, 1].map((i) => ({
          id: ids.event(i, 'c-1'),
          type: 'Counted',
          schemaVersion: 1,
          data: { n: 1, by: 'earlier version' },
          metadata: {
            correlationId: randomUUID(),
            occurredAt: '2026-11-01T09:00:00.000Z',
            principalId: 'p-1',
            agencyId: 'agency-of-p-1',
            idempotencyKey: 'legacy-key-1',
            requestFingerprint: ctx.fingerprint,
          },
        })),
        { expectedRevision: 'no-stream' },
      );
      const retry = spec('c-1', context({ idempotencyKey: 'legacy-key-1' }));
      const answer = await executor.execute(retry.command);
      expect(answer.replayed).toBe(true);
      expect(answer.eventIds).toEqual([ids.event(0, 'c-1'), ids.event(1, 'c-1')]);
      expect(retry.calls).toHaveLength(0);
      // Reused with another request, the old key is refused as before.
      await expect(
        executor.execute(
          spec('c-1', context({ idempotencyKey: 'legacy-key-1', fingerprint: 'other' })).command,
        ),
      ).rejects.toBeInstanceOf(IdempotencyKeyReused);
      expect(await streamOf(store, 'c-1')).toHaveLength(2);
    });

    it('records one of two concurrent sends of the same request and replays it for the other', async () => {
      const sends = await Promise.all(
        [0, 1].map(() => executor.execute(spec('c-1', context({ idempotencyKey: 'key-1' })).command)),
      );
      expect(sends.map((s) => s.replayed).sort()).toEqual([false, true]);
      expect(sends[0]!.eventIds).toEqual(sends[1]!.eventIds);
      expect(await streamOf(store, 'c-1')).toHaveLength(1);
    });
  });

  describe('when another writer wins the race', () => {
    it('starts again from the new state and decides against it', async () => {
      let intruded = 0;
      const { command, calls } = spec('c-1', context(), {
        beforeDecide: async () => {
          if (intruded++ === 0) await intrude(store, 'c-1', 100);
        },
      });
      const result = await executor.execute(command);
      expect(calls).toEqual([
        { total: 0, seen: 0 },
        { total: 100, seen: 1 },
      ]);
      expect(result).toMatchObject({ revision: 1, replayed: false });
      expect((await streamOf(store, 'c-1')).map((e) => e.data.by)).toEqual([
        'intruder',
        command.context.requestId,
      ]);
    });

    it('gives up after maxAttempts with a conflict, having appended nothing of its own (attack)', async () => {
      const { command, calls } = spec('c-1', context(), { beforeDecide: () => intrude(store, 'c-1') });
      const error = await executor.execute(command).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandConflict);
      expect((error as CommandConflict).attempts).toBe(4);
      const stored = await streamOf(store, 'c-1');
      console.log(
        `command executor: ${calls.length} attempts against a writer that always wins, ${stored.filter((e) => e.data.by !== 'intruder').length} events of ours stored`,
      );
      expect(calls).toHaveLength(4);
      expect(stored.every((e) => e.data.by === 'intruder')).toBe(true);
    });

    it('runs commands on one stream from this process one after another, without conflicts', async () => {
      const commands = Array.from({ length: 10 }, () => spec('c-1', context({ idempotencyKey: undefined })));
      await Promise.all(commands.map((c) => executor.execute(c.command)));
      // Each decided once, each against the state the one before it left.
      expect(commands.map((c) => c.calls.length)).toEqual(Array(10).fill(1));
      expect(commands.map((c) => c.calls[0]!.seen).sort((a, b) => a - b)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
      ]);
    });
  });

  describe('what it reads', () => {
    it('reads the stream once per attempt: a retry re-reads only the stream the conflict made stale', async () => {
      const { store: counted, calls } = counting(store);
      const counts = new CommandExecutor(counted, { maxAttempts: 4 });
      // The handler's context from other records (a registry entry, a consent), read once.
      let contextReads = 0;
      const facts = once(async () => ++contextReads);
      let intruded = 0;
      const { command, calls: decisions } = spec('c-1', context(), {
        beforeDecide: async () => {
          await facts();
          if (intruded++ === 0) await intrude(store, 'c-1', 100);
        },
      });
      const result = await counts.execute(command);
      expect(result.replayed).toBe(false);
      expect(decisions).toEqual([
        { total: 0, seen: 0 },
        { total: 100, seen: 1 },
      ]);
      // Two attempts: each read its stream and appended (the first append lost the race).
      expect(calls).toEqual({ readStream: 2, append: 2 });
      expect(contextReads).toBe(1);
    });

    it('appends to a new stream without reading it when no key was given, and reads it when one was', async () => {
      const { store: counted, calls } = counting(store);
      const counts = new CommandExecutor(counted);
      await counts.execute({ ...spec('fresh-1', context()).command, newStream: true });
      expect(calls).toEqual({ append: 1 });
      for (const k of Object.keys(calls)) delete calls[k];
      // With a key the id is derived: an earlier attempt may have stored it, so the stream is read
      // (and the stored first event checked against the fingerprint after the append).
      await counts.execute({
        ...spec('fresh-2', context({ idempotencyKey: 'key-1' })).command,
        newStream: true,
      });
      expect(calls).toEqual({ readStream: 2, append: 1 });
    });

    it('decides against the stream after all when a "new" stream turns out to exist', async () => {
      await intrude(store, 'fresh-1', 7);
      const { command, calls } = spec('fresh-1', context());
      const result = await executor.execute({ ...command, newStream: true });
      // The first attempt decided blind and lost (no-stream expected); the second read the stream.
      expect(calls).toEqual([
        { total: 0, seen: 0 },
        { total: 7, seen: 1 },
      ]);
      expect(result).toMatchObject({ revision: 1, replayed: false });
    });

    it('stores the key with the events, and replays nothing for a keyless request', async () => {
      const keyed = await executor.execute(spec('c-1', context({ idempotencyKey: 'key-9' })).command);
      const stored = await streamOf(store, 'c-1');
      expect(stored[0]!.metadata).toMatchObject({
        idempotencyKey: storedIdempotencyKey(SECRET, 'p-1', 'key-9'),
        requestFingerprint: context().fingerprint,
      });
      expect(keyed.replayed).toBe(false);
      // The same context without the option is a new request: recorded again, not replayed.
      const again = await executor.execute(spec('c-1', context()).command);
      expect(again.replayed).toBe(false);
      expect(await streamOf(store, 'c-1')).toHaveLength(2);
    });
  });
});
