import { Ledger, type Principal } from './harness';

interface CaseView {
  caseId: string;
  asOf?: string;
  categories: { 'case-status'?: { referrals: Array<{ status: string }>; identificationStatus: string } };
  code?: string;
  field?: string;
}

const tick = () => new Promise((r) => setTimeout(r, 15));

describe('a case as it stood at a past instant (?asOf=, e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let outsider: Principal;
  let caseId: string;
  let consentId: string;
  let referralId: string;
  const moments: Record<string, string> = {};

  const read = (who: Principal, asOf?: string) =>
    who.call<CaseView>(
      'GET',
      `/cases/${caseId}${asOf === undefined ? '' : `?asOf=${encodeURIComponent(asOf)}`}`,
      undefined,
      { 'x-purpose': 'assistance' },
    );

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-asof');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-asof');
    outsider = await ledger.principal('shelter', ['caseworker'], 'shelter-asof');
    moments.beforeReport = new Date().toISOString();
    await tick();
    const reported = await clinic.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    caseId = reported.body.caseId;
    const granted = await clinic.post<{ consentId: string }>(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-asof'],
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: '2030-01-01T00:00:00Z',
      capture: { method: 'written', language: 'en', interpreterUsed: false },
    });
    consentId = granted.body.consentId;
    const made = await clinic.post<{ referralId: string }>(`/cases/${caseId}/referrals`, {
      toAgencyId: 'ngo-asof',
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: new Date(Date.now() + 86_400_000).toISOString(),
      sharedCategories: ['case-status'],
    });
    referralId = made.body.referralId;
    await tick();
    moments.referred = new Date().toISOString();
    await tick();
    expect((await ngo.post(`/referrals/${referralId}/acknowledgement`, {})).status).toBe(200);
    await tick();
    moments.acknowledged = new Date().toISOString();
    await tick();
    expect((await ngo.post(`/referrals/${referralId}/acceptance`, {})).status).toBe(200);
  });
  afterAll(() => ledger.close());

  it('shows each past moment as it was, from events, and audits the read with the instant', async () => {
    const now = await read(ngo);
    expect(now.status).toBe(200);
    expect(now.body.categories['case-status']?.referrals.map((r) => r.status)).toEqual(['accepted']);

    const before = (await ledger.auditEvents()).length;
    const atReferral = await read(ngo, moments.referred);
    expect(atReferral.status).toBe(200);
    expect(atReferral.body.asOf).toBe(moments.referred);
    expect(atReferral.body.categories['case-status']?.referrals.map((r) => r.status)).toEqual(['made']);
    const atAck = await read(ngo, moments.acknowledged);
    expect(atAck.body.categories['case-status']?.referrals.map((r) => r.status)).toEqual(['acknowledged']);
    // Only the categories covered now: the rest is absent in the past too.
    expect(Object.keys(atAck.body.categories)).toEqual(['case-status']);

    const records = (await ledger.auditEvents()).slice(before);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      type: 'RecordAccessed',
      data: { view: 'case-as-of', caseId, agencyId: 'ngo-asof', asOf: moments.referred },
    });
  });

  it('answers 404 for a moment before the report, and the same 404 as for an unknown case to a non-party', async () => {
    const early = await read(ngo, moments.beforeReport);
    expect(early.status).toBe(404);
    expect(early.body).toMatchObject({ code: 'CASE.NOT_REPORTED_AS_OF', field: 'asOf' });
    const stranger = await read(outsider, moments.referred);
    expect(stranger.status).toBe(404);
    expect(stranger.body.code).toBe('CASE.NOT_FOUND');
  });

  it('refuses a malformed or future asOf with a problem naming the field, audited as a denial', async () => {
    for (const bad of ['yesterday', '2026-13-45T99:00:00Z', '2999-01-01T00:00:00Z', '2026-11-30T10:00:00']) {
      const before = (await ledger.auditEvents()).length;
      const answer = await read(ngo, bad);
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.field).toBe('asOf');
      const records = (await ledger.auditEvents()).slice(before);
      expect(records).toEqual([
        expect.objectContaining({
          type: 'AccessDenied',
          data: expect.objectContaining({ reason: 'as-of-invalid' }),
        }),
      ]);
    }
  });

  it('hides the past too once consent is withdrawn: the decision is taken now', async () => {
    expect((await clinic.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {})).status).toBe(200);
    const answer = await read(ngo, moments.acknowledged);
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('ACCESS.NOT_COVERED');
  });
});
