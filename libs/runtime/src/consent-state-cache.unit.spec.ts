import { randomUUID } from 'node:crypto';
import { consentCovers, consentStream, type ConsentState } from '@nrm/consent';
import { SqliteEventStore, type NewEvent } from '@nrm/event-store';
import { CaseRecords } from './case-records';
import { ConsentStateCache } from './consent-state-cache';

const AT = '2026-12-07T12:00:00.000Z';

function event(type: string, data: Record<string, unknown>): NewEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data: data as NewEvent['data'],
    metadata: { correlationId: randomUUID(), occurredAt: AT },
  };
}

describe('ConsentStateCache', () => {
  let store: SqliteEventStore;
  let revision: number;
  const caseId = 'case-cache-1';

  const append = async (e: NewEvent): Promise<void> => {
    const result = await store.append(consentStream(caseId), [e], {
      expectedRevision: revision === -1 ? 'no-stream' : revision,
    });
    revision = result.revision;
  };
  const grant = (consentId: string, agencyIds: string[]) =>
    append(
      event('ConsentGranted', {
        caseId,
        consentId,
        recordedByAgencyId: 'clinic-1',
        recordedByPrincipalId: 'principal-1',
        agencyIds,
        categories: ['case-status'],
        purposes: ['assistance'],
        expiresAt: '2030-01-01T00:00:00.000Z',
        capture: { method: 'written', language: 'en', interpreterUsed: false },
        grantedAt: '2026-12-01T00:00:00.000Z',
      }),
    );
  const withdraw = (consentId: string, partial?: { agencyIds: string[] }) =>
    append(
      event('ConsentWithdrawn', {
        caseId,
        consentId,
        whole: partial === undefined,
        ...(partial ?? {}),
        withdrawnByAgencyId: 'clinic-1',
        withdrawnAt: AT,
      }),
    );
  const covers = (state: ConsentState, agencyId: string) =>
    consentCovers(state, { agencyId, category: 'case-status', purpose: 'assistance', at: AT }) !== undefined;

  beforeEach(() => {
    store = new SqliteEventStore({ filename: ':memory:' });
    revision = -1;
  });
  afterEach(() => store.close());

  it('answers as a fold of the whole stream after every change: grant, read, withdraw, next read denied', async () => {
    const cache = new ConsentStateCache(store);
    const fromScratch = new CaseRecords(store);
    const check = async () => {
      const cached = await cache.consent(caseId);
      expect(cached).toEqual(await fromScratch.consent(caseId));
      return cached;
    };

    expect(covers(await check(), 'ngo-1')).toBe(false);
    await grant('consent-1', ['ngo-1', 'shelter-1']);
    expect(covers(await check(), 'ngo-1')).toBe(true);
    expect(covers(await check(), 'shelter-1')).toBe(true); // served from the cache, still checked

    await withdraw('consent-1', { agencyIds: ['shelter-1'] });
    expect(covers(await check(), 'shelter-1')).toBe(false); // the very next read
    expect(covers(await check(), 'ngo-1')).toBe(true);

    await withdraw('consent-1');
    expect(covers(await check(), 'ngo-1')).toBe(false);

    await grant('consent-2', ['ngo-1']);
    expect(covers(await check(), 'ngo-1')).toBe(true);
    expect(cache.stats.folded).toBeGreaterThanOrEqual(4);
    expect(cache.stats.unchanged).toBeGreaterThanOrEqual(3);
  });

  it('keeps cases apart', async () => {
    const cache = new ConsentStateCache(store);
    await grant('consent-1', ['ngo-1']);
    expect(covers(await cache.consent(caseId), 'ngo-1')).toBe(true);
    expect(covers(await cache.consent('case-cache-other'), 'ngo-1')).toBe(false);
  });
});
