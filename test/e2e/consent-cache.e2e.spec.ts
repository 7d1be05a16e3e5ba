import { Ledger, type Principal } from './harness';

/**
 * Case reads fold consent from a cache kept by the consent stream's revision (ConsentStateCache).
 * Whatever the cache holds, a withdrawal acknowledged before a read counts in that read, and a
 * new grant after it counts too.
 */
describe('consent state cached by stream revision (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let caseId: string;
  let consentId: string;

  const read = (who: Principal) =>
    who.call<{ code?: string }>('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' });
  const grant = async (): Promise<string> => {
    const granted = await clinic.post<{ consentId: string }>(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-cache'],
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: '2030-01-01T00:00:00Z',
      capture: { method: 'written', language: 'en', interpreterUsed: false },
    });
    expect(granted.status).toBe(201);
    return granted.body.consentId;
  };

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-cache');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-cache');
    const reported = await clinic.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    caseId = reported.body.caseId;
    consentId = await grant(); // a referral shares only what consent covers
    const made = await clinic.post(`/cases/${caseId}/referrals`, {
      toAgencyId: 'ngo-cache',
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: new Date(Date.now() + 86_400_000).toISOString(),
      sharedCategories: ['case-status'],
    });
    expect(made.status).toBe(201);
  });
  afterAll(() => ledger.close());

  it('(granted) reads, cached → withdraw → the next read is denied → grant again → allowed', async () => {
    // Several reads: the first folds the stream, the others find it unchanged.
    for (let i = 0; i < 3; i++) expect((await read(ngo)).status).toBe(200);

    const withdrawn = await clinic.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {});
    expect(withdrawn.status).toBe(200);
    const denied = await read(ngo);
    expect(denied.status).toBe(403);
    expect((await read(ngo)).status).toBe(403);

    await grant();
    expect((await read(ngo)).status).toBe(200);
  });
});
