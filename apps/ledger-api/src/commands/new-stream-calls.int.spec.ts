import { RegistryCommands } from '@nrm/access';
import { SqliteEventStore, type EventStore } from '@nrm/event-store';
import { IdentificationCommands } from '@nrm/identification';
import { CaseRecords } from '@nrm/runtime';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import type { Actor } from '@nrm/shared-kernel';

/**
 * Event-store calls of the commands that create a stream (issue #16 item 5). A stream named after
 * an id the server has just made up (a random UUID: no Idempotency-Key) cannot exist yet: the
 * command appends expecting no stream without reading it first. With a key the id is derived, an
 * earlier attempt may have stored it, and the stream is read (to recognise the retry). An id the
 * caller chose (the CLI's `register-agency --id`) may exist, and is read too.
 *
 * Before (a registration read its new stream first): register agency 2 {readStream 1, append 1},
 * with a chosen id 2, with an Idempotency-Key 3, register principal 3 {readStream 2 (its agency,
 * its stream), append 1}, with a key 4; report a case 1 {append 1} (already not read).
 */
type Counts = Record<string, number>;

const AFTER: Record<string, Counts> = {
  'register agency': { append: 1 },
  'register agency (chosen id)': { readStream: 1, append: 1 },
  'register agency (Idempotency-Key)': { readStream: 2, append: 1 },
  'register principal': { readStream: 1, append: 1 },
  'register principal (Idempotency-Key)': { readStream: 3, append: 1 },
  'report a case': { append: 1 },
};

function counting(store: EventStore) {
  const counts: Counts = {};
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return (...args: unknown[]) => {
        counts[name] = (counts[name] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, counts };
}

describe('store calls of commands that create a stream', () => {
  it('appends to a stream named after a fresh random id without reading it; reads it otherwise', async () => {
    const raw = new SqliteEventStore({ filename: ':memory:', synchronous: 'NORMAL' });
    const c = counting(raw);
    const operator = (): CommandContext => ({
      now: new Date().toISOString(),
      requestId: `r-${Math.random()}`,
      fingerprint: 'f',
    });
    const keyed = (key: string): CommandOptions => ({ idempotency: { key, idSecret: Buffer.alloc(32, 7) } });
    const registry = new RegistryCommands(c.store);
    const rows: Record<string, Counts> = {};
    const measure = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      for (const k of Object.keys(c.counts)) delete c.counts[k];
      const result = await run();
      rows[name] = { ...c.counts };
      return result;
    };

    const { agencyId } = await measure('register agency', () =>
      registry.registerAgency({ name: 'Invented NGO', kind: 'ngo', country: 'NL' }, operator()),
    );
    await measure('register agency (chosen id)', () =>
      registry.registerAgency(
        { agencyId: 'ngo-chosen', name: 'Chosen NGO', kind: 'ngo', country: 'NL' },
        operator(),
      ),
    );
    const keyedAgency = await measure('register agency (Idempotency-Key)', () =>
      registry.registerAgency(
        { name: 'Keyed NGO', kind: 'ngo', country: 'NL' },
        operator(),
        keyed('k-agency'),
      ),
    );
    const { principalId } = await measure('register principal', () =>
      registry.registerPrincipal(
        { agencyId, label: 'Invented caseworker', roles: ['caseworker'] },
        operator(),
      ),
    );
    await measure('register principal (Idempotency-Key)', () =>
      registry.registerPrincipal(
        { agencyId, label: 'Invented caseworker 2', roles: ['caseworker'] },
        operator(),
        keyed('k-principal'),
      ),
    );
    const actor: Actor = { principalId, agencyId, agencyKind: 'ngo', roles: ['caseworker'] };
    await measure('report a case', () =>
      new IdentificationCommands(
        c.store,
        { competentKinds: ['law-enforcement'] },
        new CaseRecords(c.store),
      ).report(
        {
          indicators: ['debt-bondage'],
          exploitationForms: ['labour'],
          minor: false,
          region: 'NL-ZH',
        } as never,
        { ...operator(), actor },
      ),
    );
    console.log(`store calls of commands that create a stream: ${JSON.stringify(rows)}`);
    expect(rows).toEqual(AFTER);

    // What the first append saw: no stream. A replay of the keyed registration is still recognised.
    const replay = await registry.registerAgency(
      { name: 'Keyed NGO', kind: 'ngo', country: 'NL' },
      operator(),
      keyed('k-agency'),
    );
    expect(replay).toMatchObject({ agencyId: keyedAgency.agencyId, replayed: true });
    await raw.close();
  });
});
