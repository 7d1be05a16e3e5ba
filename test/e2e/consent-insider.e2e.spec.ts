/**
 * Issue #11, items 2, 3 and 6, played through HTTP: insiders who are (or try to become) party to a
 * case and then record consent or a lawful basis naming themselves, or post a grounds decision on a
 * case never referred to them. Each chain ends with what the insider obtained: bytes of identity,
 * health and exploitation data from case reads, and from what the relay would publish on its Kafka
 * topic (the relay's own routing, run over every stored event). Counts are printed; all must be 0.
 * Then the withdrawal of (agency, category) pairs, and bad consent and lawful-basis bodies.
 */
import { BatchState } from '../../apps/relay/src/relay-store';
import { route, topicNames, type RelayStateView } from '../../apps/relay/src/routing';
import type { AgencyIntegrationEvent } from '@nrm/contracts';
import type { DataCategory, Purpose } from '@nrm/shared-kernel';
import { Ledger, type Answer, type Principal } from './harness';

const DAY_MS = 86_400_000;
const SENSITIVE: readonly DataCategory[] = ['identity', 'health', 'exploitation'];
const PURPOSES: readonly Purpose[] = ['assistance', 'referral', 'protection', 'investigation', 'statistics'];
// An invented person; the name is a canary searched for in everything the insiders obtain.
const CANARY = 'Zorelia Quintavex';
const REPORT = {
  indicators: ['debt-bondage', 'withheld-documents'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
  identity: { fullName: CANARY, birthDate: '1999-04-02', nationality: 'MD' },
};
const ASSESSMENT = {
  outcome: 'indicators-present',
  indicatorsConfirmed: ['debt-bondage'],
  exploitationForms: ['labour'],
};
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const referral = (toAgencyId: string, purpose: Purpose, sharedCategories: DataCategory[] = []) => ({
  toAgencyId,
  purpose,
  servicesRequested: purpose === 'assistance' ? ['accommodation'] : [],
  urgency: 'urgent',
  respondBy: inDays(2),
  sharedCategories,
});
const consentBody = (
  agencyIds: string[],
  categories: DataCategory[],
  capture: Record<string, unknown>,
  purposes: Purpose[] = ['assistance', 'referral', 'protection', 'investigation'],
) => ({ agencyIds, categories, purposes, expiresAt: inDays(180), capture });
const WRITTEN = { method: 'written', language: 'ro', interpreterUsed: true };
const lawfulBasisBody = (agencyIds: string[], categories: DataCategory[]) => ({
  agencyIds,
  categories,
  purposes: ['protection', 'investigation', 'referral', 'assistance'],
  basis: 'court-order',
  justification: 'Court order 2026/0412 of the district court requires the case file to be shared.',
});

describe('insiders cannot widen their own access (issue #11, e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let shelter: Principal;
  let foreign: Principal;
  let police: Principal;
  let asylum: Principal;
  const tally = { attempts: 0, refused: 0, identity: 0, health: 0, exploitation: 0, kafka: 0, canary: 0 };

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'ins-clinic');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ins-ngo');
    shelter = await ledger.principal('shelter', ['caseworker'], 'ins-shelter');
    foreign = await ledger.principal('foreign-nrm', ['caseworker', 'decision-maker'], 'ins-foreign');
    police = await ledger.principal('law-enforcement', ['caseworker', 'decision-maker'], 'ins-police');
    asylum = await ledger.principal('asylum-authority', ['caseworker', 'decision-maker'], 'ins-asylum');
  });
  afterAll(async () => {
    console.log(
      `consent-insider: attempts ${tally.attempts}, refused ${tally.refused}, ` +
        `identity bytes ${tally.identity}, health bytes ${tally.health}, exploitation bytes ${tally.exploitation}, ` +
        `kafka sensitive messages ${tally.kafka}, canary hits ${tally.canary}`,
    );
    await ledger.close();
  });

  async function ok<T>(answer: Promise<Answer<T>>, status = 201): Promise<T> {
    const a = await answer;
    expect({ status: a.status, body: a.body }).toMatchObject({ status });
    return a.body;
  }

  async function openCase(): Promise<string> {
    const { caseId } = await ok(clinic.post<{ caseId: string }>('/cases', REPORT));
    await ok(clinic.post(`/cases/${caseId}/indicator-assessments`, ASSESSMENT), 200);
    return caseId;
  }

  async function streamTypes(stream: string): Promise<string[]> {
    const types: string[] = [];
    for await (const e of ledger.store.readStream(stream)) types.push(e.type);
    return types;
  }

  /** An attempt that must be refused with this status (and code), recording nothing on the case. */
  async function refused(
    caseId: string,
    attempt: Promise<Answer>,
    status: number,
    code: string,
    field?: string,
  ): Promise<void> {
    const before = [await streamTypes(`consent-${caseId}`), await streamTypes(`identification-${caseId}`)];
    const answer = await attempt;
    tally.attempts++;
    if (answer.status >= 400) tally.refused++;
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect({ status: answer.status, code: answer.body.code, field: answer.body.field }).toEqual({
      status,
      code,
      field,
    });
    expect([await streamTypes(`consent-${caseId}`), await streamTypes(`identification-${caseId}`)]).toEqual(
      before,
    );
  }

  /** Reads the case for every purpose, live and as of now, adding what sensitive data came back. */
  async function harvestReads(who: Principal, caseId: string): Promise<number> {
    let obtained = 0;
    for (const purpose of PURPOSES)
      for (const query of ['', `?asOf=${encodeURIComponent(new Date().toISOString())}`]) {
        const answer = await who.call<{ categories?: Record<string, unknown> }>(
          'GET',
          `/cases/${caseId}${query}`,
          undefined,
          { 'x-purpose': purpose },
        );
        const categories = answer.status === 200 ? (answer.body.categories ?? {}) : {};
        for (const category of SENSITIVE) {
          const bytes = category in categories ? JSON.stringify(categories[category]).length : 0;
          tally[category as 'identity' | 'health' | 'exploitation'] += bytes;
          obtained += bytes;
        }
        if (JSON.stringify(answer.body).includes(CANARY)) tally.canary++;
      }
    return obtained;
  }

  /** What the relay would publish on the agency's topic: routed by its own code over every stored event. */
  async function kafkaSensitive(agencyId: string): Promise<{ messages: number; sensitive: number }> {
    const empty: RelayStateView = {
      caseState: () => undefined,
      referral: () => undefined,
      agencyKind: () => undefined,
    };
    const state = new BatchState(empty);
    const topics = topicNames('');
    let messages = 0;
    let sensitive = 0;
    for await (const event of ledger.store.readAll()) {
      const routing = route(event, state, topics);
      if (routing.kind !== 'publish') continue;
      state.apply(routing.change);
      for (const message of routing.messages) {
        if (message.topic !== topics.agency(agencyId)) continue;
        messages++;
        const value = JSON.parse(message.value) as AgencyIntegrationEvent;
        if (value.categories.some((c) => SENSITIVE.includes(c)) || message.value.includes(CANARY))
          sensitive++;
      }
    }
    return { messages, sensitive };
  }

  it('chain 1: a foreign contact point party through a transnational referral cannot consent for itself', async () => {
    const caseId = await openCase();
    // Legitimately: case status abroad by the person's consent, then the referral; the person reaches it.
    await ok(
      clinic.post(`/cases/${caseId}/consents`, consentBody(['ins-foreign'], ['case-status'], WRITTEN)),
    );
    const { referralId } = await ok(
      clinic.post<{ referralId: string }>(
        `/cases/${caseId}/referrals`,
        referral('ins-foreign', 'referral', ['case-status']),
      ),
    );
    for (const step of ['acknowledgement', 'acceptance', 'handoff'])
      await ok(foreign.post(`/referrals/${referralId}/${step}`), 200);

    const guardian = {
      method: 'guardian',
      language: 'ro',
      interpreterUsed: false,
      guardianReference: 'GRD-0001',
    };
    const witnessed = {
      method: 'verbal-with-witness',
      language: 'ro',
      interpreterUsed: false,
      witnessPrincipalId: foreign.principalId,
    };
    const consents = [
      consentBody(['ins-foreign'], ['identity', 'exploitation'], guardian),
      consentBody(['ins-foreign'], ['identity', 'exploitation', 'health'], WRITTEN),
      consentBody(['ins-foreign'], ['identity'], witnessed),
      consentBody(['ins-foreign', 'ins-clinic'], ['identity', 'exploitation'], guardian),
    ];
    for (const body of consents)
      await refused(caseId, foreign.post(`/cases/${caseId}/consents`, body), 403, 'CONSENT.NO_CONTACT');
    await refused(
      caseId,
      foreign.post(`/cases/${caseId}/lawful-bases`, lawfulBasisBody(['ins-foreign'], ['identity'])),
      403,
      'CONSENT.NO_STANDING',
    );
    // Nor can the clinic send identity abroad on a lawful basis.
    await refused(
      caseId,
      clinic.post(
        `/cases/${caseId}/lawful-bases`,
        lawfulBasisBody(['ins-foreign'], ['identity', 'exploitation']),
      ),
      422,
      'CONSENT.FOREIGN_LAWFUL_BASIS',
      'agencyIds[0]',
    );

    expect(await harvestReads(foreign, caseId)).toBe(0);
    const kafka = await kafkaSensitive('ins-foreign');
    tally.kafka += kafka.sensitive;
    // It does hear of the case (its referral, case status): the measurement is of something real.
    expect(kafka.messages).toBeGreaterThan(0);
    expect(kafka.sensitive).toBe(0);
  });

  it('chain 2: a decision-maker never seized of a case cannot decide on it, become party, nor consent', async () => {
    const caseId = await openCase();
    for (const authority of [police, asylum, foreign]) {
      await refused(
        caseId,
        authority.post(`/cases/${caseId}/reasonable-grounds-decision`, { outcome: 'negative' }),
        404,
        'CASE.NOT_FOUND',
        'caseId',
      );
      await refused(
        caseId,
        authority.post(`/cases/${caseId}/consents`, {
          ...consentBody([authority.agencyId], ['identity', 'exploitation'], {
            method: 'verbal-with-witness',
            language: 'en',
            interpreterUsed: false,
            witnessPrincipalId: authority.principalId,
          }),
        }),
        404,
        'CASE.NOT_FOUND',
        'caseId',
      );
      await refused(
        caseId,
        authority.post(`/cases/${caseId}/lawful-bases`, lawfulBasisBody([authority.agencyId], ['identity'])),
        404,
        'CASE.NOT_FOUND',
        'caseId',
      );
      expect(await harvestReads(authority, caseId)).toBe(0);
      const mine = await authority.get<{ cases?: Array<{ caseId: string }> }>('/cases');
      expect(JSON.stringify(mine.body)).not.toContain(caseId);
    }
    expect(await streamTypes(`identification-${caseId}`)).toEqual([
      'PotentialVictimReported',
      'IndicatorsAssessed',
    ]);

    // A referral the authority declined does not seize it.
    const toAsylum = await ok(
      clinic.post<{ referralId: string }>(`/cases/${caseId}/referrals`, referral('ins-asylum', 'protection')),
    );
    await ok(asylum.post(`/referrals/${toAsylum.referralId}/acknowledgement`), 200);
    await ok(asylum.post(`/referrals/${toAsylum.referralId}/decline`, { reason: 'no-capacity' }), 200);
    await refused(
      caseId,
      asylum.post(`/cases/${caseId}/reasonable-grounds-decision`, { outcome: 'negative' }),
      404,
      'CASE.NOT_FOUND',
      'caseId',
    );

    // Seized by a referral, the police decides for real; it still has no contact with the person.
    await ok(clinic.post(`/cases/${caseId}/referrals`, referral('ins-police', 'protection')));
    await ok(police.post(`/cases/${caseId}/reasonable-grounds-decision`, { outcome: 'negative' }), 200);
    await refused(
      caseId,
      police.post(
        `/cases/${caseId}/consents`,
        consentBody(['ins-police'], ['identity', 'exploitation'], {
          method: 'verbal-with-witness',
          language: 'en',
          interpreterUsed: false,
          witnessPrincipalId: police.principalId,
        }),
      ),
      403,
      'CONSENT.NO_CONTACT',
    );
    await refused(
      caseId,
      police.post(
        `/cases/${caseId}/lawful-bases`,
        lawfulBasisBody(['ins-police'], ['identity', 'exploitation']),
      ),
      422,
      'CONSENT.SELF_GRANT',
      'agencyIds[0]',
    );
    expect(await harvestReads(police, caseId)).toBe(0);
    for (const authority of [police, asylum])
      expect((await kafkaSensitive(authority.agencyId)).sensitive).toBe(0);
    tally.kafka += (await kafkaSensitive('ins-police')).sensitive;
  });

  it('an agency in contact cannot name itself either; the agencies it names do see the data', async () => {
    const caseId = await openCase();
    await ok(clinic.post(`/cases/${caseId}/referrals`, referral('ins-shelter', 'assistance')));
    await refused(
      caseId,
      clinic.post(
        `/cases/${caseId}/consents`,
        consentBody(['ins-shelter', 'ins-clinic'], ['identity'], WRITTEN),
      ),
      422,
      'CONSENT.SELF_GRANT',
      'agencyIds[1]',
    );
    expect(await harvestReads(clinic, caseId)).toBe(0);
    // Positive control: the reads above could have found the data, as the shelter's read shows.
    await ok(clinic.post(`/cases/${caseId}/consents`, consentBody(['ins-shelter'], [...SENSITIVE], WRITTEN)));
    const seen = await shelter.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' });
    expect(seen.status).toBe(200);
    expect(JSON.stringify(seen.body)).toContain(CANARY);
    // The Kafka measurement can find it too: a new assessment carries exploitation to the shelter.
    await ok(clinic.post(`/cases/${caseId}/indicator-assessments`, ASSESSMENT), 200);
    expect((await kafkaSensitive('ins-shelter')).sensitive).toBeGreaterThan(0);
    // (This case holds no health data, so no health category is shown to anyone.)
    expect(Object.keys(seen.body.categories as object)).toEqual(
      expect.arrayContaining(['identity', 'exploitation']),
    );
  });

  it('withdraws exactly the (agency, category) pairs named', async () => {
    const caseId = await openCase();
    for (const to of ['ins-ngo', 'ins-shelter'])
      await ok(clinic.post(`/cases/${caseId}/referrals`, referral(to, 'assistance')));
    const four: DataCategory[] = ['identity', 'health', 'exploitation', 'case-status'];
    const { consentId } = await ok(
      clinic.post<{ consentId: string }>(
        `/cases/${caseId}/consents`,
        consentBody(['ins-ngo', 'ins-shelter'], four, WRITTEN, ['assistance']),
      ),
    );
    await ok(
      clinic.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {
        agencyIds: ['ins-ngo'],
        categories: ['exploitation'],
      }),
      200,
    );
    const seen = async (who: Principal) => {
      const answer = await who.call<{ categories: Record<string, unknown> }>(
        'GET',
        `/cases/${caseId}`,
        undefined,
        {
          'x-purpose': 'assistance',
        },
      );
      expect(answer.status).toBe(200);
      return Object.keys(answer.body.categories).sort();
    };
    const ngoSees = await seen(ngo);
    const shelterSees = await seen(shelter);
    console.log(
      `withdrawal pairs: ngo sees [${ngoSees.join(', ')}], shelter sees [${shelterSees.join(', ')}]`,
    );
    // The case holds no health data, so health is shown to no one: the pair (ngo, exploitation) alone left.
    expect(ngoSees).toEqual(['case-status', 'identity']);
    expect(shelterSees).toEqual(['case-status', 'exploitation', 'identity']);
    // The same withdrawal again removes nothing: refused.
    await refused(
      caseId,
      clinic.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, {
        agencyIds: ['ins-ngo'],
        categories: ['exploitation'],
      }),
      409,
      'CONSENT.ALREADY_WITHDRAWN',
      'agencyIds',
    );
  });

  it('answers bad consent and lawful-basis bodies with a problem naming the field, storing nothing', async () => {
    const caseId = await openCase();
    await ok(clinic.post(`/cases/${caseId}/referrals`, referral('ins-ngo', 'assistance')));
    const { consentId } = await ok(
      clinic.post<{ consentId: string }>(
        `/cases/${caseId}/consents`,
        consentBody(['ins-ngo'], ['case-status'], WRITTEN),
      ),
    );
    const thousands = Array.from({ length: 5000 }, (_, i) => `ag-${i}`);
    const verbal = {
      method: 'verbal-with-witness',
      language: 'ro',
      interpreterUsed: false,
      witnessPrincipalId: clinic.principalId,
    };
    const cases: Array<[string, unknown, number, string, string]> = [
      [
        'consents',
        consentBody(['ins-ngo', 'ins-nowhere'], ['case-status'], WRITTEN),
        422,
        'AGENCY.UNKNOWN',
        'agencyIds[1]',
      ],
      [
        'consents',
        consentBody(['ins-clinic'], ['case-status'], WRITTEN),
        422,
        'CONSENT.SELF_GRANT',
        'agencyIds[0]',
      ],
      [
        'consents',
        consentBody(['ins-ngo', 'ins-foreign'], ['health'], verbal),
        422,
        'CONSENT.FOREIGN_NEEDS_WRITTEN',
        'agencyIds[1]',
      ],
      ['consents', consentBody(thousands, ['case-status'], WRITTEN), 400, 'REQUEST.INVALID', 'agencyIds'],
      [
        'lawful-bases',
        lawfulBasisBody(['ins-nowhere'], ['case-status']),
        422,
        'AGENCY.UNKNOWN',
        'agencyIds[0]',
      ],
      [
        'lawful-bases',
        lawfulBasisBody(['ins-clinic'], ['case-status']),
        422,
        'CONSENT.SELF_GRANT',
        'agencyIds[0]',
      ],
      [
        'lawful-bases',
        lawfulBasisBody(['ins-ngo', 'ins-foreign'], ['exploitation']),
        422,
        'CONSENT.FOREIGN_LAWFUL_BASIS',
        'agencyIds[1]',
      ],
      ['lawful-bases', lawfulBasisBody(thousands, ['case-status']), 400, 'REQUEST.INVALID', 'agencyIds'],
      [`consents/${consentId}/withdrawal`, { agencyIds: thousands }, 400, 'REQUEST.INVALID', 'agencyIds'],
      ['consent-refusals', { agencyIds: thousands }, 400, 'REQUEST.INVALID', 'agencyIds'],
      ['consent-refusals', { agencyIds: ['ins-nowhere'] }, 422, 'AGENCY.UNKNOWN', 'agencyIds[0]'],
    ];
    for (const [path, body, status, code, field] of cases) {
      const answer = clinic.post(`/cases/${caseId}/${path}`, body);
      await refused(caseId, answer, status, code, field);
    }
  });
});
