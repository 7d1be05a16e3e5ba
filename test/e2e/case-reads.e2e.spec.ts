import { Ledger, type Principal } from './harness';

interface CaseView {
  caseId: string;
  purpose: string;
  categories: Record<string, Record<string, unknown>>;
  basis: Record<string, string>;
}

describe('consent-gated case reads and the access audit (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let shelter: Principal;
  let outsider: Principal;
  let caseId: string;
  let consentId: string;

  const purpose = (p: string) => ({ 'x-purpose': p });
  const read = (who: Principal, id: string, p = 'assistance') =>
    who.call<CaseView & { code?: string }>('GET', `/cases/${id}`, undefined, purpose(p));

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-reads');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-reads');
    shelter = await ledger.principal('shelter', ['caseworker'], 'shelter-reads');
    outsider = await ledger.principal('labour-inspectorate', ['caseworker'], 'inspectorate-reads');
    const reported = await clinic.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    caseId = reported.body.caseId;
    const granted = await clinic.post<{ consentId: string }>(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-reads', 'shelter-reads'],
      categories: ['case-status', 'support-needs'],
      purposes: ['assistance'],
      expiresAt: '2030-01-01T00:00:00Z',
      capture: { method: 'written', language: 'en', interpreterUsed: false },
    });
    consentId = granted.body.consentId;
    const respondBy = new Date(Date.now() + 86_400_000).toISOString();
    for (const to of ['ngo-reads', 'shelter-reads']) {
      const made = await clinic.post(`/cases/${caseId}/referrals`, {
        toAgencyId: to,
        purpose: 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'urgent',
        respondBy,
        sharedCategories: ['case-status'],
      });
      expect(made.status).toBe(201);
    }
  });
  afterAll(() => ledger.close());

  it('shows a party only the covered categories, absent (not null) otherwise, and audits the read with its basis', async () => {
    const before = (await ledger.auditEvents()).length;
    const answer = await read(ngo, caseId);
    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body.categories).sort()).toEqual(['case-status', 'support-needs']);
    expect(answer.body.categories).not.toHaveProperty('exploitation');
    expect(JSON.stringify(answer.body)).not.toContain('debt-bondage');
    expect(answer.body.basis).toEqual({ 'case-status': 'consent', 'support-needs': 'consent' });
    const audit = (await ledger.auditEvents()).slice(before);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      type: 'RecordAccessed',
      data: { agencyId: 'ngo-reads', caseId, view: 'case', purpose: 'assistance' },
    });
    const categories = audit[0]!.data.categories as unknown[];
    expect(categories).toHaveLength(2);
    expect(categories).toEqual(
      expect.arrayContaining([
        { category: 'case-status', basis: 'consent', consentId },
        { category: 'support-needs', basis: 'consent', consentId },
      ]),
    );
  });

  it('answers an agency with no part in the case exactly as for a case that does not exist, and audits both denials', async () => {
    const before = (await ledger.auditEvents()).length;
    const foreign = await read(outsider, caseId);
    const missing = await read(outsider, '00000000-0000-4000-8000-000000000000');
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    const strip = (b: object) => ({ ...b, requestId: undefined });
    expect(strip(foreign.body)).toEqual(strip(missing.body));
    const audit = (await ledger.auditEvents()).slice(before);
    expect(audit.map((a) => [a.type, a.data.reason])).toEqual([
      ['AccessDenied', 'not-a-party-or-unknown-case'],
      ['AccessDenied', 'not-a-party-or-unknown-case'],
    ]);
  });

  it('denies a party whose purpose is not covered (403) and a read without a purpose (400), auditing each', async () => {
    const before = (await ledger.auditEvents()).length;
    const investigation = await read(ngo, caseId, 'investigation');
    expect(investigation.status).toBe(403);
    expect(investigation.body).toMatchObject({ code: 'ACCESS.NOT_COVERED' });
    const noPurpose = await ngo.get(`/cases/${caseId}`);
    expect(noPurpose.status).toBe(400);
    expect(noPurpose.body).toMatchObject({ code: 'REQUEST.PURPOSE_REQUIRED', field: 'X-Purpose' });
    const audit = (await ledger.auditEvents()).slice(before);
    expect(audit.map((a) => a.data.reason)).toEqual([
      'no-consent-or-lawful-basis',
      'purpose-missing-or-unknown',
    ]);
  });

  it('lists my cases with my relation to each, and nothing of the cases of others', async () => {
    const mine = await ngo.get<{ cases: Array<{ caseId: string; relations: string[] }> }>('/cases');
    expect(mine.status).toBe(200);
    expect(mine.body.cases).toEqual([{ caseId, relations: ['referral-receiver'] }]);
    const theirs = await outsider.get<{ cases: unknown[] }>('/cases');
    expect(theirs.body.cases).toEqual([]);
    const bad = await ngo.get('/cases?limit=1000');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'limit' });
  });

  it('lists referrals in and out, pending or all, without case data, audited', async () => {
    type Referrals = { referrals: Array<Record<string, unknown>> };
    const incoming = await ngo.get<Referrals>('/referrals?direction=in&pending=true');
    expect(incoming.status).toBe(200);
    expect(incoming.body.referrals).toHaveLength(1);
    expect(incoming.body.referrals[0]).toMatchObject({
      caseId,
      fromAgencyId: 'clinic-reads',
      toAgencyId: 'ngo-reads',
      status: 'made',
      overdue: false,
    });
    expect(incoming.body.referrals[0]).not.toHaveProperty('servicesRequested');
    const outgoing = await clinic.get<Referrals>('/referrals?direction=out');
    expect(outgoing.body.referrals.map((r) => r.toAgencyId).sort()).toEqual(['ngo-reads', 'shelter-reads']);
    expect((await ngo.get<Referrals>('/referrals?direction=out')).body.referrals).toEqual([]);
    // Both referrals were made in the same test step; a page of one, then the next by cursor, gives both, once each.
    type Page = Referrals & { next?: { cursor: string } };
    const first = await clinic.get<Page>('/referrals?direction=out&limit=1');
    expect(first.body.referrals).toHaveLength(1);
    const second = await clinic.get<Page>(
      `/referrals?direction=out&limit=1&cursor=${encodeURIComponent(first.body.next!.cursor)}`,
    );
    expect([...first.body.referrals, ...second.body.referrals].map((r) => r.toAgencyId).sort()).toEqual([
      'ngo-reads',
      'shelter-reads',
    ]);
    expect((await clinic.get('/referrals?direction=out&cursor=yesterday')).status).toBe(400);
    // A well-formed token that no page gave: 400 naming the field, on both lists.
    const forged = Buffer.from('p1~not-an-instant~x').toString('base64url');
    for (const path of [`/cases?cursor=${forged}`, `/referrals?direction=out&cursor=${forged}`]) {
      const refused = await clinic.get(path);
      expect([refused.status, refused.body]).toEqual([400, expect.objectContaining({ field: 'cursor' })]);
    }
    const firstCase = await clinic.get<{ cases: unknown[]; next?: { cursor: string } }>('/cases?limit=1');
    expect(firstCase.body.next?.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const nextCases = await clinic.get<{ cases: unknown[] }>(
      `/cases?limit=1&cursor=${firstCase.body.next!.cursor}`,
    );
    expect(nextCases.status).toBe(200);
    const bad = await ngo.get('/referrals?direction=sideways');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'direction' });
    const audit = await ledger.auditEvents();
    expect(audit.some((a) => a.data.view === 'my-referrals-in' && a.data.agencyId === 'ngo-reads')).toBe(
      true,
    );
  });

  it('refuses commands on a case from an agency that is no party to it, exactly like an unknown case, recording only the refusals', async () => {
    const head = await ledger.store.headPosition();
    const respondBy = new Date(Date.now() + 86_400_000).toISOString();
    const attempts = [
      outsider.post(`/cases/${caseId}/consents`, {
        agencyIds: ['inspectorate-reads'],
        categories: ['exploitation'],
        purposes: ['investigation'],
        expiresAt: '2030-01-01T00:00:00Z',
        capture: { method: 'written', language: 'en', interpreterUsed: false },
      }),
      outsider.post(`/cases/${caseId}/referrals`, {
        toAgencyId: 'ngo-reads',
        purpose: 'assistance',
        servicesRequested: [],
        urgency: 'routine',
        respondBy,
        sharedCategories: [],
      }),
      outsider.post(`/cases/${caseId}/support-services`, {
        serviceType: 'legal',
        providedOn: new Date().toISOString().slice(0, 10),
      }),
      outsider.post(`/cases/${caseId}/indicator-assessments`, {
        outcome: 'indicators-present',
        indicatorsConfirmed: ['debt-bondage'],
        exploitationForms: ['labour'],
      }),
    ];
    for (const answer of await Promise.all(attempts)) {
      expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 404 });
      expect(answer.body).toMatchObject({ code: 'CASE.NOT_FOUND', field: 'caseId' });
    }
    // Nothing but one AccessDenied per attempt, naming the operation, the outsider and the case.
    const after = [];
    for await (const e of ledger.store.readAll({ fromPosition: { after: head } })) after.push(e);
    expect(after.map((e) => [e.type, e.data.agencyId, e.data.caseId, e.data.reason]).sort()).toEqual(
      Array.from({ length: 4 }, () => [
        'AccessDenied',
        outsider.agencyId,
        caseId,
        'not-a-party-or-unknown-case',
      ]),
    );
    expect(after.map((e) => e.data.view).sort()).toEqual([
      'POST /cases/:caseId/consents',
      'POST /cases/:caseId/indicator-assessments',
      'POST /cases/:caseId/referrals',
      'POST /cases/:caseId/support-services',
    ]);
  });

  it('answers a body nested 10,000 levels deep with 400, not 500, storing nothing', async () => {
    const head = await ledger.store.headPosition();
    const deep = '{"capture":' + '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '}';
    const answer = await clinic.post(`/cases/${caseId}/consents`, deep);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await ledger.recordedAfter(head)).toEqual([]);
  });

  it('lets a foreign contact point read only what consent covers: a lawful basis cannot send data abroad', async () => {
    const foreign = await ledger.principal('foreign-nrm', ['caseworker'], 'foreign-reads');
    const respondBy = new Date(Date.now() + 86_400_000).toISOString();
    expect(
      (
        await clinic.post(`/cases/${caseId}/referrals`, {
          toAgencyId: 'foreign-reads',
          purpose: 'referral',
          servicesRequested: [],
          urgency: 'routine',
          respondBy,
          sharedCategories: [],
        })
      ).status,
    ).toBe(201);
    const basis = await clinic.post(`/cases/${caseId}/lawful-bases`, {
      agencyIds: ['foreign-reads'],
      categories: ['exploitation'],
      purposes: ['referral'],
      basis: 'legal-obligation',
      justification: 'Treaty obligation under the bilateral cooperation agreement, article 7.',
    });
    // Refused when recorded (a special category abroad needs the person's consent), nothing stored.
    expect(basis.status).toBe(422);
    expect(basis.body).toMatchObject({ code: 'CONSENT.FOREIGN_LAWFUL_BASIS', field: 'agencyIds[0]' });
    const answer = await read(foreign, caseId, 'referral');
    expect(answer.status).toBe(403);
    expect(JSON.stringify(answer.body)).not.toContain('debt-bondage');
  });

  it('enforces a withdrawal on the very next read, from every agency, right after it is acknowledged', async () => {
    expect((await read(shelter, caseId)).status).toBe(200);
    const partial = await clinic.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {
      agencyIds: ['shelter-reads'],
    });
    expect(partial.status).toBe(200);
    const shelterAfter = await read(shelter, caseId);
    expect(shelterAfter.status).toBe(403);
    expect((await read(ngo, caseId)).status).toBe(200);

    const whole = await clinic.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {});
    expect(whole.status).toBe(200);
    const results = await Promise.all([read(ngo, caseId), read(shelter, caseId), read(clinic, caseId)]);
    expect(results.map((r) => r.status)).toEqual([403, 403, 403]);
  });
});
