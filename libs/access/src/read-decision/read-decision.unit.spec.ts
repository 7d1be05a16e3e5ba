import {
  consentCovers,
  consentDecider,
  SENSITIVE_CATEGORIES,
  type BasisState,
  type ConsentState,
  type GrantConsent,
  type GrantState,
  type RecordLawfulBasis,
} from '@nrm/consent';
import {
  AGENCY_KINDS,
  DATA_CATEGORIES,
  DomainError,
  PURPOSES,
  ROLES,
  basisAllowsSharing,
  fold,
  type Actor,
  type AgencyKind,
  type DataCategory,
  type Purpose,
  type Role,
} from '@nrm/shared-kernel';
import fc from 'fast-check';
import {
  decideRead,
  decideSubjectReport,
  readerRefusal,
  type ReadQuestion,
  type Reader,
} from './read-decision';
import { BREAK_GLASS_AGENCY_KINDS } from './who-may';

const AT = '2026-06-01T12:00:00.000Z';
const BEFORE = '2026-01-01T00:00:00.000Z';
const LATER = '2027-01-01T00:00:00.000Z';

const grant = (over: Partial<GrantState> = {}): GrantState => ({
  agencyIds: ['ngo-1'],
  categories: ['case-status', 'identity'],
  purposes: ['assistance'],
  withdrawals: [],
  recordedByAgencyId: 'clinic-1',
  expiresAt: LATER,
  grantedAt: BEFORE,
  withdrawn: false,
  ...over,
});

const basis = (over: Partial<BasisState> = {}): BasisState => ({
  basis: 'child-protection',
  agencyIds: ['ngo-1'],
  categories: ['case-status', 'support-needs'],
  purposes: ['assistance'],
  recordedAt: BEFORE,
  recordedByAgencyId: 'clinic-1',
  ...over,
});

const state = (
  consents: Record<string, GrantState> = {},
  lawfulBases: Record<string, BasisState> = {},
): ConsentState => ({ status: 'recorded', caseId: 'case-1', consents, lawfulBases, refusals: 0 });

const principal = (over: Partial<Extract<Reader, { via: 'principal' }>> = {}): Reader => ({
  via: 'principal',
  agencyId: 'ngo-1',
  agencyKind: 'ngo',
  roles: ['caseworker'],
  ...over,
});

const ask = (over: Partial<ReadQuestion> = {}): ReadQuestion => ({
  reader: principal(),
  purpose: 'assistance',
  party: true,
  consent: state({ 'c-1': grant() }),
  at: AT,
  ...over,
});

/** The decision as `category → basis or refusal`, for tables. */
function summary(question: ReadQuestion): Record<string, string> | string {
  const decision = decideRead(question);
  const byCategory = Object.fromEntries(
    decision.grounds.map((g) => [g.category, g.allowed ? g.basis : `no: ${g.refusal}`]),
  );
  return decision.allowed ? byCategory : `refused: ${decision.refusal}`;
}

describe('the read decision, case by case', () => {
  const basisOnly = state({}, { 'lb-1': basis() });
  const both = state({ 'c-1': grant({ categories: ['case-status'] }) }, { 'lb-1': basis() });

  it.each<[string, Partial<ReadQuestion>, Record<string, string> | string]>([
    [
      'consent covers two categories; the rest is not covered',
      {},
      {
        identity: 'consent',
        contact: 'no: not-covered',
        health: 'no: not-covered',
        exploitation: 'no: not-covered',
        'immigration-status': 'no: not-covered',
        'support-needs': 'no: not-covered',
        'case-status': 'consent',
      },
    ],
    [
      'a lawful basis covers at home',
      { consent: basisOnly, categories: ['case-status', 'support-needs', 'health'] },
      { health: 'no: not-covered', 'support-needs': 'lawful-basis', 'case-status': 'lawful-basis' },
    ],
    [
      'consent is preferred over a lawful basis',
      { consent: both, categories: ['case-status', 'support-needs'] },
      { 'support-needs': 'lawful-basis', 'case-status': 'consent' },
    ],
    [
      'abroad, a lawful basis never counts; consent does',
      {
        reader: principal({ agencyKind: 'foreign-nrm' }),
        consent: both,
        categories: ['case-status', 'support-needs'],
      },
      { 'support-needs': 'no: lawful-basis-not-abroad', 'case-status': 'consent' },
    ],
    [
      'an agency of unknown kind (the relay has not seen it) counts as abroad',
      {
        reader: { via: 'relay', agencyId: 'ngo-1', agencyKind: undefined },
        consent: basisOnly,
        categories: ['case-status'],
      },
      'refused: no-consent-or-lawful-basis',
    ],
    [
      'a consent never covers the agency that recorded it',
      { consent: state({ 'c-1': grant({ recordedByAgencyId: 'ngo-1' }) }), categories: ['case-status'] },
      'refused: no-consent-or-lawful-basis',
    ],
    [
      'nor does a lawful basis; another record still covers',
      {
        consent: state(
          { 'c-1': grant({ recordedByAgencyId: 'ngo-1' }) },
          { 'lb-1': basis({ recordedByAgencyId: 'ngo-1' }), 'lb-2': basis({ categories: ['identity'] }) },
        ),
        categories: ['case-status', 'identity'],
      },
      { identity: 'lawful-basis', 'case-status': 'no: own-record' },
    ],
    [
      'a withdrawn consent covers nothing',
      { consent: state({ 'c-1': grant({ withdrawn: true }) }) },
      'refused: no-consent-or-lawful-basis',
    ],
    [
      'a partial withdrawal removes its triples only',
      {
        consent: state({ 'c-1': grant({ withdrawals: [{ categories: ['identity'] }] }) }),
        categories: ['identity', 'case-status'],
      },
      { identity: 'no: not-covered', 'case-status': 'consent' },
    ],
    [
      'an expired consent covers nothing (expiry is exclusive)',
      { consent: state({ 'c-1': grant({ expiresAt: AT }) }) },
      'refused: no-consent-or-lawful-basis',
    ],
    [
      'a consent granted after the read covers nothing yet',
      { consent: state({ 'c-1': grant({ grantedAt: LATER, expiresAt: '2028-01-01T00:00:00.000Z' }) }) },
      'refused: no-consent-or-lawful-basis',
    ],
    ['another purpose is not covered', { purpose: 'investigation' }, 'refused: no-consent-or-lawful-basis'],
    ['an unreadable instant covers nothing', { at: 'soon' }, 'refused: no-consent-or-lawful-basis'],
    [
      'nothing recorded covers nothing',
      { consent: consentDecider.initialState() },
      'refused: no-consent-or-lawful-basis',
    ],
    ['a non-party is refused before coverage', { party: false }, 'refused: not-a-party-or-unknown-case'],
    [
      'a principal without a case-reading role is refused first',
      { reader: principal({ roles: ['coordinator', 'break-glass'] }), party: false },
      'refused: role-not-allowed',
    ],
    [
      'the relay pushes to an agency: no role applies',
      { reader: { via: 'relay', agencyId: 'ngo-1', agencyKind: 'ngo' }, categories: ['case-status'] },
      { 'case-status': 'consent' },
    ],
    [
      'break-glass covers every category beyond consent',
      {
        reader: principal({ roles: ['break-glass'], agencyKind: 'health' }),
        mode: 'break-glass',
        consent: consentDecider.initialState(),
        categories: ['identity', 'health'],
      },
      { identity: 'break-glass', health: 'break-glass' },
    ],
    [
      'break-glass needs its role',
      { reader: principal(), mode: 'break-glass' },
      'refused: break-glass-role-required',
    ],
    [
      'break-glass is not for a foreign contact point',
      { reader: principal({ roles: ['break-glass'], agencyKind: 'foreign-nrm' }), mode: 'break-glass' },
      'refused: break-glass-not-for-agency-kind',
    ],
    [
      'break-glass still needs the agency to be party',
      { reader: principal({ roles: ['break-glass'] }), mode: 'break-glass', party: false },
      'refused: not-a-party-or-unknown-case',
    ],
    [
      'the relay never breaks the glass',
      { reader: { via: 'relay', agencyId: 'ngo-1', agencyKind: 'ngo' }, mode: 'break-glass' },
      'refused: break-glass-role-required',
    ],
  ])('%s', (_name, question, expected) => {
    expect(summary(ask(question))).toEqual(expected);
  });

  it('names the record each allowed category rests on', () => {
    const decision = decideRead(ask({ consent: both, categories: ['case-status', 'support-needs'] }));
    expect(decision).toEqual({
      allowed: true,
      allowedGrounds: [
        { category: 'support-needs', allowed: true, basis: 'lawful-basis', lawfulBasisId: 'lb-1' },
        { category: 'case-status', allowed: true, basis: 'consent', consentId: 'c-1' },
      ],
      grounds: [
        { category: 'support-needs', allowed: true, basis: 'lawful-basis', lawfulBasisId: 'lb-1' },
        { category: 'case-status', allowed: true, basis: 'consent', consentId: 'c-1' },
      ],
    });
  });

  it('weighs no category when asked about none (the relay with no candidates)', () => {
    expect(decideRead(ask({ categories: [] }))).toEqual({ allowed: true, allowedGrounds: [], grounds: [] });
  });

  it('gives the same answer on who alone as the whole decision does', () => {
    for (const roles of [[], ['caseworker'], ['decision-maker'], ['break-glass'], ['oversight']] as Role[][])
      for (const mode of ['consent', 'break-glass'] as const) {
        const reader = principal({ roles, agencyKind: 'health' });
        const whole = decideRead(ask({ reader, mode }));
        const who = readerRefusal(reader, mode);
        if (who === undefined) expect(whole.allowed ? 'allowed' : whole.refusal).not.toMatch(/role|kind/);
        else expect(whole).toMatchObject({ allowed: false, refusal: who });
      }
  });
});

describe('the subject access report', () => {
  it.each<[string, AgencyKind, Role[], boolean, string]>([
    [
      'a caseworker of an agency in contact (reporter, support, completed handoff)',
      'health',
      ['caseworker'],
      true,
      'allowed',
    ],
    [
      'a party not in contact (a contact point abroad addressed by a referral, a decision-maker)',
      'foreign-nrm',
      ['caseworker'],
      false,
      'not-a-party-or-unknown-subject',
    ],
    [
      'a contact point abroad the person was handed off to: it records no consent, so gets no report',
      'foreign-nrm',
      ['caseworker'],
      true,
      'not-a-party-or-unknown-subject',
    ],
    ['no relation at all', 'ngo', ['caseworker'], false, 'not-a-party-or-unknown-subject'],
    [
      'not a caseworker',
      'ngo',
      ['decision-maker', 'break-glass'],
      true,
      'access-report-not-for-role-or-kind',
    ],
    [
      'the coordinator never assists',
      'national-coordinator',
      ['caseworker'],
      true,
      'access-report-not-for-role-or-kind',
    ],
    ['nor the oversight body', 'oversight-body', ['caseworker'], false, 'access-report-not-for-role-or-kind'],
  ])('%s', (_name, agencyKind, roles, inContact, expected) => {
    const decision = decideSubjectReport({
      reader: { via: 'principal', agencyId: 'a-1', agencyKind, roles },
      inContact,
    });
    expect(decision.allowed ? 'allowed' : decision.refusal).toBe(expected);
  });
});

describe('the abroad rule, held together with the consent decider', () => {
  const recorder: Actor = {
    principalId: 'p-1',
    agencyId: 'clinic-1',
    agencyKind: 'health',
    roles: ['caseworker'],
  };
  const kinds = { 'ro-nrm': 'foreign-nrm', 'ngo-1': 'ngo' } as const;
  const foreign: Reader = {
    via: 'principal',
    agencyId: 'ro-nrm',
    agencyKind: 'foreign-nrm',
    roles: ['caseworker'],
  };
  const grantTo = (method: 'written' | 'verbal-with-witness' | 'guardian', categories: DataCategory[]) =>
    ({
      type: 'GrantConsent',
      data: {
        caseId: 'case-1',
        consentId: `c-${method}`,
        subjectIsMinor: false,
        recorderInContact: true,
        agencyKinds: kinds,
        agencyIds: ['ro-nrm'],
        categories,
        purposes: ['referral'],
        expiresAt: LATER,
        // The witness is a colleague at the recorder's agency, as the registry would say.
        ...(method === 'verbal-with-witness' ? { witnessAgencyId: recorder.agencyId } : {}),
        capture: {
          method,
          language: 'ro',
          interpreterUsed: false,
          ...(method === 'verbal-with-witness' ? { witnessPrincipalId: 'p-2' } : {}),
          ...(method === 'guardian' ? { guardianReference: 'G-2026-1' } : {}),
        },
      },
      metadata: { actor: recorder, now: BEFORE },
    }) satisfies GrantConsent;
  const recorded = (command: GrantConsent | RecordLawfulBasis) =>
    fold(consentDecider, consentDecider.decide(command, consentDecider.initialState()));
  const codeOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      if (error instanceof DomainError) return error.code;
      throw error;
    }
    return undefined;
  };

  it('sends special categories abroad on written or guardian consent only', () => {
    for (const category of SENSITIVE_CATEGORIES) {
      for (const method of ['written', 'guardian'] as const) {
        const consent = recorded(grantTo(method, [category]));
        expect(
          summary(ask({ reader: foreign, purpose: 'referral', consent, categories: [category] })),
        ).toEqual({
          [category]: 'consent',
        });
      }
      // A verbal consent to send them abroad is never recorded, so it never reaches a read.
      expect(
        codeOf(() =>
          consentDecider.decide(grantTo('verbal-with-witness', [category]), consentDecider.initialState()),
        ),
      ).toBe('CONSENT.FOREIGN_NEEDS_WRITTEN');
    }
  });

  it('never sends anything abroad on a lawful basis: refused when recorded for special categories, unused for the rest', () => {
    const lawfulBasis = (categories: DataCategory[]): RecordLawfulBasis => ({
      type: 'RecordLawfulBasis',
      data: {
        caseId: 'case-1',
        lawfulBasisId: 'lb-1',
        basis: 'legal-obligation',
        justification: 'Statutory duty to notify the foreign contact point of the referral.',
        agencyIds: ['ro-nrm'],
        categories,
        purposes: ['referral'],
        agencyKinds: kinds,
      },
      metadata: { actor: recorder, now: BEFORE },
    });
    for (const category of SENSITIVE_CATEGORIES)
      expect(
        codeOf(() => consentDecider.decide(lawfulBasis([category]), consentDecider.initialState())),
      ).toBe('CONSENT.FOREIGN_LAWFUL_BASIS');
    const consent = recorded(lawfulBasis(['case-status']));
    expect(summary(ask({ reader: foreign, purpose: 'referral', consent, categories: ['case-status'] }))).toBe(
      'refused: no-consent-or-lawful-basis',
    );
    expect(decideRead(ask({ reader: foreign, purpose: 'referral', consent })).grounds).toContainEqual({
      category: 'case-status',
      allowed: false,
      refusal: 'lawful-basis-not-abroad',
    });
  });
});

describe('the read decision, over generated consent states', () => {
  const AGENCIES = ['a', 'b', 'c'] as const;
  const TIMES = ['2026-01-01T00:00:00.000Z', AT, '2026-09-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'];
  const someOf = <T>(values: readonly T[]) => fc.subarray([...values], { minLength: 1 });
  const scope = {
    agencyIds: someOf(AGENCIES),
    categories: someOf(DATA_CATEGORIES),
    purposes: someOf(PURPOSES.slice(0, 3)),
    recordedByAgencyId: fc.constantFrom(...AGENCIES),
  };
  const grantArb: fc.Arbitrary<GrantState> = fc.record({
    ...scope,
    withdrawals: fc.array(
      fc.record(
        {
          agencyIds: someOf(AGENCIES),
          categories: someOf(DATA_CATEGORIES),
          purposes: someOf(PURPOSES.slice(0, 3)),
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    grantedAt: fc.constantFrom(...TIMES),
    expiresAt: fc.constantFrom(...TIMES),
    withdrawn: fc.boolean(),
  });
  const basisArb: fc.Arbitrary<BasisState> = fc.record(
    {
      ...scope,
      basis: fc.constant('court-order' as const),
      recordedAt: fc.constantFrom(...TIMES),
      expiresAt: fc.constantFrom(...TIMES),
    },
    { requiredKeys: ['agencyIds', 'categories', 'purposes', 'recordedByAgencyId', 'basis', 'recordedAt'] },
  );
  const consentArb: fc.Arbitrary<ConsentState> = fc.oneof(
    fc.constant(consentDecider.initialState()),
    fc
      .tuple(fc.array(grantArb, { maxLength: 4 }), fc.array(basisArb, { maxLength: 3 }))
      .map(([grants, bases]) =>
        state(
          Object.fromEntries(grants.map((g, i) => [`c-${i}`, g])),
          Object.fromEntries(bases.map((b, i) => [`lb-${i}`, b])),
        ),
      ),
  );
  const kindArb = fc.option(fc.constantFrom(...AGENCY_KINDS), { nil: undefined });
  const questionArb = fc.record({
    agencyId: fc.constantFrom(...AGENCIES),
    kind: kindArb,
    roles: fc.subarray([...ROLES]),
    via: fc.constantFrom('principal' as const, 'relay' as const),
    mode: fc.constantFrom('consent' as const, 'break-glass' as const),
    purpose: fc.constantFrom<Purpose>(...PURPOSES.slice(0, 3)),
    party: fc.boolean(),
    consent: consentArb,
    at: fc.constantFrom(...TIMES),
    categories: fc.option(fc.subarray([...DATA_CATEGORIES]), { nil: undefined }),
  });
  type Generated = typeof questionArb extends fc.Arbitrary<infer Q> ? Q : never;
  const toQuestion = (q: Generated): ReadQuestion => ({
    reader:
      q.via === 'relay'
        ? { via: 'relay', agencyId: q.agencyId, agencyKind: q.kind }
        : { via: 'principal', agencyId: q.agencyId, agencyKind: q.kind ?? 'ngo', roles: q.roles },
    mode: q.mode,
    purpose: q.purpose,
    party: q.party,
    consent: q.consent,
    at: q.at,
    ...(q.categories !== undefined ? { categories: q.categories } : {}),
  });

  it('allows on consent exactly what consent coverage and the sharing rule allow (the rule the reads had)', () => {
    fc.assert(
      fc.property(questionArb, (q) => {
        const question = toQuestion({ ...q, mode: 'consent', via: 'relay', party: true });
        const decision = decideRead(question);
        const weighed = q.categories ?? DATA_CATEGORIES;
        const expected = DATA_CATEGORIES.filter((category) => {
          if (!weighed.includes(category)) return false;
          const coverage = consentCovers(q.consent, {
            agencyId: q.agencyId,
            category,
            purpose: q.purpose,
            at: q.at,
          });
          return coverage !== undefined && basisAllowsSharing(coverage.basis, q.kind);
        });
        const allowed = decision.allowed ? decision.allowedGrounds.map((g) => g.category) : [];
        expect(allowed).toEqual(expected);
        if (!decision.allowed) expect(weighed.length > 0 && expected.length === 0).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('never lets a record cover its recorder, never sends a lawful basis abroad, never lets a non-party in', () => {
    fc.assert(
      fc.property(questionArb, (q) => {
        const question = toQuestion(q);
        const decision = decideRead(question);
        if (!q.party) expect(decision).toMatchObject({ allowed: false });
        if (!decision.allowed) {
          expect(decision.grounds.every((g) => !g.allowed)).toBe(true);
          return;
        }
        const kind = question.reader.agencyKind;
        for (const ground of decision.allowedGrounds) {
          if (ground.basis === 'consent') {
            const record = (q.consent as Extract<ConsentState, { status: 'recorded' }>).consents[
              ground.consentId
            ]!;
            expect(record.recordedByAgencyId).not.toBe(q.agencyId);
          }
          if (ground.basis === 'lawful-basis') {
            const record = (q.consent as Extract<ConsentState, { status: 'recorded' }>).lawfulBases[
              ground.lawfulBasisId
            ]!;
            expect(record.recordedByAgencyId).not.toBe(q.agencyId);
            expect(kind === undefined || kind === 'foreign-nrm').toBe(false);
          }
          if (ground.basis === 'break-glass') {
            expect(q.mode).toBe('break-glass');
            expect(question.reader.via === 'principal' && question.reader.roles.includes('break-glass')).toBe(
              true,
            );
            expect(BREAK_GLASS_AGENCY_KINDS).toContain(kind as AgencyKind);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('decides a category the same whether it is weighed alone or with all the others', () => {
    fc.assert(
      fc.property(questionArb, fc.constantFrom(...DATA_CATEGORIES), (q, category) => {
        const all = decideRead(toQuestion({ ...q, categories: undefined }));
        const alone = decideRead(toQuestion({ ...q, categories: [category] }));
        const inAll = all.grounds.find((g) => g.category === category);
        expect(alone.grounds[0]).toEqual(inAll);
      }),
      { numRuns: 300 },
    );
  });
});
