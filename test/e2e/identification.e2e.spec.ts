import { Ledger, type Principal } from './harness';

describe('identification through HTTP (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let police: Principal;
  let ngoDecider: Principal;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker']);
    police = await ledger.principal('law-enforcement', ['caseworker', 'decision-maker']);
    ngoDecider = await ledger.principal('ngo', ['caseworker', 'decision-maker']);
  });
  afterAll(() => ledger.close());

  const report = {
    indicators: ['restricted-movement', 'debt-bondage'],
    exploitationForms: ['labour'],
    minor: false,
    region: 'NL-ZH',
  };

  const referTo = (caseId: string, toAgencyId: string) =>
    clinic.post(`/cases/${caseId}/referrals`, {
      toAgencyId,
      purpose: 'protection',
      servicesRequested: [],
      urgency: 'urgent',
      respondBy: new Date(Date.now() + 2 * 86_400_000).toISOString(),
      sharedCategories: [],
    });

  it('reports, assesses and decides grounds; only a competent agency seized of the case decides', async () => {
    const created = await clinic.post<{
      caseId: string;
      subjectId: string;
      revision: number;
      eventIds: string[];
    }>('/cases', report);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ revision: 0 });
    expect(created.body.eventIds).toHaveLength(1);
    const { caseId } = created.body;

    const assessed = await clinic.post(`/cases/${caseId}/indicator-assessments`, {
      outcome: 'indicators-present',
      indicatorsConfirmed: ['debt-bondage'],
      exploitationForms: ['labour'],
    });
    expect(assessed.status).toBe(200);
    expect(assessed.body).toMatchObject({ revision: 1 });

    // Not seized of the case: the answer for a case that does not exist, and nothing recorded.
    for (const who of [police, ngoDecider]) {
      const unseized = await who.post(`/cases/${caseId}/reasonable-grounds-decision`, {
        outcome: 'negative',
      });
      expect(unseized.status).toBe(404);
      expect(unseized.body).toMatchObject({ code: 'CASE.NOT_FOUND', field: 'caseId' });
    }
    expect((await referTo(caseId, ngoDecider.agencyId)).status).toBe(201);
    expect((await referTo(caseId, police.agencyId)).status).toBe(201);

    // Seized, but not a competent kind of agency.
    const byNgo = await ngoDecider.post(`/cases/${caseId}/reasonable-grounds-decision`, {
      outcome: 'positive',
    });
    expect(byNgo.status).toBe(403);
    expect(byNgo.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(byNgo.body).toMatchObject({ code: 'IDENTIFICATION.NOT_COMPETENT' });

    const decided = await police.post(`/cases/${caseId}/reasonable-grounds-decision`, {
      outcome: 'positive',
    });
    expect(decided.status).toBe(200);
    const again = await police.post(`/cases/${caseId}/reasonable-grounds-decision`, { outcome: 'negative' });
    expect(again.status).toBe(409);

    const events = [];
    for await (const e of ledger.store.readStream(`identification-${caseId}`)) events.push(e);
    expect(events.map((e) => e.type)).toEqual([
      'PotentialVictimReported',
      'IndicatorsAssessed',
      'ReasonableGroundsDecided',
    ]);
    expect(events[2]!.metadata).toMatchObject({ principalId: police.principalId, agencyId: police.agencyId });
  });

  it('answers 404 for a case nobody reported and 400 for malformed input, storing nothing but the refusals', async () => {
    const head = await ledger.store.headPosition();
    const missing = await police.post(
      '/cases/00000000-0000-4000-8000-000000000000/reasonable-grounds-decision',
      { outcome: 'positive' },
    );
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'CASE.NOT_FOUND', field: 'caseId' });
    const bad = [
      [{ ...report, minor: 'no' }, 'minor'],
      [{ ...report, indicators: [] }, 'indicators'],
      [{ ...report, indicators: ['Name: Jane Doe, born 1990'] }, 'indicators'],
      [{ ...report, exploitationForms: ['tourism'] }, 'exploitationForms'],
      [{ ...report, region: '12 Main Street, Leiden' }, 'region'],
      // A region is its code only (ISO 3166-2, NUTS or country), issue #13.
      [{ ...report, region: 'Leiden' }, 'region'],
      [{ ...report, region: 'nl-zh' }, 'region'],
      [{ ...report, name: 'Jane' }, 'name'],
    ] as const;
    for (const [body, field] of bad) {
      const answer = await clinic.post('/cases', body);
      expect({ field, status: answer.status, code: answer.body.code, named: answer.body.field }).toEqual({
        field,
        status: 400,
        code: 'REQUEST.INVALID',
        named: field,
      });
    }
    const after = [];
    for await (const e of ledger.store.readAll({ fromPosition: { after: head } })) after.push(e);
    expect(after.map((e) => [e.type, e.data.view, e.data.status])).toEqual([
      ['AccessDenied', 'POST /cases/:caseId/reasonable-grounds-decision', 404],
      ...bad.map(() => ['AccessDenied', 'POST /cases', 400]),
    ]);
  });
});
