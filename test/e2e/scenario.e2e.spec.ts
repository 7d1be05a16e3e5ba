/**
 * The demo scenario (apps/ledger-cli/src/demo.ts) played through HTTP, every rule's refusal,
 * idempotent retries, concurrent commands and malformed input, checked against what is stored.
 * All data is invented: codes and slugs only.
 */
import type { RecordedEvent } from '@nrm/event-store';
import { Ledger, type Answer, type Principal } from './harness';

const DAY_MS = 86_400_000;
/** A calendar date (YYYY-MM-DD, UTC) `plusDays` from today. */
const isoDay = (plusDays = 0) => new Date(Date.now() + plusDays * DAY_MS).toISOString().slice(0, 10);
/** An instant `plusMs` from now. */
const instantIn = (plusMs: number) => new Date(Date.now() + plusMs).toISOString();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const PROBLEM_JSON = expect.stringMatching(/^application\/problem\+json/);

/** Matches any one of `values` (for answers that may legitimately come from the DTO or the domain). */
const oneOf = <T>(...values: T[]) => ({
  asymmetricMatch: (actual: unknown) => values.includes(actual as T),
  toAsymmetricMatcher: () => `oneOf(${values.map((v) => JSON.stringify(v)).join(', ')})`,
});

/** A case id nobody reported (a well-formed UUID). */
const UNKNOWN_ID = '00000000-0000-4000-8000-0000000000aa';

interface Recorded {
  stream: string;
  revision: number;
  position: number;
  eventIds: string[];
  replayed: boolean;
}
type Reported = Recorded & { caseId: string; subjectId: string };
type Referred = Recorded & { referralId: string; caseId: string };
type Consented = Recorded & { consentId: string };
type Planned = Recorded & { planId: string };

interface Problem {
  status: number;
  code: string;
  field?: string;
  title?: string;
  errors?: Array<{ field: string; message: string }>;
}

const REPORT = {
  indicators: ['restricted-movement', 'debt-bondage', 'withheld-documents'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
};
const ASSESSMENT = {
  outcome: 'indicators-present',
  indicatorsConfirmed: ['debt-bondage', 'withheld-documents'],
  exploitationForms: ['labour'],
};
const consentFor = (agencyIds: string[], overrides: Record<string, unknown> = {}) => ({
  agencyIds,
  categories: ['case-status', 'support-needs', 'health'],
  purposes: ['assistance', 'referral'],
  expiresAt: instantIn(180 * DAY_MS),
  capture: { method: 'written', language: 'ro', interpreterUsed: true },
  ...overrides,
});
const referralTo = (toAgencyId: string, overrides: Record<string, unknown> = {}) => ({
  toAgencyId,
  purpose: 'assistance',
  servicesRequested: ['accommodation', 'psychological', 'legal'],
  urgency: 'urgent',
  respondBy: instantIn(2 * DAY_MS),
  sharedCategories: ['case-status', 'support-needs'],
  ...overrides,
});
const LAWFUL_JUSTIFICATION =
  'Court order CO-2026-117 requires sharing exploitation records with the foreign NRM.';

describe('the NRM scenario through HTTP (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let police: Principal;
  let ngo: Principal;
  let shelter: Principal;
  let inspectorate: Principal;
  let coordinator: Principal;
  let foreignNrm: Principal;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-harbour');
    police = await ledger.principal('law-enforcement', ['caseworker', 'decision-maker'], 'police-west');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-lighthouse');
    shelter = await ledger.principal('shelter', ['caseworker'], 'shelter-dune');
    inspectorate = await ledger.principal('labour-inspectorate', ['caseworker'], 'labour-inspectorate');
    coordinator = await ledger.principal(
      'national-coordinator',
      ['coordinator', 'registry-admin'],
      'nrm-coordinator',
    );
    foreignNrm = await ledger.principal('foreign-nrm', ['caseworker'], 'nrm-romania');
  });
  afterAll(() => ledger?.close());

  // ---- helpers ------------------------------------------------------------------------------------

  async function streamEvents(stream: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of ledger.store.readStream(stream)) events.push(event);
    return events;
  }

  async function eventTypes(stream: string): Promise<string[]> {
    return (await streamEvents(stream)).map((e) => e.type);
  }

  /** Asserts an answer is a problem+json document with this status, code and field (undefined: none). */
  function expectProblem<T>(answer: Answer<T>, status: number, code: string, field?: string): void {
    const body = answer.body as unknown as Problem;
    expect({ status: answer.status, code: body.code, field: body.field }).toEqual({ status, code, field });
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(body.status).toBe(status);
  }

  /** Runs a request that must be refused, and checks that nothing was stored. */
  async function refused(
    request: () => Promise<Answer>,
    status: number,
    code: string,
    field?: string,
  ): Promise<Answer> {
    const head = await ledger.store.headPosition();
    const answer = await request();
    expectProblem(answer, status, code, field);
    expect(await ledger.recordedAfter(head)).toEqual([]);
    return answer;
  }

  /** Asserts a successful command answer: status, the stream, its revision, one new event. */
  function expectRecorded<T extends Recorded>(
    answer: Answer<T>,
    status: number,
    stream: string,
    revision: number,
  ): T {
    expect({ status: answer.status, stream: answer.body.stream, revision: answer.body.revision }).toEqual({
      status,
      stream,
      revision,
    });
    expect(answer.body.eventIds).toHaveLength(1);
    expect(answer.body.replayed).toBe(false);
    return answer.body;
  }

  /**
   * A case reported and assessed by the clinic and referred to the NGO, which makes the NGO
   * party to it (commands on a case need that); with `grounds`, referred to the police, which decides
   * reasonable grounds.
   */
  async function openCase(
    options: { minor?: boolean; grounds?: 'positive' | 'negative' } = {},
  ): Promise<string> {
    const reported = await clinic.post<Reported>('/cases', { ...REPORT, minor: options.minor ?? false });
    expect(reported.status).toBe(201);
    const { caseId } = reported.body;
    expect((await clinic.post(`/cases/${caseId}/indicator-assessments`, ASSESSMENT)).status).toBe(200);
    await referral(clinic, caseId, 'ngo-lighthouse', { sharedCategories: [] });
    if (options.grounds) {
      // Only a competent authority seized of the case decides: the clinic refers it to the police.
      await referral(clinic, caseId, 'police-west', { purpose: 'protection', sharedCategories: [] });
      const decided = await police.post(`/cases/${caseId}/reasonable-grounds-decision`, {
        outcome: options.grounds,
      });
      expect(decided.status).toBe(200);
    }
    return caseId;
  }

  async function consentOn(caseId: string): Promise<string> {
    const granted = await clinic.post<Consented>(
      `/cases/${caseId}/consents`,
      consentFor(['ngo-lighthouse', 'shelter-dune', 'nrm-romania']),
    );
    expect(granted.status).toBe(201);
    return granted.body.consentId;
  }

  async function referral(
    from: Principal,
    caseId: string,
    to: string,
    overrides: Record<string, unknown> = {},
  ): Promise<string> {
    const made = await from.post<Referred>(`/cases/${caseId}/referrals`, referralTo(to, overrides));
    expect(made.status).toBe(201);
    return made.body.referralId;
  }

  // ---- 1. the demo scenario -----------------------------------------------------------------------

  it('plays the demo scenario step by step, each step by the right principal', async () => {
    const byEventId = new Map<string, Principal>();
    const step = <T extends Recorded>(who: Principal, body: T): T => {
      for (const id of body.eventIds) byEventId.set(id, who);
      return body;
    };

    // The clinic reports and assesses.
    const reported = step(
      clinic,
      expectRecorded(await clinic.post<Reported>('/cases', REPORT), 201, expect.any(String) as never, 0),
    );
    const { caseId, subjectId } = reported;
    expect(caseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(subjectId).toMatch(/^[0-9a-f-]{36}$/);
    expect(subjectId).not.toBe(caseId);
    const identification = `identification-${caseId}`;
    expect(reported.stream).toBe(identification);
    step(
      clinic,
      expectRecorded(
        await clinic.post<Recorded>(`/cases/${caseId}/indicator-assessments`, ASSESSMENT),
        200,
        identification,
        1,
      ),
    );

    // Consent for the NGO, the shelter and the foreign contact point; not the labour inspectorate.
    const granted = step(
      clinic,
      expectRecorded(
        await clinic.post<Consented>(
          `/cases/${caseId}/consents`,
          consentFor(['ngo-lighthouse', 'shelter-dune', 'nrm-romania']),
        ),
        201,
        `consent-${caseId}`,
        0,
      ),
    );
    expect(granted.consentId).toMatch(/^[0-9a-f-]{36}$/);

    // Referrals to the police (nothing shared) and to the NGO.
    const toPolice = step(
      clinic,
      expectRecorded(
        await clinic.post<Referred>(
          `/cases/${caseId}/referrals`,
          referralTo('police-west', { purpose: 'protection', servicesRequested: [], sharedCategories: [] }),
        ),
        201,
        expect.stringMatching(/^referral-/) as never,
        0,
      ),
    );
    const toNgo = step(
      clinic,
      expectRecorded(
        await clinic.post<Referred>(`/cases/${caseId}/referrals`, referralTo('ngo-lighthouse')),
        201,
        expect.stringMatching(/^referral-/) as never,
        0,
      ),
    );
    expect(toPolice).toMatchObject({ caseId, stream: `referral-${toPolice.referralId}` });
    expect(toNgo).toMatchObject({ caseId, stream: `referral-${toNgo.referralId}` });
    expect(toNgo.referralId).not.toBe(toPolice.referralId);

    // The police acknowledges, accepts and decides reasonable grounds: positive.
    const policeStream = `referral-${toPolice.referralId}`;
    step(
      police,
      expectRecorded(
        await police.post<Recorded>(`/referrals/${toPolice.referralId}/acknowledgement`),
        200,
        policeStream,
        1,
      ),
    );
    step(
      police,
      expectRecorded(
        await police.post<Recorded>(`/referrals/${toPolice.referralId}/acceptance`),
        200,
        policeStream,
        2,
      ),
    );
    step(
      police,
      expectRecorded(
        await police.post<Recorded>(`/cases/${caseId}/reasonable-grounds-decision`, { outcome: 'positive' }),
        200,
        identification,
        2,
      ),
    );

    // The NGO acknowledges, accepts and completes the handoff.
    const ngoStream = `referral-${toNgo.referralId}`;
    for (const [path, revision] of [
      ['acknowledgement', 1],
      ['acceptance', 2],
      ['handoff', 3],
    ] as const) {
      step(
        ngo,
        expectRecorded(
          await ngo.post<Recorded>(`/referrals/${toNgo.referralId}/${path}`),
          200,
          ngoStream,
          revision,
        ),
      );
    }

    // The NGO starts a 30-day reflection period today, agrees a plan, records a service.
    const support = `support-${caseId}`;
    step(
      ngo,
      expectRecorded(
        await ngo.post<Recorded>(`/cases/${caseId}/reflection-period`, { startsOn: isoDay(), days: 30 }),
        201,
        support,
        0,
      ),
    );
    const plan = step(
      ngo,
      expectRecorded(
        await ngo.post<Planned>(`/cases/${caseId}/support-plans`, {
          services: ['accommodation', 'psychological', 'legal', 'interpretation'],
          reviewOn: isoDay(21),
        }),
        201,
        support,
        1,
      ),
    );
    expect(plan.planId).toMatch(/^[0-9a-f-]{36}$/);
    step(
      ngo,
      expectRecorded(
        await ngo.post<Recorded>(`/cases/${caseId}/support-services`, {
          serviceType: 'psychological',
          providedOn: isoDay(),
        }),
        201,
        support,
        2,
      ),
    );

    // The NGO refers to the shelter, which acknowledges.
    const toShelter = step(
      ngo,
      expectRecorded(
        await ngo.post<Referred>(
          `/cases/${caseId}/referrals`,
          referralTo('shelter-dune', {
            servicesRequested: ['accommodation'],
            urgency: 'emergency',
            sharedCategories: ['case-status'],
          }),
        ),
        201,
        expect.stringMatching(/^referral-/) as never,
        0,
      ),
    );
    step(
      shelter,
      expectRecorded(
        await shelter.post<Recorded>(`/referrals/${toShelter.referralId}/acknowledgement`),
        200,
        `referral-${toShelter.referralId}`,
        1,
      ),
    );

    // Exploitation details are not covered for the labour inspectorate: refused, nothing stored.
    await refused(
      () =>
        ngo.post(
          `/cases/${caseId}/referrals`,
          referralTo('labour-inspectorate', {
            purpose: 'investigation',
            servicesRequested: [],
            urgency: 'routine',
            sharedCategories: ['exploitation'],
          }),
        ),
      422,
      'REFERRAL.NOT_COVERED',
      'sharedCategories',
    );

    // Abroad: case status by consent travels.
    const toForeign = step(
      ngo,
      expectRecorded(
        await ngo.post<Referred>(
          `/cases/${caseId}/referrals`,
          referralTo('nrm-romania', {
            purpose: 'referral',
            servicesRequested: ['return-assistance'],
            urgency: 'routine',
            sharedCategories: ['case-status'],
          }),
        ),
        201,
        expect.stringMatching(/^referral-/) as never,
        0,
      ),
    );

    // A domestic lawful basis cannot send a special category abroad: refused, nothing recorded.
    await refused(
      () =>
        ngo.post(`/cases/${caseId}/lawful-bases`, {
          agencyIds: ['nrm-romania'],
          categories: ['exploitation'],
          purposes: ['referral'],
          basis: 'court-order',
          justification: LAWFUL_JUSTIFICATION,
        }),
      422,
      'CONSENT.FOREIGN_LAWFUL_BASIS',
      'agencyIds[0]',
    );
    // So exploitation details cannot travel with the referral either.
    await refused(
      () =>
        ngo.post(
          `/cases/${caseId}/referrals`,
          referralTo('nrm-romania', {
            purpose: 'referral',
            servicesRequested: ['return-assistance'],
            urgency: 'routine',
            sharedCategories: ['case-status', 'exploitation'],
          }),
        ),
      422,
      'REFERRAL.NOT_COVERED',
      'sharedCategories',
    );

    // What was stored, stream by stream.
    const expected: Record<string, string[]> = {
      [identification]: ['PotentialVictimReported', 'IndicatorsAssessed', 'ReasonableGroundsDecided'],
      [`consent-${caseId}`]: ['ConsentGranted'],
      [policeStream]: ['ReferralMade', 'ReferralAcknowledged', 'ReferralAccepted'],
      [ngoStream]: ['ReferralMade', 'ReferralAcknowledged', 'ReferralAccepted', 'HandoffCompleted'],
      [support]: ['ReflectionPeriodStarted', 'SupportPlanAgreed', 'SupportServiceProvided'],
      [`referral-${toShelter.referralId}`]: ['ReferralMade', 'ReferralAcknowledged'],
      [`referral-${toForeign.referralId}`]: ['ReferralMade'],
    };
    const stored: Record<string, RecordedEvent[]> = {};
    for (const stream of Object.keys(expected)) stored[stream] = await streamEvents(stream);
    expect(Object.fromEntries(Object.entries(stored).map(([s, es]) => [s, es.map((e) => e.type)]))).toEqual(
      expected,
    );

    // Every event answered by the API is stored under its id, carrying who did it.
    const all = Object.values(stored).flat();
    expect(all.map((e) => e.id).sort()).toEqual([...byEventId.keys()].sort());
    for (const event of all) {
      const who = byEventId.get(event.id)!;
      expect({
        type: event.type,
        principalId: event.metadata.principalId,
        agencyId: event.metadata.agencyId,
      }).toEqual({ type: event.type, principalId: who.principalId, agencyId: who.agencyId });
      expect(event.revision).toBe(stored[event.stream]!.indexOf(event));
    }

    // Nothing else about this case was stored anywhere: the refusals left only their audit.
    const aboutCase: RecordedEvent[] = [];
    for await (const event of ledger.store.readAll()) if (event.data.caseId === caseId) aboutCase.push(event);
    expect(aboutCase.filter((e) => e.type !== 'AccessDenied')).toHaveLength(all.length);

    // A few facts the receivers rely on.
    const [policeMade] = stored[policeStream]!;
    expect(policeMade!.data).toMatchObject({
      fromAgencyId: 'clinic-harbour',
      toAgencyId: 'police-west',
      toAgencyKind: 'law-enforcement',
      sharedCategories: [],
      transnational: false,
    });
    expect(stored[`referral-${toForeign.referralId}`]![0]!.data).toMatchObject({
      fromAgencyId: 'ngo-lighthouse',
      toAgencyId: 'nrm-romania',
      toAgencyKind: 'foreign-nrm',
      transnational: true,
      sharedCategories: ['case-status'],
    });
    expect(stored[support]![0]!.data).toMatchObject({ startsOn: isoDay(), endsOn: isoDay(30), days: 30 });
    expect(stored[identification]![0]!.data).toMatchObject({ caseId, subjectId, minor: false });
  });

  // ---- 2. every rule's refusal --------------------------------------------------------------------

  describe('refusals: status, code, field, and nothing stored', () => {
    it('refuses a reflection period shorter than 30 days, or without positive reasonable grounds', async () => {
      const entitled = await openCase({ grounds: 'positive' });
      await refused(
        () => ngo.post(`/cases/${entitled}/reflection-period`, { startsOn: isoDay(), days: 29 }),
        422,
        'SUPPORT.REFLECTION_TOO_SHORT',
        'days',
      );

      const assessedOnly = await openCase();
      await refused(
        () => ngo.post(`/cases/${assessedOnly}/reflection-period`, { startsOn: isoDay(), days: 30 }),
        422,
        'SUPPORT.NO_REFLECTION_ENTITLEMENT',
        'reasonableGroundsPositive',
      );
      const negative = await openCase({ grounds: 'negative' });
      await refused(
        () => ngo.post(`/cases/${negative}/reflection-period`, { startsOn: isoDay(), days: 45 }),
        422,
        'SUPPORT.NO_REFLECTION_ENTITLEMENT',
        'reasonableGroundsPositive',
      );

      // The same request with the legal minimum is recorded on the entitled case.
      const started = await ngo.post(`/cases/${entitled}/reflection-period`, {
        startsOn: isoDay(),
        days: 30,
      });
      expect(started.status).toBe(201);
      expect(await eventTypes(`support-${assessedOnly}`)).toEqual([]);
      expect(await eventTypes(`support-${negative}`)).toEqual([]);
    });

    it("refuses a minor's consent without a guardian, and a verbal consent without a witness", async () => {
      const minorCase = await openCase({ minor: true });
      await refused(
        () => clinic.post(`/cases/${minorCase}/consents`, consentFor(['ngo-lighthouse'])),
        422,
        'CONSENT.MINOR_NEEDS_GUARDIAN',
        'capture.guardianReference',
      );
      await refused(
        () =>
          clinic.post(
            `/cases/${minorCase}/consents`,
            consentFor(['ngo-lighthouse'], {
              capture: { method: 'guardian', language: 'ro', interpreterUsed: false },
            }),
          ),
        422,
        'CONSENT.MINOR_NEEDS_GUARDIAN',
        'capture.guardianReference',
      );
      const byGuardian = await clinic.post(
        `/cases/${minorCase}/consents`,
        consentFor(['ngo-lighthouse'], {
          capture: {
            method: 'guardian',
            language: 'ro',
            interpreterUsed: false,
            guardianReference: 'GRD-0042',
          },
        }),
      );
      expect(byGuardian.status).toBe(201);

      const adultCase = await openCase();
      await refused(
        () =>
          clinic.post(
            `/cases/${adultCase}/consents`,
            consentFor(['ngo-lighthouse'], {
              capture: { method: 'verbal-with-witness', language: 'vi', interpreterUsed: true },
            }),
          ),
        422,
        'CONSENT.WITNESS_REQUIRED',
        'capture.witnessPrincipalId',
      );
      const witnessed = await clinic.post(
        `/cases/${adultCase}/consents`,
        consentFor(['ngo-lighthouse'], {
          capture: {
            method: 'verbal-with-witness',
            language: 'vi',
            interpreterUsed: true,
            // A principal registered for the recording agency (here the recorder itself).
            witnessPrincipalId: clinic.principalId,
          },
        }),
      );
      expect(witnessed.status).toBe(201);
      expect(await eventTypes(`consent-${minorCase}`)).toEqual(['ConsentGranted']);
      expect(await eventTypes(`consent-${adultCase}`)).toEqual(['ConsentGranted']);
    });

    it('refuses a lawful basis with a too-short justification and expiries in the past', async () => {
      const caseId = await openCase();
      const basis = {
        agencyIds: ['shelter-dune'],
        categories: ['health'],
        purposes: ['assistance'],
        basis: 'vital-interests',
        justification: LAWFUL_JUSTIFICATION,
      };
      await refused(
        () => ngo.post(`/cases/${caseId}/lawful-bases`, { ...basis, justification: 'court said so' }),
        422,
        'CONSENT.JUSTIFICATION_REQUIRED',
        'justification',
      );
      // Padding does not count towards the 20 characters.
      await refused(
        () =>
          ngo.post(`/cases/${caseId}/lawful-bases`, { ...basis, justification: `   ${'x'.repeat(19)}    ` }),
        422,
        'CONSENT.JUSTIFICATION_REQUIRED',
        'justification',
      );
      await refused(
        () => ngo.post(`/cases/${caseId}/lawful-bases`, { ...basis, expiresAt: instantIn(-60_000) }),
        422,
        'CONSENT.EXPIRY_IN_PAST',
        'expiresAt',
      );
      await refused(
        () =>
          clinic.post(
            `/cases/${caseId}/consents`,
            consentFor(['ngo-lighthouse'], { expiresAt: instantIn(-DAY_MS) }),
          ),
        422,
        'CONSENT.EXPIRY_IN_PAST',
        'expiresAt',
      );
      expect(await eventTypes(`consent-${caseId}`)).toEqual([]);
      expect((await ngo.post(`/cases/${caseId}/lawful-bases`, basis)).status).toBe(201);
    });

    it('refuses a self-referral and a respond-by in the past', async () => {
      const caseId = await openCase();
      await consentOn(caseId);
      await refused(
        () => ngo.post(`/cases/${caseId}/referrals`, referralTo('ngo-lighthouse')),
        422,
        'REFERRAL.SELF_REFERRAL',
        'toAgencyId',
      );
      await refused(
        () =>
          clinic.post(
            `/cases/${caseId}/referrals`,
            referralTo('ngo-lighthouse', { respondBy: instantIn(-60_000) }),
          ),
        422,
        'REFERRAL.RESPOND_BY_IN_PAST',
        'respondBy',
      );
    });

    it('lets only the receiver answer, in order: acknowledge, then accept or decline', async () => {
      const caseId = await openCase();
      await consentOn(caseId);
      const referralId = await referral(clinic, caseId, 'ngo-lighthouse');
      const stream = `referral-${referralId}`;

      // The sender is told why; agencies with no part in the referral learn nothing of it.
      await refused(
        () => clinic.post(`/referrals/${referralId}/acknowledgement`),
        403,
        'REFERRAL.NOT_ADDRESSED_TO_YOU',
      );
      for (const other of [shelter, inspectorate]) {
        await refused(
          () => other.post(`/referrals/${referralId}/acknowledgement`),
          404,
          'REFERRAL.NOT_FOUND',
          'referralId',
        );
      }
      await refused(() => ngo.post(`/referrals/${referralId}/acceptance`), 409, 'REFERRAL.NOT_ACKNOWLEDGED');
      await refused(
        () => ngo.post(`/referrals/${referralId}/decline`, { reason: 'no-capacity' }),
        409,
        'REFERRAL.NOT_ACKNOWLEDGED',
      );
      await refused(() => ngo.post(`/referrals/${referralId}/handoff`), 409, 'REFERRAL.WRONG_STATE');
      expect(await eventTypes(stream)).toEqual(['ReferralMade']);

      expect((await ngo.post(`/referrals/${referralId}/acknowledgement`)).status).toBe(200);
      await refused(() => ngo.post(`/referrals/${referralId}/acknowledgement`), 409, 'REFERRAL.WRONG_STATE');
      // A decline needs a reason: the DTO refuses the request before the domain sees it.
      await refused(() => ngo.post(`/referrals/${referralId}/decline`, {}), 400, 'REQUEST.INVALID', 'reason');
      await refused(
        () => ngo.post(`/referrals/${referralId}/decline`, { reason: 'not-in-the-mood' }),
        400,
        'REQUEST.INVALID',
        'reason',
      );
      await refused(
        () => shelter.post(`/referrals/${referralId}/decline`, { reason: 'no-capacity' }),
        404,
        'REFERRAL.NOT_FOUND',
        'referralId',
      );
      const declined = await ngo.post<Recorded>(`/referrals/${referralId}/decline`, {
        reason: 'no-capacity',
      });
      expectRecorded(declined, 200, stream, 2);
      const events = await streamEvents(stream);
      expect(events.map((e) => e.type)).toEqual(['ReferralMade', 'ReferralAcknowledged', 'ReferralDeclined']);
      expect(events[2]!.data).toMatchObject({ reason: 'no-capacity', byAgencyId: 'ngo-lighthouse' });
      await refused(() => ngo.post(`/referrals/${referralId}/acceptance`), 409, 'REFERRAL.WRONG_STATE');
    });

    it('lets only the accepting agency complete the handoff, and only the sender withdraw', async () => {
      const caseId = await openCase();
      await consentOn(caseId);
      const referralId = await referral(clinic, caseId, 'ngo-lighthouse');
      const stream = `referral-${referralId}`;

      await refused(
        () => ngo.post(`/referrals/${referralId}/withdrawal`, { reason: 'sent-in-error' }),
        403,
        'REFERRAL.NOT_YOUR_REFERRAL',
      );
      await refused(
        () => shelter.post(`/referrals/${referralId}/withdrawal`, { reason: 'sent-in-error' }),
        404,
        'REFERRAL.NOT_FOUND',
        'referralId',
      );
      expect((await ngo.post(`/referrals/${referralId}/acknowledgement`)).status).toBe(200);
      expect((await ngo.post(`/referrals/${referralId}/acceptance`)).status).toBe(200);
      await refused(
        () => clinic.post(`/referrals/${referralId}/handoff`),
        403,
        'REFERRAL.NOT_ACCEPTED_BY_YOU',
      );
      for (const other of [shelter, police, foreignNrm]) {
        await refused(
          () => other.post(`/referrals/${referralId}/handoff`),
          404,
          'REFERRAL.NOT_FOUND',
          'referralId',
        );
      }
      expect(await eventTypes(stream)).toEqual(['ReferralMade', 'ReferralAcknowledged', 'ReferralAccepted']);

      // The sender may withdraw its own open referral; then nothing more can happen to it.
      const withdrawn = await clinic.post<Recorded>(`/referrals/${referralId}/withdrawal`, {
        reason: 'person-declined',
      });
      expectRecorded(withdrawn, 200, stream, 3);
      await refused(() => ngo.post(`/referrals/${referralId}/handoff`), 409, 'REFERRAL.WRONG_STATE');
      await refused(
        () => clinic.post(`/referrals/${referralId}/withdrawal`, { reason: 'other' }),
        409,
        'REFERRAL.WRONG_STATE',
      );
    });

    it('lets only the national coordinator escalate, and only once the respond-by time has passed', async () => {
      const caseId = await openCase();
      await consentOn(caseId);
      const notDue = await referral(clinic, caseId, 'shelter-dune');
      for (const other of [clinic, shelter]) {
        await refused(() => other.post(`/referrals/${notDue}/escalation`), 403, 'REFERRAL.COORDINATOR_ONLY');
      }
      await refused(
        () => police.post(`/referrals/${notDue}/escalation`),
        404,
        'REFERRAL.NOT_FOUND',
        'referralId',
      );
      await refused(() => coordinator.post(`/referrals/${notDue}/escalation`), 422, 'REFERRAL.NOT_OVERDUE');

      // Once overdue and unanswered, the coordinator escalates (once).
      const soonDue = await referral(clinic, caseId, 'shelter-dune', { respondBy: instantIn(800) });
      await sleep(1_000);
      await refused(() => clinic.post(`/referrals/${soonDue}/escalation`), 403, 'REFERRAL.COORDINATOR_ONLY');
      const escalated = await coordinator.post<Recorded>(`/referrals/${soonDue}/escalation`);
      expectRecorded(escalated, 200, `referral-${soonDue}`, 1);
      await refused(
        () => coordinator.post(`/referrals/${soonDue}/escalation`),
        409,
        'REFERRAL.ALREADY_ESCALATED',
      );
      const events = await streamEvents(`referral-${soonDue}`);
      expect(events.map((e) => e.type)).toEqual(['ReferralMade', 'ReferralEscalated']);
      expect(events[1]!.metadata).toMatchObject({
        principalId: coordinator.principalId,
        agencyId: 'nrm-coordinator',
      });
      expect(await eventTypes(`referral-${notDue}`)).toEqual(['ReferralMade']);
    });

    it('refuses referrals, consents and lawful bases naming an unknown agency (AGENCY.UNKNOWN)', async () => {
      const caseId = await openCase();
      await refused(
        () => clinic.post(`/cases/${caseId}/consents`, consentFor(['ngo-lighthouse', 'ngo-nowhere'])),
        422,
        'AGENCY.UNKNOWN',
        'agencyIds[1]',
      );
      await refused(
        () =>
          ngo.post(`/cases/${caseId}/lawful-bases`, {
            agencyIds: ['ngo-nowhere'],
            categories: ['health'],
            purposes: ['assistance'],
            basis: 'vital-interests',
            justification: LAWFUL_JUSTIFICATION,
          }),
        422,
        'AGENCY.UNKNOWN',
        'agencyIds[0]',
      );
      await refused(
        () => clinic.post(`/cases/${caseId}/referrals`, referralTo('ngo-nowhere', { sharedCategories: [] })),
        422,
        'AGENCY.UNKNOWN',
        'toAgencyId',
      );
    });

    it('answers 404 for commands on a case or referral that does not exist', async () => {
      const c = `/cases/${UNKNOWN_ID}`;
      const onUnknownCase: Array<[Principal, string, unknown]> = [
        [clinic, `${c}/indicator-assessments`, ASSESSMENT],
        [police, `${c}/reasonable-grounds-decision`, { outcome: 'positive' }],
        [police, `${c}/conclusive-grounds-decision`, { outcome: 'positive' }],
        [police, `${c}/reconsiderations`, { reason: 'new-evidence' }],
        [clinic, `${c}/consents`, consentFor(['ngo-lighthouse'])],
        [clinic, `${c}/consents/${UNKNOWN_ID}/withdrawal`, {}],
        [clinic, `${c}/consent-refusals`, {}],
        [
          ngo,
          `${c}/lawful-bases`,
          {
            agencyIds: ['ngo-lighthouse'],
            categories: ['health'],
            purposes: ['assistance'],
            basis: 'vital-interests',
            justification: LAWFUL_JUSTIFICATION,
          },
        ],
        [clinic, `${c}/referrals`, referralTo('ngo-lighthouse', { sharedCategories: [] })],
        [ngo, `${c}/reflection-period`, { startsOn: isoDay(), days: 30 }],
        [ngo, `${c}/reflection-period/extension`, { additionalDays: 10 }],
        [ngo, `${c}/reflection-period/end`, { reason: 'person-decision' }],
        [ngo, `${c}/support-plans`, { services: ['legal'], reviewOn: isoDay(7) }],
        [ngo, `${c}/support-services`, { serviceType: 'legal', providedOn: isoDay() }],
        [ngo, `${c}/closure`, { outcome: 'integrated' }],
      ];
      for (const [who, path, body] of onUnknownCase) {
        const head = await ledger.store.headPosition();
        const answer = await who.post(path, body);
        const problem = answer.body as unknown as Problem;
        expect({ path, status: answer.status, code: problem.code, field: problem.field }).toEqual({
          path,
          status: 404,
          code: 'CASE.NOT_FOUND',
          field: 'caseId',
        });
        expect(await ledger.recordedAfter(head)).toEqual([]);
      }
      for (const action of ['acknowledgement', 'acceptance', 'handoff', 'escalation']) {
        const who = action === 'escalation' ? coordinator : ngo;
        await refused(
          () => who.post(`/referrals/${UNKNOWN_ID}/${action}`),
          404,
          'REFERRAL.NOT_FOUND',
          'referralId',
        );
      }
      await refused(
        () => ngo.post(`/referrals/${UNKNOWN_ID}/decline`, { reason: 'no-capacity' }),
        404,
        'REFERRAL.NOT_FOUND',
        'referralId',
      );
      await refused(
        () => clinic.post(`/referrals/${UNKNOWN_ID}/withdrawal`, { reason: 'other' }),
        404,
        'REFERRAL.NOT_FOUND',
        'referralId',
      );
      // Nothing was stored under the unknown ids, not even empty streams' first events.
      for (const stream of ['identification', 'consent', 'support', 'referral'])
        expect(await eventTypes(`${stream}-${UNKNOWN_ID}`)).toEqual([]);
    });

    it('refuses to close support while the reflection period runs', async () => {
      const caseId = await openCase({ grounds: 'positive' });
      expect(
        (await ngo.post(`/cases/${caseId}/reflection-period`, { startsOn: isoDay(), days: 30 })).status,
      ).toBe(201);
      await refused(
        () => ngo.post(`/cases/${caseId}/closure`, { outcome: 'integrated' }),
        409,
        'SUPPORT.REFLECTION_ACTIVE',
      );
      // The authorities cannot end it early either; the person can, and then the case closes.
      await refused(
        () => ngo.post(`/cases/${caseId}/reflection-period/end`, { reason: 'elapsed' }),
        422,
        'SUPPORT.REFLECTION_NOT_ELAPSED',
        'reason',
      );
      expect(
        (await ngo.post(`/cases/${caseId}/reflection-period/end`, { reason: 'person-decision' })).status,
      ).toBe(200);
      expect((await ngo.post(`/cases/${caseId}/closure`, { outcome: 'integrated' })).status).toBe(200);
      expect(await eventTypes(`support-${caseId}`)).toEqual([
        'ReflectionPeriodStarted',
        'ReflectionPeriodEnded',
        'SupportCaseClosed',
      ]);
    });
  });

  // ---- 3. idempotent retries ----------------------------------------------------------------------

  describe('idempotent retries with an Idempotency-Key', () => {
    /** Sends the request twice with one key, then the key with another body. */
    async function retried<T extends Recorded>(
      who: Principal,
      path: string,
      body: Record<string, unknown>,
      otherBody: Record<string, unknown>,
      idKey: keyof T,
    ): Promise<T> {
      const key = `retry-${path.split('/').pop()}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
      const headers = { 'idempotency-key': key };
      const first = await who.post<T>(path, body, headers);
      expect(first.status).toBe(201);
      expect(first.body.replayed).toBe(false);
      expect(first.body[idKey]).toEqual(expect.any(String));
      const head = await ledger.store.headPosition();
      expect(first.body.position).toBe(head);

      const second = await who.post<T>(path, body, headers);
      expect(second.status).toBe(first.status);
      expect(second.body).toEqual({ ...first.body, replayed: true });
      expect(await ledger.recordedAfter(head)).toEqual([]);

      await refused(
        () => who.post(path, otherBody, headers),
        422,
        'IDEMPOTENCY.KEY_REUSED',
        'Idempotency-Key',
      );
      // The first result still stands after the refused reuse.
      const third = await who.post<T>(path, body, headers);
      expect(third.body).toEqual({ ...first.body, replayed: true });
      expect(await ledger.recordedAfter(head)).toEqual([]);
      return first.body;
    }

    it('replays a report, and refuses the key for a different report', async () => {
      const first = await retried<Reported>(
        clinic,
        '/cases',
        REPORT,
        { ...REPORT, region: 'NL-NH' },
        'caseId',
      );
      expect(await eventTypes(`identification-${first.caseId}`)).toEqual(['PotentialVictimReported']);
    });

    it('scopes a key to its principal: another principal with the same key opens its own case', async () => {
      const key = `shared-key-${Date.now()}`;
      const byClinic = await clinic.post<Reported>('/cases', REPORT, { 'idempotency-key': key });
      const byNgo = await ngo.post<Reported>('/cases', REPORT, { 'idempotency-key': key });
      expect([byClinic.status, byNgo.status]).toEqual([201, 201]);
      expect(byNgo.body.replayed).toBe(false);
      expect(byNgo.body.caseId).not.toBe(byClinic.body.caseId);
    });

    it('replays a consent grant, and refuses the key for a different grant', async () => {
      const caseId = await openCase();
      const body = consentFor(['ngo-lighthouse', 'shelter-dune']);
      const first = await retried<Consented>(
        clinic,
        `/cases/${caseId}/consents`,
        body,
        { ...body, categories: ['identity'] },
        'consentId',
      );
      const events = await streamEvents(`consent-${caseId}`);
      expect(events.map((e) => [e.type, e.id])).toEqual([['ConsentGranted', first.eventIds[0]]]);
      expect(events[0]!.data).toMatchObject({ consentId: first.consentId, categories: body.categories });
    });

    it('replays a referral, and refuses the key for a different referral', async () => {
      const caseId = await openCase();
      await consentOn(caseId);
      const body = referralTo('shelter-dune', { sharedCategories: ['case-status'] });
      const first = await retried<Referred>(
        clinic,
        `/cases/${caseId}/referrals`,
        body,
        { ...body, urgency: 'routine' },
        'referralId',
      );
      const events = await streamEvents(`referral-${first.referralId}`);
      expect(events.map((e) => [e.type, e.id])).toEqual([['ReferralMade', first.eventIds[0]]]);
      expect(events[0]!.data).toMatchObject({ urgency: 'urgent', toAgencyId: 'shelter-dune' });
    });
  });

  // ---- 4. concurrent commands ---------------------------------------------------------------------

  describe('concurrent commands', () => {
    it('lets exactly one of 10 parallel acknowledgements through; the others get 409 problem+json', async () => {
      const caseId = await openCase();
      await consentOn(caseId);
      const referralId = await referral(clinic, caseId, 'ngo-lighthouse');
      const head = await ledger.store.headPosition();

      const answers = await Promise.all(
        Array.from({ length: 10 }, () => ngo.post(`/referrals/${referralId}/acknowledgement`)),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, ...Array<number>(9).fill(409)]);
      for (const loser of answers.filter((a) => a.status === 409)) {
        expect(loser.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect((loser.body as unknown as Problem).code).toMatch(
          /^(REFERRAL\.WRONG_STATE|COMMAND\.CONFLICT)$/,
        );
      }
      const winner = answers.find((a) => a.status === 200)!.body as unknown as Recorded;
      const events = await streamEvents(`referral-${referralId}`);
      expect(events.map((e) => e.type)).toEqual(['ReferralMade', 'ReferralAcknowledged']);
      expect(events[1]!.id).toBe(winner.eventIds[0]);
      expect(await ledger.recordedAfter(head)).toEqual([`ReferralAcknowledged referral-${referralId}`]);
    });

    /** 20 parallel, non-conflicting support services on one case's support stream. */
    async function twentyServices(caseId: string): Promise<Array<Answer<Recorded>>> {
      const types = ['medical', 'psychological', 'legal', 'interpretation', 'language-training'];
      return Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          ngo.post<Recorded>(`/cases/${caseId}/support-services`, {
            serviceType: types[i % types.length],
            providedOn: isoDay(-(i % 3)),
          }),
        ),
      );
    }

    /** Every answered event is stored at the answered revision; revisions are 0..n-1 without gaps. */
    async function expectGapFree(caseId: string, recorded: ReadonlyArray<Answer<Recorded>>): Promise<void> {
      const events = await streamEvents(`support-${caseId}`);
      expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
      expect(new Set(events.map((e) => e.type))).toEqual(new Set(['SupportServiceProvided']));
      expect(events.map((e) => e.id).sort()).toEqual(recorded.map((a) => a.body.eventIds[0]).sort());
      for (const answer of recorded) {
        const stored = events.find((e) => e.id === answer.body.eventIds[0])!;
        expect(stored.revision).toBe(answer.body.revision);
        expect(stored.metadata).toMatchObject({ principalId: ngo.principalId, agencyId: 'ngo-lighthouse' });
      }
    }

    it('loses, duplicates and skips nothing under 20 parallel appends to one stream', async () => {
      const caseId = await openCase();
      const head = await ledger.store.headPosition();
      const answers = await twentyServices(caseId);
      const recorded = answers.filter((a) => a.status === 201);
      const refusedOnes = answers.filter((a) => a.status !== 201);
      // Whatever did not get through was refused as a retryable conflict, storing nothing.
      for (const answer of refusedOnes) {
        expectProblem(answer, 409, 'COMMAND.CONFLICT');
        expect(answer.headers.get('retry-after')).toBe('1');
      }
      await expectGapFree(caseId, recorded);
      expect(await ledger.recordedAfter(head)).toHaveLength(recorded.length);

      // A client that retries the refused ones gets them recorded, still without gaps.
      for (const _ of refusedOnes) {
        const again = await ngo.post<Recorded>(`/cases/${caseId}/support-services`, {
          serviceType: 'legal',
          providedOn: isoDay(),
        });
        expect(again.status).toBe(201);
        recorded.push(again);
      }
      expect(recorded).toHaveLength(20);
      await expectGapFree(caseId, recorded);
    });

    // Commands on one stream are queued per process and retried with back-off across
    // processes; 30 bursts make a rare lost race show up.
    it('records every one of 20 parallel support services, burst after burst: all 201', async () => {
      for (let burst = 0; burst < 30; burst++) {
        const caseId = await openCase();
        const answers = await twentyServices(caseId);
        // A loser of a race is retried by the executor; it must not surface as an error.
        const outcomes = answers.map((a) =>
          a.status === 201 ? 201 : `${a.status} ${(a.body as unknown as Problem).code}`,
        );
        expect({ burst, outcomes }).toEqual({ burst, outcomes: Array<number>(20).fill(201) });
        expect(answers.map((a) => a.body.revision).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 20 }, (_, i) => i),
        );
        await expectGapFree(caseId, answers);
      }
    });
  });

  // ---- 5. malformed input -------------------------------------------------------------------------

  describe('malformed input: 4xx problem+json naming the field, never 5xx, nothing stored', () => {
    interface Raw {
      status: number;
      contentType: string | null;
      body: Problem | undefined;
    }

    async function send(
      who: Principal,
      path: string,
      body: string,
      headers: Record<string, string> = { 'content-type': 'application/json' },
    ): Promise<Raw> {
      const response = await fetch(`${ledger.base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${who.apiKey}`, ...headers },
        body,
      });
      const text = await response.text();
      let parsed: Problem | undefined;
      try {
        parsed = JSON.parse(text) as Problem;
      } catch {
        parsed = undefined;
      }
      return { status: response.status, contentType: response.headers.get('content-type'), body: parsed };
    }

    let caseId: string;
    let referralId: string;
    let consentId: string;

    beforeAll(async () => {
      caseId = await openCase({ grounds: 'positive' });
      consentId = await consentOn(caseId);
      referralId = await referral(clinic, caseId, 'ngo-lighthouse');
    });

    /**
     * [who, path, body, field the problem must name, status]. The status is 400 (the DTO refuses)
     * unless the shape passes and the domain refuses it (422); either must name the field.
     */
    type BadInput = [Principal, string, unknown, unknown, unknown?];

    async function expectAllRefused(cases: readonly BadInput[]): Promise<void> {
      const head = await ledger.store.headPosition();
      const seen = [];
      const wanted = [];
      for (const [i, [who, path, body, field, status = 400]] of cases.entries()) {
        const answer = await send(who, path, JSON.stringify(body));
        seen.push({ i, path, status: answer.status, field: answer.body?.field, type: answer.contentType });
        wanted.push({ i, path, status, field, type: PROBLEM_JSON });
      }
      expect(seen).toEqual(wanted);
      expect(await ledger.recordedAfter(head)).toEqual([]);
    }

    it('identification: wrong types, missing and unknown fields, malformed ids', async () => {
      const { region: _region, ...withoutRegion } = REPORT;
      await expectAllRefused([
        [clinic, '/cases', { ...REPORT, minor: 'no' }, 'minor'],
        [clinic, '/cases', { ...REPORT, minor: 0 }, 'minor'],
        [clinic, '/cases', withoutRegion, 'region'],
        [clinic, '/cases', { ...REPORT, region: 42 }, 'region'],
        [clinic, '/cases', { ...REPORT, exploitationForms: 'labour' }, 'exploitationForms'],
        [clinic, '/cases', { ...REPORT, indicators: [7] }, 'indicators'],
        [clinic, '/cases', { ...REPORT, subjectCode: 'S-1' }, 'subjectCode'],
        [clinic, '/cases', [REPORT], 'body'],
        [clinic, `/cases/${caseId}/indicator-assessments`, { ...ASSESSMENT, outcome: 'maybe' }, 'outcome'],
        [
          clinic,
          `/cases/${caseId}/indicator-assessments`,
          { outcome: 'indicators-present' },
          'indicatorsConfirmed',
        ],
        [police, `/cases/${caseId}/conclusive-grounds-decision`, { outcome: true }, 'outcome'],
        [police, `/cases/${caseId}/conclusive-grounds-decision`, {}, 'outcome'],
        [police, `/cases/${caseId}/reconsiderations`, { reason: 'whim' }, 'reason'],
        [clinic, '/cases/not*an*id/indicator-assessments', ASSESSMENT, 'caseId'],
        [clinic, `/cases/${'a'.repeat(81)}/indicator-assessments`, ASSESSMENT, 'caseId'],
        [police, '/cases/-leading-dash/reasonable-grounds-decision', { outcome: 'positive' }, 'caseId'],
      ]);
    });

    it('consent: dates in the wrong format, nested capture problems, unknown values', async () => {
      const grant = consentFor(['ngo-lighthouse']);
      const path = `/cases/${caseId}/consents`;
      const { capture: _capture, ...withoutCapture } = grant;
      const basis = {
        agencyIds: ['ngo-lighthouse'],
        categories: ['health'],
        purposes: ['assistance'],
        basis: 'vital-interests',
        justification: LAWFUL_JUSTIFICATION,
      };
      await expectAllRefused([
        [clinic, path, { ...grant, expiresAt: '30/06/2027' }, 'expiresAt'],
        [clinic, path, { ...grant, expiresAt: '2027-06-30 00:00:00Z' }, 'expiresAt'],
        [clinic, path, { ...grant, expiresAt: 1_800_000_000_000 }, 'expiresAt'],
        [clinic, path, withoutCapture, 'capture'],
        [clinic, path, { ...grant, capture: 'written' }, 'capture'],
        [clinic, path, { ...grant, expiresAt: '2027-06-30' }, 'expiresAt'],
        [clinic, path, { ...grant, capture: { ...grant.capture, language: 'Romanian' } }, 'capture.language'],
        [
          clinic,
          path,
          { ...grant, capture: { ...grant.capture, interpreterUsed: 'yes' } },
          'capture.interpreterUsed',
        ],
        [clinic, path, { ...grant, capture: { ...grant.capture, method: 'telepathy' } }, 'capture.method'],
        [
          clinic,
          path,
          { ...grant, capture: { ...grant.capture, guardianName: 'X' } },
          'capture.guardianName',
        ],
        [clinic, path, { ...grant, agencyIds: 'ngo-lighthouse' }, 'agencyIds'],
        [clinic, path, { ...grant, agencyIds: [] }, 'agencyIds'],
        [clinic, path, { ...grant, categories: ['everything'] }, 'categories'],
        [clinic, path, { ...grant, purposes: ['marketing'] }, 'purposes'],
        [clinic, path, { ...grant, note: 'free text' }, 'note'],
        [clinic, `/cases/${caseId}/consents/${consentId}/withdrawal`, { categories: [] }, 'categories'],
        [clinic, `/cases/${caseId}/consents/bad*id/withdrawal`, {}, 'consentId'],
        [clinic, `/cases/${caseId}/consent-refusals`, { purposes: 'assistance' }, 'purposes'],
        [ngo, `/cases/${caseId}/lawful-bases`, { ...basis, basis: 'because' }, 'basis'],
        [ngo, `/cases/${caseId}/lawful-bases`, { ...basis, justification: 12345 }, 'justification'],
        [ngo, `/cases/${caseId}/lawful-bases`, { ...basis, expiresAt: 'next year' }, 'expiresAt'],
      ]);
    });

    it('referral: wrong types, dates in the wrong format, malformed referral ids', async () => {
      const path = `/cases/${caseId}/referrals`;
      const body = referralTo('shelter-dune', { sharedCategories: ['case-status'] });
      const { toAgencyId: _to, ...withoutReceiver } = body;
      await expectAllRefused([
        [clinic, path, withoutReceiver, 'toAgencyId'],
        [clinic, path, { ...body, toAgencyId: 'shelter dune!' }, 'toAgencyId'],
        [clinic, path, { ...body, respondBy: '02/12/2027 17:00' }, 'respondBy'],
        [clinic, path, { ...body, respondBy: '2027-12-02 17:00:00Z' }, 'respondBy'],
        [clinic, path, { ...body, respondBy: '2027-12-02' }, 'respondBy'],
        [clinic, path, { ...body, respondBy: '2027-02-30T12:00:00Z' }, 'respondBy', oneOf(400, 422)],
        [clinic, path, { ...body, urgency: 'asap' }, 'urgency'],
        [clinic, path, { ...body, urgency: 1 }, 'urgency'],
        [clinic, path, { ...body, purpose: ['assistance'] }, 'purpose'],
        [clinic, path, { ...body, servicesRequested: 'accommodation' }, 'servicesRequested'],
        [clinic, path, { ...body, sharedCategories: ['everything'] }, 'sharedCategories'],
        [clinic, path, { ...body, sharedCategories: ['case-status', 'case-status'] }, 'sharedCategories'],
        [clinic, path, { ...body, priority: 'high' }, 'priority'],
        [ngo, '/referrals/bad*id/acknowledgement', {}, 'referralId'],
        [ngo, `/referrals/${'r'.repeat(81)}/acceptance`, {}, 'referralId'],
        [ngo, `/referrals/${referralId}/decline`, { reason: 42 }, 'reason'],
        [clinic, `/referrals/${referralId}/withdrawal`, {}, 'reason'],
        [clinic, `/referrals/${referralId}/withdrawal`, { reason: 'other', extra: true }, 'extra'],
      ]);
    });

    it('support: dates in the wrong format, non-integers, unknown values', async () => {
      const c = `/cases/${caseId}`;
      await expectAllRefused([
        [ngo, `${c}/reflection-period`, { startsOn: '30-11-2026', days: 30 }, 'startsOn'],
        [ngo, `${c}/reflection-period`, { startsOn: `${isoDay()}T00:00:00Z`, days: 30 }, 'startsOn'],
        [ngo, `${c}/reflection-period`, { startsOn: isoDay(), days: '30' }, 'days'],
        [ngo, `${c}/reflection-period`, { startsOn: isoDay(), days: 30.5 }, 'days'],
        [ngo, `${c}/reflection-period`, { startsOn: isoDay() }, 'days'],
        // Shaped like a date but not one: the domain refuses it, naming the field.
        [ngo, `${c}/reflection-period`, { startsOn: '2026-02-30', days: 30 }, 'startsOn', 422],
        [ngo, `${c}/reflection-period/extension`, { additionalDays: 0 }, 'additionalDays'],
        [ngo, `${c}/reflection-period/end`, { reason: 'bored' }, 'reason'],
        [ngo, `${c}/support-plans`, { services: [], reviewOn: isoDay(7) }, 'services'],
        [ngo, `${c}/support-plans`, { services: ['legal'] }, 'reviewOn'],
        [ngo, `${c}/support-plans`, { services: ['legal'], reviewOn: '7 days' }, 'reviewOn'],
        [ngo, `${c}/support-services`, { serviceType: 'massage', providedOn: isoDay() }, 'serviceType'],
        [ngo, `${c}/support-services`, { serviceType: 'legal', providedOn: '2026/01/01' }, 'providedOn'],
        [ngo, `${c}/support-services`, { serviceType: 'legal', providedOn: '2026-13-01' }, 'providedOn', 422],
        [ngo, `${c}/closure`, { outcome: 'happy' }, 'outcome'],
        [ngo, `${c}/closure`, { outcome: 'integrated', note: 'x' }, 'note'],
      ]);
    });

    it('refuses a body over 1 MiB (413), other media types (415), broken or empty JSON (400)', async () => {
      const head = await ledger.store.headPosition();
      const huge = JSON.stringify({ ...REPORT, region: 'x'.repeat(1024 * 1024) });
      const families = [
        '/cases',
        `/cases/${caseId}/consents`,
        `/cases/${caseId}/referrals`,
        `/cases/${caseId}/support-services`,
        `/referrals/${referralId}/decline`,
      ];
      const json = { 'content-type': 'application/json' };
      const tries: Array<[string, string, Record<string, string>, number]> = [
        ['over 1 MiB', huge, json, 413],
        ['xml', '<report minor="false"/>', { 'content-type': 'application/xml' }, 415],
        ['multipart', '--x\r\n\r\n--x--', { 'content-type': 'multipart/form-data; boundary=x' }, 415],
        ['text/json', JSON.stringify(REPORT), { 'content-type': 'text/json' }, 415],
        ['broken json', '{"minor": tru', json, 400],
        ['empty json', '', json, 400],
      ];
      const seen = [];
      const wanted = [];
      for (const path of families) {
        for (const [what, body, headers, status] of tries) {
          const answer = await send(clinic, path, body, headers);
          seen.push({
            path,
            what,
            status: answer.status,
            type: answer.contentType,
            inBody: answer.body?.status,
          });
          wanted.push({ path, what, status, type: PROBLEM_JSON, inBody: status });
        }
      }
      expect(seen).toEqual(wanted);
      expect(await ledger.recordedAfter(head)).toEqual([]);
    });

    it('refuses a text/plain body with 415 problem+json, nothing stored', async () => {
      const head = await ledger.store.headPosition();
      const answer = await send(clinic, '/cases', JSON.stringify(REPORT), { 'content-type': 'text/plain' });
      expect({ status: answer.status, type: answer.contentType }).toEqual({
        status: 415,
        type: PROBLEM_JSON,
      });
      expect(await ledger.recordedAfter(head)).toEqual([]);
    });

    // Nest's ValidationPipe would turn a primitive body into an empty object; ours refuses it first.
    it('names "body" when the JSON body is not an object', async () => {
      const head = await ledger.store.headPosition();
      const seen = [];
      for (const body of ['"a string"', '42', 'true', 'null']) {
        const answer = await send(clinic, '/cases', body);
        seen.push({ body, status: answer.status, field: answer.body?.field });
      }
      expect(seen).toEqual(
        ['"a string"', '42', 'true', 'null'].map((body) => ({ body, status: 400, field: 'body' })),
      );
      expect(await ledger.recordedAfter(head)).toEqual([]);
    });

    // The API is JSON-only: no form parser is registered (bodyParser: false in bootstrap.ts).
    it('refuses a form-encoded command with 415 and records nothing', async () => {
      const formCase = await openCase();
      const head = await ledger.store.headPosition();
      const answer = await send(
        police,
        `/cases/${formCase}/reasonable-grounds-decision`,
        'outcome=negative',
        {
          'content-type': 'application/x-www-form-urlencoded',
        },
      );
      expect(await eventTypes(`identification-${formCase}`)).toEqual([
        'PotentialVictimReported',
        'IndicatorsAssessed',
      ]);
      expect(await ledger.recordedAfter(head)).toEqual([]);
      expect({ status: answer.status, type: answer.contentType }).toEqual({
        status: 415,
        type: PROBLEM_JSON,
      });
    });

    it('refuses a malformed Idempotency-Key naming the header', async () => {
      const head = await ledger.store.headPosition();
      for (const key of ['has space', 'k'.repeat(201)]) {
        const answer = await clinic.post('/cases', REPORT, { 'idempotency-key': key });
        expectProblem(answer, 400, 'REQUEST.INVALID', 'Idempotency-Key');
      }
      expect(await ledger.recordedAfter(head)).toEqual([]);
    });
  });
});
