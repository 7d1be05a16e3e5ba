import { randomUUID } from 'node:crypto';
import { Ledger, type Principal } from './harness';

/** The request id of the oversight-only read the clinic tries (a UUID: see attempt()). */
const ATTEMPTS_BY_CLINIC = '5b4a3928-1706-4f5e-8d3c-2b1a0f9e8d7c';

/**
 * Every refused attempt on well-formed ids is on the record (DOMAIN.md rule 7): reads and
 * commands, by parties and strangers, erasure, a purpose sent in the query instead of X-Purpose.
 * Each becomes exactly one AccessDenied naming the operation, the principal and the ids; and the
 * oversight body lists granted and refused attempts together, by agency, case and period.
 */
describe('refusal audit (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let stranger: Principal;
  let coordinator: Principal;
  let oversight: Principal;
  let caseId: string;
  let subjectId: string;
  let referralId: string;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker']);
    ngo = await ledger.principal('ngo', ['caseworker']);
    stranger = await ledger.principal('shelter', ['caseworker', 'decision-maker']);
    coordinator = await ledger.principal('national-coordinator', ['coordinator']);
    oversight = await ledger.principal('oversight-body', ['oversight']);
    const reported = await clinic.post<{ caseId: string; subjectId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    ({ caseId, subjectId } = reported.body);
    const referred = await clinic.post<{ referralId: string }>(`/cases/${caseId}/referrals`, {
      toAgencyId: ngo.agencyId,
      purpose: 'assistance',
      servicesRequested: ['legal'],
      urgency: 'routine',
      respondBy: new Date(Date.now() + 86_400_000).toISOString(),
      sharedCategories: [],
    });
    expect(referred.status).toBe(201);
    referralId = referred.body.referralId;
  });
  afterAll(() => ledger.close());

  /** A call with a request id of its own, so that its audit record can be found. */
  async function attempt(
    who: Principal,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    // A UUID: the ledger takes no other request id from a caller (it would be stored in the trail).
    const requestId = randomUUID();
    const answer = await who.call(method, path, body, { 'x-request-id': requestId, ...headers });
    return { requestId, status: answer.status, code: answer.body.code as string | undefined, method, path };
  }

  it('records one AccessDenied for every refused attempt on well-formed ids, and none for a malformed id', async () => {
    const respondBy = new Date(Date.now() + 86_400_000).toISOString();
    const attempts = [
      // strangers, on a real case and referral and on unknown ones
      await attempt(stranger, 'POST', `/cases/${caseId}/support-services`, {
        serviceType: 'legal',
        providedOn: '2026-11-30',
      }),
      await attempt(stranger, 'POST', `/cases/${randomUUID()}/closure`, { outcome: 'integrated' }),
      await attempt(stranger, 'POST', `/referrals/${referralId}/acceptance`),
      await attempt(stranger, 'GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' }),
      // parties, refused by role, state or rule
      await attempt(clinic, 'POST', `/cases/${caseId}/reasonable-grounds-decision`, { outcome: 'positive' }),
      await attempt(ngo, 'POST', `/referrals/${referralId}/acceptance`),
      await attempt(clinic, 'POST', `/cases/${caseId}/referrals`, {
        toAgencyId: 'no-such-agency',
        purpose: 'assistance',
        servicesRequested: [],
        urgency: 'routine',
        respondBy,
        sharedCategories: [],
      }),
      await attempt(clinic, 'POST', `/cases/${caseId}/support-services`, { serviceType: 'teleportation' }),
      // the purpose in the query instead of the X-Purpose header, and no purpose at all
      await attempt(clinic, 'GET', `/cases/${caseId}?purpose=assistance`),
      await attempt(clinic, 'GET', `/cases/${caseId}`),
      // erasure: by an agency without the right, of an unknown subject, with a reason too short
      await attempt(clinic, 'POST', `/subjects/${subjectId}/erasure`, { ground: 'subject-request' }),
      await attempt(coordinator, 'POST', `/subjects/${randomUUID()}/erasure`, {
        ground: 'subject-request',
      }),
      await attempt(coordinator, 'POST', `/subjects/${subjectId}/erasure`, { reason: 'short' }),
    ];
    const malformed = [
      await attempt(stranger, 'POST', '/cases/-bad/closure', { outcome: 'integrated' }),
      await attempt(stranger, 'GET', '/cases/-bad', undefined, { 'x-purpose': 'assistance' }),
    ];
    for (const a of [...attempts, ...malformed])
      expect({ ...a, refused: a.status >= 400 }).toMatchObject({ refused: true });

    const denials = (await ledger.auditEvents()).filter((e) => e.type === 'AccessDenied');
    const byRequest = (requestId: string) => denials.filter((e) => e.data.requestId === requestId);
    const audited = attempts.filter((a) => byRequest(a.requestId).length === 1);
    const twice = attempts.filter((a) => byRequest(a.requestId).length > 1);
    const malformedAudited = malformed.filter((a) => byRequest(a.requestId).length > 0);
    console.log(
      `refusal audit: refused attempts ${attempts.length}, audited ${audited.length} (${Math.round((100 * audited.length) / attempts.length)}%), ` +
        `audited twice ${twice.length}; malformed ids ${malformed.length}, audited ${malformedAudited.length}`,
    );
    expect(
      attempts.filter((a) => byRequest(a.requestId).length !== 1).map((a) => `${a.method} ${a.path}`),
    ).toEqual([]);
    expect(malformedAudited).toEqual([]);

    // Each names the principal, the operation and the ids.
    const first = byRequest(attempts[2]!.requestId)[0]!.data;
    expect(first).toMatchObject({
      principalId: stranger.principalId,
      agencyId: stranger.agencyId,
      view: 'POST /referrals/:referralId/acceptance',
      referralId,
      caseId,
      reason: 'not-a-party-or-unknown-referral',
      status: 404,
      code: 'REFERRAL.NOT_FOUND',
    });
    expect(byRequest(attempts[8]!.requestId)[0]!.data).toMatchObject({
      view: 'GET /cases/:caseId',
      caseId,
      reason: 'purpose-not-in-header',
      status: 400,
    });
    expect(byRequest(attempts[10]!.requestId)[0]!.data).toMatchObject({
      view: 'POST /subjects/:subjectId/erasure',
      subjectId,
      reason: 'not-allowed',
      status: 403,
    });
  });

  it('lets the oversight body list granted and refused attempts together, by agency, case and period', async () => {
    const started = new Date(Date.now() - 1).toISOString();
    expect(
      (await clinic.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' })).status,
    ).toBe(403);
    const granted = await ngo.call('GET', '/cases');
    expect(granted.status).toBe(200);
    await stranger.post(`/referrals/${referralId}/withdrawal`, { reason: 'other' });

    type Attempts = { entries: Array<Record<string, unknown>> };
    const all = await oversight.call<Attempts>(
      'GET',
      `/oversight/access-attempts?from=${encodeURIComponent(started)}`,
    );
    expect(all.status).toBe(200);
    const outcomes = new Set(all.body.entries.map((e) => e.outcome));
    expect([...outcomes].sort()).toEqual(['granted', 'refused']);
    expect(all.body.entries.every((e) => (e.type === 'AccessDenied') === (e.outcome === 'refused'))).toBe(
      true,
    );

    const onCase = await oversight.call<Attempts>('GET', `/oversight/access-attempts?caseId=${caseId}`);
    expect(onCase.body.entries.length).toBeGreaterThan(0);
    expect(onCase.body.entries.every((e) => e.caseId === caseId)).toBe(true);
    // The stranger's refused referral command is found under the referral's case.
    expect(onCase.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          outcome: 'refused',
          agencyId: stranger.agencyId,
          referralId,
          view: 'POST /referrals/:referralId/withdrawal',
          code: 'REFERRAL.NOT_FOUND',
        }),
      ]),
    );

    const byStranger = await oversight.call<Attempts>(
      'GET',
      `/oversight/access-attempts?agencyId=${stranger.agencyId}&outcome=refused`,
    );
    expect(byStranger.body.entries.length).toBeGreaterThan(0);
    expect(
      byStranger.body.entries.every((e) => e.agencyId === stranger.agencyId && e.outcome === 'refused'),
    ).toBe(true);
    const later = await oversight.call<Attempts>(
      'GET',
      `/oversight/access-attempts?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(later.body.entries).toEqual([]);

    // Only the oversight body: the refusal is itself audited.
    const refused = await clinic.call('GET', '/oversight/access-attempts', undefined, {
      'x-request-id': ATTEMPTS_BY_CLINIC,
    });
    expect(refused.status).toBe(403);
    const audit = (await ledger.auditEvents()).filter((e) => e.data.requestId === ATTEMPTS_BY_CLINIC);
    expect(audit.map((e) => e.type)).toEqual(['AccessDenied']);
  });
});
