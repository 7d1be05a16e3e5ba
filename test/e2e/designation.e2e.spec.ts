import { randomUUID } from 'node:crypto';
import { Ledger, type Principal } from './harness';

/**
 * Issue #11, item 3: grounds are decided only by a competent authority seized of the case, and the
 * national coordinator seizes one by designating it (`POST /cases/{caseId}/designations`). Played
 * as the attacker first: an authority not seized tries to decide; a party agency, a second
 * principal of the coordinator's office without the coordinator role and a stranger try to
 * designate (each answered exactly as for an unknown case, and audited); then the coordinator
 * designates and the authority decides; then authorities that may not be designated (abroad,
 * not competent, switched off, unknown, the coordinator itself) are refused naming `authorityId`.
 * Invented data only; the canary stands in the identity data.
 */

const CANARY = 'Vormelin Oskaretti';
const REPORT = {
  indicators: ['restricted-movement', 'debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
  identity: { fullName: CANARY, birthDate: '1977-02-14', nationality: 'MD' },
};
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

interface Sent {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The body with the request id taken out, and the headers but date and request id: to compare. */
  readonly same: string;
  readonly requestId: string;
}

describe('designation of a competent authority by the national coordinator (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let police: Principal;
  let designee: Principal;
  let coordinator: Principal;
  let coordinatorDesk: Principal;
  let coordinatorAdmin: Principal;
  let stranger: Principal;
  let foreign: Principal;
  let ngo: Principal;
  let caseId = '';
  const refused: string[] = [];
  let attempts = 0;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'dz-clinic');
    police = await ledger.principal('law-enforcement', ['caseworker', 'decision-maker'], 'dz-police');
    designee = await ledger.principal('law-enforcement', ['decision-maker'], 'dz-police-south');
    coordinator = await ledger.principal('national-coordinator', ['coordinator'], 'dz-coord');
    coordinatorDesk = await ledger.principal('national-coordinator', ['caseworker'], 'dz-coord');
    coordinatorAdmin = await ledger.principal('national-coordinator', ['registry-admin'], 'dz-coord');
    stranger = await ledger.principal('asylum-authority', ['caseworker', 'decision-maker'], 'dz-asylum');
    foreign = await ledger.principal('foreign-nrm', ['caseworker', 'decision-maker'], 'dz-foreign');
    ngo = await ledger.principal('ngo', ['caseworker', 'decision-maker'], 'dz-ngo');

    const reported = await clinic.post<{ caseId: string }>('/cases', REPORT);
    expect(reported.status).toBe(201);
    caseId = reported.body.caseId;
    const assessed = await clinic.post(`/cases/${caseId}/indicator-assessments`, {
      outcome: 'indicators-present',
      indicatorsConfirmed: ['debt-bondage'],
      exploitationForms: ['labour'],
    });
    expect(assessed.status).toBe(200);
    // The police is seized through a referral (and so party); it may decide, not designate.
    const referral = await clinic.post(`/cases/${caseId}/referrals`, {
      toAgencyId: police.agencyId,
      purpose: 'protection',
      servicesRequested: [],
      urgency: 'urgent',
      respondBy: inDays(2),
      sharedCategories: [],
    });
    expect(referral.status).toBe(201);
  });
  afterAll(() => ledger.close());

  async function send(who: Principal, method: string, path: string, body?: unknown): Promise<Sent> {
    // A UUID: the ledger takes no other request id from a caller (it would be stored in the trail).
    const requestId = randomUUID();
    const response = await fetch(`${ledger.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${who.apiKey}`,
        'x-request-id': requestId,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'GET' ? { 'x-purpose': 'protection' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    attempts++;
    if (response.status >= 400) refused.push(requestId);
    const headers = [...response.headers.entries()]
      .filter(([name]) => name !== 'date' && name !== 'x-request-id')
      .sort(([a], [b]) => a.localeCompare(b));
    return {
      status: response.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      same: `${response.status} ${JSON.stringify(headers)} ${text.split(requestId).join('<id>')}`,
      requestId,
    };
  }

  const designate = (who: Principal, authorityId: string, id = caseId) =>
    send(who, 'POST', `/cases/${id}/designations`, { authorityId, reason: 'no-authority-seized' });

  it('plays the attacker chain, then lets the designated authority decide', async () => {
    let distinguishable = 0;
    const unknownCase = randomUUID();

    // 1. An authority not seized of the case tries to decide: the answer of an unknown case.
    const early = await send(designee, 'POST', `/cases/${caseId}/reasonable-grounds-decision`, {
      outcome: 'negative',
    });
    const earlyRandom = await send(designee, 'POST', `/cases/${unknownCase}/reasonable-grounds-decision`, {
      outcome: 'negative',
    });
    expect(early.body).toMatchObject({ code: 'CASE.NOT_FOUND', field: 'caseId' });
    if (early.same !== earlyRandom.same) distinguishable++;

    // 2. Anyone but the coordinator designating: a party by referral, the reporter, the
    // coordinator's own caseworker, a stranger, the foreign contact point, the designee itself.
    for (const who of [police, clinic, coordinatorDesk, stranger, foreign, designee]) {
      const real = await designate(who, designee.agencyId);
      const random = await designate(who, designee.agencyId, randomUUID());
      expect([real.status, real.body.code]).toEqual([404, 'CASE.NOT_FOUND']);
      if (real.same !== random.same) distinguishable++;
    }
    // Nothing was designated: the designee is still not seized.
    const stillEarly = await send(designee, 'POST', `/cases/${caseId}/reasonable-grounds-decision`, {
      outcome: 'negative',
    });
    expect(stillEarly.status).toBe(404);

    // 3. The coordinator designates: recorded once; again, nothing new.
    const first = await designate(coordinator, designee.agencyId);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ caseId, authorityId: designee.agencyId });
    expect(first.body.eventIds).toHaveLength(1);
    const again = await designate(coordinator, designee.agencyId);
    expect(again.status).toBe(200);
    expect(again.body.eventIds).toEqual([]);
    const recorded: Array<Record<string, unknown>> = [];
    for await (const e of ledger.store.readAll({ filter: { eventTypes: ['CompetentAuthorityDesignated'] } }))
      recorded.push(e.data);
    expect(recorded).toEqual([
      expect.objectContaining({
        caseId,
        authorityId: designee.agencyId,
        authorityKind: 'law-enforcement',
        reason: 'no-authority-seized',
        designatedByAgencyId: coordinator.agencyId,
        designatedByPrincipalId: coordinator.principalId,
      }),
    ]);
    // The coordinator designating on a case that does not exist: the unknown-case answer.
    const none = await designate(coordinator, designee.agencyId, randomUUID());
    expect([none.status, none.body.code]).toEqual([404, 'CASE.NOT_FOUND']);

    // The authority finds the case among its own, as designated.
    const mine = await designee.get<{ cases: Array<{ caseId: string; relations: string[] }> }>('/cases');
    expect(mine.body.cases).toEqual([{ caseId, relations: ['designated-authority'] }]);

    // 4. The designated authority decides.
    const decided = await send(designee, 'POST', `/cases/${caseId}/reasonable-grounds-decision`, {
      outcome: 'positive',
    });
    expect(decided.status).toBe(200);

    // 5. Party now, but it reads only what consent covers for it: nothing yet; then case status alone.
    const uncovered = await send(designee, 'GET', `/cases/${caseId}`);
    expect([uncovered.status, uncovered.body.code]).toEqual([403, 'ACCESS.NOT_COVERED']);
    const consent = await clinic.post(`/cases/${caseId}/consents`, {
      agencyIds: [designee.agencyId],
      categories: ['case-status'],
      purposes: ['protection'],
      expiresAt: inDays(90),
      capture: { method: 'written', language: 'ro', interpreterUsed: true },
    });
    expect(consent.status).toBe(201);
    const read = await send(designee, 'GET', `/cases/${caseId}`);
    expect(read.status).toBe(200);
    expect(Object.keys(read.body.categories as object)).toEqual(['case-status']);
    expect(JSON.stringify(read.body)).not.toContain(CANARY);
    // Designated is not in contact with the person: it records no consent, for itself or anyone.
    const selfConsent = await send(designee, 'POST', `/cases/${caseId}/consents`, {
      agencyIds: [designee.agencyId],
      categories: ['identity'],
      purposes: ['protection'],
      expiresAt: inDays(90),
      capture: { method: 'guardian', language: 'ro', interpreterUsed: false, guardianReference: 'G-1' },
    });
    expect(selfConsent.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(read.body) + JSON.stringify(selfConsent.body)).not.toContain(CANARY);

    // 6. Authorities that may not be designated: 422 naming authorityId, nothing recorded.
    const elsewhere = await coordinatorAdmin.post<{ agencyId: string }>('/agencies', {
      name: 'Test police abroad',
      kind: 'law-enforcement',
      country: 'DE',
    });
    expect(elsewhere.status).toBe(201);
    const switchedOff = await ledger.principal('asylum-authority', ['decision-maker'], 'dz-asylum-off');
    const off = await coordinatorAdmin.post(`/agencies/${switchedOff.agencyId}/disablement`, {
      reason: 'suspended',
    });
    expect(off.status).toBeLessThan(300);
    const cases: Array<[string, string, string]> = [
      ['a foreign contact point', foreign.agencyId, 'IDENTIFICATION.AUTHORITY_FOREIGN'],
      ['a police force abroad', elsewhere.body.agencyId, 'IDENTIFICATION.AUTHORITY_FOREIGN'],
      ['an NGO', ngo.agencyId, 'IDENTIFICATION.AUTHORITY_NOT_COMPETENT'],
      ['a switched-off authority', switchedOff.agencyId, 'IDENTIFICATION.AUTHORITY_DISABLED'],
      ['an unknown agency', 'dz-nobody', 'AGENCY.UNKNOWN'],
      ['the coordinator itself', coordinator.agencyId, 'IDENTIFICATION.SELF_DESIGNATION'],
    ];
    const wrong: string[] = [];
    for (const [label, authorityId, code] of cases) {
      const answer = await designate(coordinator, authorityId);
      const got = `${answer.status} ${String(answer.body.code)} ${String(answer.body.field)}`;
      if (got !== `422 ${code} authorityId`) wrong.push(`${label}: ${got}`);
    }
    const malformed = await designate(coordinator, 'not an id!');
    expect(malformed.status).toBe(400);
    expect(JSON.stringify(malformed.body)).toContain('authorityId');
    expect(wrong).toEqual([]);
    // The foreign contact point, designated or not, is never seized: it still cannot decide.
    const foreignDecides = await send(foreign, 'POST', `/cases/${caseId}/conclusive-grounds-decision`, {
      outcome: 'positive',
    });
    expect([foreignDecides.status, foreignDecides.body.code]).toEqual([404, 'CASE.NOT_FOUND']);
    let designations = 0;
    for await (const _ of ledger.store.readAll({ filter: { eventTypes: ['CompetentAuthorityDesignated'] } }))
      designations++;
    expect(designations).toBe(1);

    // 7. Every refused attempt is on the record, once, with the operation and the case.
    const denied = new Map<string, Record<string, unknown>[]>();
    for (const e of await ledger.auditEvents())
      if (e.type === 'AccessDenied' && typeof e.data.requestId === 'string')
        denied.set(e.data.requestId, [...(denied.get(e.data.requestId) ?? []), e.data]);
    const unaudited = refused.filter((id) => denied.get(id)?.length !== 1);
    const designationDenials = [...denied.values()]
      .flat()
      .filter((d) => d.view === 'POST /cases/:caseId/designations' && d.caseId === caseId);
    console.log(
      `designation: attempts ${attempts}, refused ${refused.length}, audited ${refused.length - unaudited.length}` +
        `, distinguishable ${distinguishable} of 7 pairs, designations recorded ${designations}` +
        `, refused designations of this case audited ${designationDenials.length}`,
    );
    expect(unaudited).toEqual([]);
    expect(distinguishable).toBe(0);
    // 6 non-coordinators + 6 refused authorities + the malformed body, on this case.
    expect(designationDenials).toHaveLength(13);
    expect(designationDenials.filter((d) => d.principalId === police.principalId)).toEqual([
      expect.objectContaining({ agencyId: police.agencyId, status: 404, code: 'CASE.NOT_FOUND' }),
    ]);
  });
});
