import { SqliteEventStore, WrongExpectedRevision, type EventStore } from '@nrm/event-store';
import { ConsentCommands } from '@nrm/consent';
import { IdentificationCommands } from '@nrm/identification';
import { ReferralCommands, type MakeReferralRequest } from '@nrm/referral';
import { CaseRecords } from '@nrm/runtime';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import type { Actor } from '@nrm/shared-kernel';
import { RegistryCommands } from '@nrm/access';

/**
 * How many event-store calls each referral command makes, counted by a wrapper around the
 * event-store port, with the API's wiring (`CaseRecords` for the context, party checks that each
 * wait for the read model: one `headPosition`, then SQL against the read model, not counted here).
 * Issue #13 asked for the counts before and after the application layer moved into
 * libs/referral/src/application; the printout gives them, and the expectations hold them.
 *
 * Before (the handler in apps/ledger-api, its context read inside the retried decision):
 *   make 6, make with an Idempotency-Key 7, its replay 2, make with one conflict 11,
 *   acknowledge 3, accept with one conflict 5, complete handoff 3.
 */
type Counts = Record<string, number>;

/**
 * Store calls per command now (see the docblock for the counts before): a new referral without a
 * key appends to its new stream without reading it first, and a retry reads the referral's stream
 * again, not the case, registry and consent it read once.
 */
const AFTER = {
  make: 5,
  'make (Idempotency-Key)': 7,
  'make (replay of that key)': 2,
  'make (one conflict, retried)': 7,
  acknowledge: 3,
  'accept (one conflict, retried)': 5,
  'complete handoff': 3,
};

function counting(store: EventStore, failAppends = { left: 0 }) {
  const counts: Counts = {};
  const proxy = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return (...args: unknown[]) => {
        counts[name] = (counts[name] ?? 0) + 1;
        if (name === 'append' && failAppends.left > 0) {
          failAppends.left--;
          return Promise.reject(new WrongExpectedRevision(String(args[0]), 0, 0));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, counts, failAppends };
}

describe('store calls per referral command', () => {
  it('prints them', async () => {
    const raw = new SqliteEventStore({ filename: ':memory:', synchronous: 'NORMAL' });
    const now = () => new Date().toISOString();
    const operator: () => CommandContext = () => ({ now: now(), requestId: 'r', fingerprint: 'f' });
    const registry = new RegistryCommands(raw);
    for (const [agencyId, kind] of [
      ['ngo-a', 'ngo'],
      ['shelter-b', 'shelter'],
    ] as const)
      await registry.registerAgency({ agencyId, name: agencyId, kind, country: 'NL' }, operator());
    const actor = (agencyId: string, agencyKind: Actor['agencyKind']): Actor => ({
      principalId: `p-${agencyId}`,
      agencyId,
      agencyKind,
      roles: ['caseworker'],
    });
    const a = actor('ngo-a', 'ngo');
    const b = actor('shelter-b', 'shelter');
    const as = (who: Actor): CommandContext => ({
      actor: who,
      now: now(),
      requestId: `r-${Math.random()}`,
      fingerprint: 'f',
    });
    const keyed = (key: string): CommandOptions => ({ idempotency: { key, idSecret: Buffer.alloc(32, 7) } });
    const { caseId } = await new IdentificationCommands(
      raw,
      { competentKinds: ['law-enforcement'] },
      new CaseRecords(raw),
    ).report(
      { indicators: ['debt-bondage'], exploitationForms: ['labour'], minor: false, region: 'NL-ZH' } as never,
      as(a),
    );
    await new ConsentCommands(raw, new CaseRecords(raw)).grant(
      {
        caseId,
        agencyIds: ['shelter-b'],
        categories: ['case-status'],
        purposes: ['assistance'],
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        capture: { method: 'written', language: 'nl', interpreterUsed: false },
      } as never,
      as(a),
    );

    const c = counting(raw);
    // The API's party checks each wait for the read model: one headPosition each (then SQL, not counted).
    // What the handler asks of the records port (the context of a new referral), call by call.
    const asked: string[] = [];
    const records = new Proxy(new CaseRecords(c.store), {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          asked.push(String(name));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const referrals = new ReferralCommands(c.store, records, {
      partyCheck: async () => void (await c.store.headPosition()),
      referralPartyCheck: async () => void (await c.store.headPosition()),
    });
    const make: MakeReferralRequest = {
      caseId,
      toAgencyId: 'shelter-b',
      purpose: 'assistance',
      servicesRequested: [],
      urgency: 'routine',
      respondBy: new Date(Date.now() + 86_400_000).toISOString(),
      sharedCategories: ['case-status'],
    };
    const rows: Record<string, Counts> = {};
    const contextReads: Record<string, string[]> = {};
    const measure = async (name: string, run: () => Promise<unknown>) => {
      for (const k of Object.keys(c.counts)) delete c.counts[k];
      asked.length = 0;
      await run();
      rows[name] = { ...c.counts };
      contextReads[name] = [...asked];
    };
    let referralId = '';
    await measure('make', async () => ({ referralId } = await referrals.make(make, as(a))));
    await measure('make (Idempotency-Key)', () => referrals.make(make, as(a), keyed('k1')));
    await measure('make (replay of that key)', () => referrals.make(make, as(a), keyed('k1')));
    c.failAppends.left = 1;
    await measure('make (one conflict, retried)', () => referrals.make(make, as(a)));
    await measure('acknowledge', () => referrals.transition(referralId, 'AcknowledgeReferral', as(b)));
    c.failAppends.left = 1;
    await measure('accept (one conflict, retried)', () =>
      referrals.transition(referralId, 'AcceptReferral', as(b)),
    );
    await measure('complete handoff', () => referrals.transition(referralId, 'CompleteHandoff', as(b)));
    const total = (r: Counts) => Object.values(r).reduce((s, n) => s + n, 0);
    const lines = Object.entries(rows).map(
      ([name, r]) => `${name.padEnd(32)} ${String(total(r)).padStart(2)}  ${JSON.stringify(r)}`,
    );
    console.log(`store calls per referral command\n${lines.join('\n')}`);
    expect(Object.fromEntries(Object.entries(rows).map(([name, r]) => [name, total(r)]))).toEqual(AFTER);
    // The context is read once, also across a retry, and not at all for a replayed key.
    const once = ['reportedCase', 'agencyKind', 'coverage'];
    expect(contextReads['make']).toEqual(once);
    expect(contextReads['make (one conflict, retried)']).toEqual(once);
    expect(contextReads['make (replay of that key)']).toEqual([]);
    expect(contextReads['accept (one conflict, retried)']).toEqual([]);
    await raw.close();
  });
});
