import { fold, type Actor } from '@nrm/shared-kernel';
import {
  consentCovers,
  consentDecider,
  consentStream,
  CONSENT_EVENT_TYPES,
  type ConsentCommand,
  type ConsentEvent,
  type ConsentGranted,
  type ConsentState,
  type GrantConsent,
  type RecordLawfulBasis,
  type RefuseConsent,
  type WithdrawConsent,
} from './index';
import { deciderSpec } from '../../shared-kernel/test/given-when-then';

// --- fixtures ---------------------------------------------------------------------------------

const CASE = 'case-7f3a';
const NOW = '2025-03-01T10:00:00.000Z';
const LATER = '2025-04-01T10:00:00.000Z';
const EXPIRES = '2025-09-01T00:00:00.000Z';

// The clinic that met the person records; the agencies it names are others.
const caseworker: Actor = {
  principalId: 'pr-cw-1',
  agencyId: 'ag-clinic-1',
  agencyKind: 'health',
  roles: ['caseworker'],
};
const KINDS = {
  'ag-clinic-1': 'health',
  'ag-ngo-1': 'ngo',
  'ag-shelter-1': 'shelter',
  'ag-police-1': 'law-enforcement',
  'ag-asylum-1': 'asylum-authority',
  'ag-1': 'ngo',
  'ag-ro-1': 'foreign-nrm',
} as const;
const decisionMaker: Actor = {
  principalId: 'pr-dm-1',
  agencyId: 'ag-asylum-1',
  agencyKind: 'asylum-authority',
  roles: ['decision-maker'],
};
const overseer: Actor = {
  principalId: 'pr-ov-1',
  agencyId: 'ag-dpa-1',
  agencyKind: 'oversight-body',
  roles: ['oversight', 'break-glass'],
};

type Data<C extends ConsentCommand> = C['data'];
const meta = (actor: Actor = caseworker, now = NOW) => ({ actor, now });

const grant = (data: Partial<Data<GrantConsent>> = {}, actor?: Actor, now?: string): GrantConsent => ({
  type: 'GrantConsent',
  data: {
    caseId: CASE,
    consentId: 'cons-1',
    subjectIsMinor: false,
    recorderInContact: true,
    agencyKinds: KINDS,
    agencyIds: ['ag-ngo-1', 'ag-shelter-1'],
    categories: ['support-needs', 'case-status'],
    purposes: ['assistance', 'referral'],
    expiresAt: EXPIRES,
    capture: { method: 'written', language: 'ro', interpreterUsed: true },
    // The registry's answer for a witness named: a principal of the clinic that records.
    witnessAgencyId: 'ag-clinic-1',
    ...data,
  },
  metadata: meta(actor, now),
});

const withdraw = (
  data: Partial<Data<WithdrawConsent>> = {},
  actor?: Actor,
  now = LATER,
): WithdrawConsent => ({
  type: 'WithdrawConsent',
  data: { caseId: CASE, consentId: 'cons-1', recorderInContact: true, ...data },
  metadata: meta(actor, now),
});

const refuse = (data: Partial<Data<RefuseConsent>> = {}, actor?: Actor): RefuseConsent => ({
  type: 'RefuseConsent',
  data: { caseId: CASE, recorderInContact: true, ...data },
  metadata: meta(actor),
});

const lawfulBasis = (
  data: Partial<Data<RecordLawfulBasis>> = {},
  actor: Actor = decisionMaker,
): RecordLawfulBasis => ({
  type: 'RecordLawfulBasis',
  data: {
    caseId: CASE,
    lawfulBasisId: 'lb-1',
    basis: 'court-order',
    justification: 'Family court order FC-2025-118 requires health data to be shared with the shelter.',
    agencyIds: ['ag-shelter-1'],
    categories: ['health'],
    purposes: ['protection'],
    agencyKinds: KINDS,
    ...data,
  },
  metadata: meta(actor),
});

/** The event the default `grant()` produces, to set up histories. */
const granted = (data: Partial<ConsentGranted['data']> = {}): ConsentGranted => ({
  type: 'ConsentGranted',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    consentId: 'cons-1',
    recordedByAgencyId: 'ag-clinic-1',
    recordedByPrincipalId: 'pr-cw-1',
    agencyIds: ['ag-ngo-1', 'ag-shelter-1'],
    categories: ['support-needs', 'case-status'],
    purposes: ['assistance', 'referral'],
    expiresAt: EXPIRES,
    capture: { method: 'written', language: 'ro', interpreterUsed: true },
    grantedAt: NOW,
    ...data,
  },
});

// --- given / when / then ----------------------------------------------------------------------

const given = deciderSpec(consentDecider);

const stateAfter = (...history: ConsentEvent[]): ConsentState => fold(consentDecider, history);

// --- specs ------------------------------------------------------------------------------------

describe('consent stream and event list', () => {
  it('names one stream per case', () => {
    expect(consentStream('case-7f3a')).toBe('consent-case-7f3a');
  });

  it('lists every event type', () => {
    expect([...CONSENT_EVENT_TYPES].sort()).toEqual(
      ['ConsentGranted', 'ConsentRefused', 'ConsentWithdrawn', 'LawfulBasisRecorded'].sort(),
    );
  });

  it('starts empty', () => {
    expect(consentDecider.initialState()).toEqual({ status: 'empty' });
  });
});

describe('GrantConsent', () => {
  it('records a written consent with who recorded it and when, omitting absent capture details', () => {
    given().when(grant()).then([granted()]);
    const [event] = given().when(grant()).events();
    expect(event?.type === 'ConsentGranted' && Object.keys(event.data.capture).sort()).toEqual([
      'interpreterUsed',
      'language',
      'method',
    ]);
  });

  it('records a verbal consent with its witness', () => {
    const capture = {
      method: 'verbal-with-witness' as const,
      language: 'vi',
      interpreterUsed: false,
      witnessPrincipalId: 'pr-witness-9',
    };
    given()
      .when(grant({ capture }))
      .then([granted({ capture })]);
  });

  it.each([
    ['no principal registered with that id', undefined],
    ['a principal of another agency', 'ag-police-1'],
  ])('refuses a witness who is %s, with one answer (400) naming the field', (_, witnessAgencyId) => {
    const capture = {
      method: 'verbal-with-witness' as const,
      language: 'vi',
      interpreterUsed: false,
      witnessPrincipalId: 'Velmora_Dashkintree_1997-05-06',
    };
    const command = grant({ capture });
    const data = { ...command.data, witnessAgencyId };
    given()
      .when({ ...command, data })
      .thenThrows({ code: 'CONSENT.WITNESS_UNKNOWN', kind: 'invalid', field: 'capture.witnessPrincipalId' });
    // Whatever the method: a witness named is always checked.
    given()
      .when({ ...command, data: { ...data, capture: { ...capture, method: 'written' as const } } })
      .thenThrows({ code: 'CONSENT.WITNESS_UNKNOWN', kind: 'invalid', field: 'capture.witnessPrincipalId' });
  });

  it("records the guardian's reference sealed (schema 2) when the handler sealed it, never in clear", () => {
    const sealed = { alg: 'A256GCM', keyId: 'subj-1', iv: 'aXY=', data: 'c2VhbGVk', tag: 'dGFn' } as const;
    const capture = {
      method: 'guardian' as const,
      language: 'en',
      interpreterUsed: false,
      guardianReference: 'guardianship-2025-044',
    };
    for (const sealedGuardianReference of [sealed, null]) {
      const [event] = given()
        .when(grant({ subjectIsMinor: true, capture, sealedGuardianReference }))
        .events();
      expect(event).toMatchObject({ type: 'ConsentGranted', schemaVersion: 2 });
      expect(event?.type === 'ConsentGranted' && event.data.capture).toEqual({
        method: 'guardian',
        language: 'en',
        interpreterUsed: false,
        sealedGuardianReference,
      });
      expect(JSON.stringify(event)).not.toContain('guardianship-2025-044');
      // A grant recorded so is folded as any other.
      expect(stateAfter(event!)).toEqual(stateAfter(granted({ capture })));
    }
    // Without a guardian's reference there is nothing to seal: schema 1, as before.
    expect(
      given()
        .when(grant({ sealedGuardianReference: sealed }))
        .events(),
    ).toEqual([granted()]);
    // The reference is still checked, before anything is recorded.
    given()
      .when(
        grant({
          subjectIsMinor: true,
          capture: { ...capture, guardianReference: '  ' },
          sealedGuardianReference: sealed,
        }),
      )
      .thenThrows({ code: 'CONSENT.MINOR_NEEDS_GUARDIAN', kind: 'rule', field: 'capture.guardianReference' });
  });

  it("records a child's consent given through a guardian", () => {
    const capture = {
      method: 'guardian' as const,
      language: 'en',
      interpreterUsed: false,
      guardianReference: 'guardianship-2025-044',
    };
    given()
      .when(grant({ subjectIsMinor: true, capture }))
      .then([granted({ capture })]);
  });

  it('accepts a grant to exactly 50 agencies', () => {
    const agencyIds = Array.from({ length: 50 }, (_, i) => `ag-${i}`);
    const agencyKinds = Object.fromEntries(agencyIds.map((id) => [id, 'ngo' as const]));
    given()
      .when(grant({ agencyIds, agencyKinds }))
      .then([granted({ agencyIds })]);
  });

  it('records a second consent beside the first', () => {
    given(granted())
      .when(grant({ consentId: 'cons-2' }))
      .then([granted({ consentId: 'cons-2' })]);
  });

  it('accepts ids that are names of object properties', () => {
    given(granted())
      .when(grant({ consentId: 'constructor' }))
      .then([granted({ consentId: 'constructor' })]);
    given(granted())
      .when(grant({ consentId: '__proto__' }))
      .then([granted({ consentId: '__proto__' })]);
  });

  it.each([
    ['a decision-maker', decisionMaker],
    ['an overseer', overseer],
  ])('is refused to %s', (_, actor) => {
    given().when(grant({}, actor)).thenThrows({ code: 'CONSENT.ROLE_REQUIRED', kind: 'forbidden' });
  });

  it('is refused when the consent reference is already used', () => {
    given(granted())
      .when(grant({ categories: ['health'] }))
      .thenThrows({ code: 'CONSENT.ALREADY_RECORDED', kind: 'conflict', field: 'consentId' });
  });

  it('is refused when the consent reference is already used, even after withdrawal', () => {
    const withdrawn: ConsentEvent = {
      type: 'ConsentWithdrawn',
      schemaVersion: 1,
      data: {
        caseId: CASE,
        consentId: 'cons-1',
        whole: true,
        withdrawnByAgencyId: 'ag-clinic-1',
        withdrawnAt: LATER,
      },
    };
    given(granted(), withdrawn)
      .when(grant({}, caseworker, LATER))
      .thenThrows({ code: 'CONSENT.ALREADY_RECORDED', kind: 'conflict', field: 'consentId' });
  });

  it('is refused without a consent reference', () => {
    given()
      .when(grant({ consentId: ' ' }))
      .thenThrows({ code: 'CONSENT.ID_REQUIRED', kind: 'rule', field: 'consentId' });
  });

  it('is refused for another case than the stream holds', () => {
    given(granted())
      .when(grant({ caseId: 'case-other', consentId: 'cons-2' }))
      .thenThrows({ code: 'CONSENT.WRONG_CASE', kind: 'rule', field: 'caseId' });
  });

  it.each([
    ['now', NOW],
    ['before now', '2025-03-01T09:59:59.999Z'],
    ['in an earlier year', '2024-12-31T23:59:59Z'],
  ])('is refused when it expires %s', (_, expiresAt) => {
    given()
      .when(grant({ expiresAt }))
      .thenThrows({ code: 'CONSENT.EXPIRY_IN_PAST', kind: 'rule', field: 'expiresAt' });
  });

  it('compares expiry as instants, not as text', () => {
    // 11:30+02:00 is 09:30Z, before NOW, though its text sorts after NOW's.
    given()
      .when(grant({ expiresAt: '2025-03-01T11:30:00+02:00' }))
      .thenThrows({ code: 'CONSENT.EXPIRY_IN_PAST', kind: 'rule', field: 'expiresAt' });
  });

  it.each([
    ['next year'],
    ['2025-09-01'],
    ['2025-09-01T00:00:00'],
    [''],
    // A day that does not exist is refused, not rolled over to 2 March (issue #13).
    ['2026-02-30T00:00:00Z'],
    ['0000-01-01T00:00:00Z'],
  ])('is refused when the expiry %j is not a full instant', (expiresAt) => {
    given()
      .when(grant({ expiresAt }))
      .thenThrows({ code: 'CONSENT.EXPIRY_INVALID', kind: 'rule', field: 'expiresAt' });
  });

  it.each([
    ['written', { method: 'written' as const, language: 'en', interpreterUsed: false }],
    [
      'verbal with a witness',
      {
        method: 'verbal-with-witness' as const,
        language: 'en',
        interpreterUsed: false,
        witnessPrincipalId: 'pr-w',
      },
    ],
    [
      'written, even naming a guardian',
      { method: 'written' as const, language: 'en', interpreterUsed: false, guardianReference: 'g-1' },
    ],
    [
      'through a guardian without reference',
      { method: 'guardian' as const, language: 'en', interpreterUsed: false },
    ],
    [
      'through a guardian with a blank reference',
      { method: 'guardian' as const, language: 'en', interpreterUsed: false, guardianReference: '   ' },
    ],
  ])('is refused for a child when given %s', (_, capture) => {
    given()
      .when(grant({ subjectIsMinor: true, capture }))
      .thenThrows({ code: 'CONSENT.MINOR_NEEDS_GUARDIAN', kind: 'rule', field: 'capture.guardianReference' });
  });

  it("is refused for an adult through a guardian without the guardian's reference", () => {
    given()
      .when(grant({ capture: { method: 'guardian', language: 'en', interpreterUsed: false } }))
      .thenThrows({ code: 'CONSENT.MINOR_NEEDS_GUARDIAN', kind: 'rule', field: 'capture.guardianReference' });
  });

  it('is refused when given verbally without a witness', () => {
    given()
      .when(grant({ capture: { method: 'verbal-with-witness', language: 'ro', interpreterUsed: true } }))
      .thenThrows({ code: 'CONSENT.WITNESS_REQUIRED', kind: 'rule', field: 'capture.witnessPrincipalId' });
  });

  it.each([[''], ['Romanian'], ['e']])(
    'is refused when the language %j is not a language code',
    (language) => {
      given()
        .when(grant({ capture: { method: 'written', language, interpreterUsed: false } }))
        .thenThrows({ code: 'CONSENT.LANGUAGE_REQUIRED', kind: 'rule', field: 'capture.language' });
    },
  );

  it('is refused for an unknown capture method', () => {
    const capture = {
      method: 'implied',
      language: 'en',
      interpreterUsed: false,
    } as unknown as Data<GrantConsent>['capture'];
    given()
      .when(grant({ capture }))
      .thenThrows({ code: 'CONSENT.CAPTURE_INVALID', kind: 'rule', field: 'capture.method' });
  });

  it.each<[string, Partial<Data<GrantConsent>>, string]>([
    ['no agency', { agencyIds: [] }, 'agencyIds'],
    ['51 agencies', { agencyIds: Array.from({ length: 51 }, (_, i) => `ag-${i}`) }, 'agencyIds'],
    ['an agency twice', { agencyIds: ['ag-1', 'ag-1'] }, 'agencyIds'],
    ['a blank agency', { agencyIds: ['ag-1', ''] }, 'agencyIds'],
    ['no category', { categories: [] }, 'categories'],
    ['a category twice', { categories: ['health', 'health'] }, 'categories'],
    ['an unknown category', { categories: ['biometrics' as never] }, 'categories'],
    ['no purpose', { purposes: [] }, 'purposes'],
    ['a purpose twice', { purposes: ['referral', 'referral'] }, 'purposes'],
    ['an unknown purpose', { purposes: ['marketing' as never] }, 'purposes'],
  ])('is refused when it names %s', (_, data, field) => {
    given().when(grant(data)).thenThrows({ code: 'CONSENT.SCOPE_INVALID', kind: 'rule', field });
  });

  it('is refused when the time of the request is unreadable', () => {
    given()
      .when(grant({}, caseworker, 'yesterday'))
      .thenThrows({ code: 'CONSENT.TIME_INVALID', kind: 'rule' });
  });
});

describe('WithdrawConsent', () => {
  it('withdraws the whole consent when no list is given', () => {
    given(granted())
      .when(withdraw())
      .then([
        {
          type: 'ConsentWithdrawn',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            consentId: 'cons-1',
            whole: true,
            withdrawnByAgencyId: 'ag-clinic-1',
            withdrawnAt: LATER,
          },
        },
      ]);
  });

  it('withdraws only the listed values', () => {
    given(granted())
      .when(withdraw({ agencyIds: ['ag-shelter-1'], purposes: ['referral'] }))
      .then([
        {
          type: 'ConsentWithdrawn',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            consentId: 'cons-1',
            whole: false,
            agencyIds: ['ag-shelter-1'],
            purposes: ['referral'],
            withdrawnByAgencyId: 'ag-clinic-1',
            withdrawnAt: LATER,
          },
        },
      ]);
  });

  it('records a withdrawal made through another agency', () => {
    const shelterCaseworker: Actor = {
      ...caseworker,
      principalId: 'pr-s',
      agencyId: 'ag-shelter-1',
      agencyKind: 'shelter',
    };
    const [event] = given(granted()).when(withdraw({}, shelterCaseworker)).events();
    expect(event?.data).toMatchObject({ withdrawnByAgencyId: 'ag-shelter-1' });
  });

  it('becomes whole when a partial withdrawal empties a dimension', () => {
    const [event] = given(granted())
      .when(withdraw({ categories: ['case-status', 'support-needs'] }))
      .events();
    expect(event?.data).toMatchObject({ whole: true, categories: ['case-status', 'support-needs'] });
  });

  it('becomes whole when an earlier partial withdrawal left one value and this one removes it', () => {
    const first = given(granted())
      .when(withdraw({ purposes: ['assistance'] }))
      .events();
    const [event] = given(granted(), ...first)
      .when(withdraw({ purposes: ['referral'] }))
      .events();
    expect(event?.data).toMatchObject({ whole: true, purposes: ['referral'] });
  });

  it('names each withdrawn value once', () => {
    const [event] = given(granted())
      .when(withdraw({ categories: ['case-status', 'case-status'] }))
      .events();
    expect(event?.data).toMatchObject({ whole: false, categories: ['case-status'] });
  });

  it('is allowed after the consent expired', () => {
    const [event] = given(granted())
      .when(withdraw({}, caseworker, '2026-01-01T00:00:00Z'))
      .events();
    expect(event?.data).toMatchObject({ whole: true, withdrawnAt: '2026-01-01T00:00:00Z' });
  });

  it('is refused to a decision-maker', () => {
    given(granted())
      .when(withdraw({}, decisionMaker))
      .thenThrows({ code: 'CONSENT.ROLE_REQUIRED', kind: 'forbidden' });
  });

  it('is refused when nothing is recorded for the case', () => {
    given().when(withdraw()).thenThrows({ code: 'CONSENT.NOT_FOUND', kind: 'not-found', field: 'consentId' });
  });

  it('is refused for an unknown consent reference', () => {
    given(granted())
      .when(withdraw({ consentId: 'cons-9' }))
      .thenThrows({ code: 'CONSENT.NOT_FOUND', kind: 'not-found', field: 'consentId' });
    given(granted())
      .when(withdraw({ consentId: 'toString' }))
      .thenThrows({ code: 'CONSENT.NOT_FOUND', kind: 'not-found', field: 'consentId' });
  });

  it('is refused once the consent was withdrawn in full', () => {
    const whole = given(granted()).when(withdraw()).events();
    given(granted(), ...whole)
      .when(withdraw({ categories: ['health'] }))
      .thenThrows({ code: 'CONSENT.ALREADY_WITHDRAWN', kind: 'conflict', field: 'consentId' });
  });

  it.each<[string, Partial<Data<WithdrawConsent>>, string]>([
    ['an agency never granted', { agencyIds: ['ag-police-1'] }, 'agencyIds'],
    ['a category never granted', { categories: ['health'] }, 'categories'],
    ['a purpose never granted', { purposes: ['investigation'] }, 'purposes'],
    ['one granted and one not', { categories: ['case-status', 'identity'] }, 'categories'],
  ])('is refused for %s', (_, data, field) => {
    given(granted()).when(withdraw(data)).thenThrows({ code: 'CONSENT.NOT_GRANTED', kind: 'rule', field });
  });

  it('is refused for a value already withdrawn', () => {
    const first = given(granted())
      .when(withdraw({ categories: ['case-status'] }))
      .events();
    given(granted(), ...first)
      .when(withdraw({ categories: ['case-status'] }))
      .thenThrows({ code: 'CONSENT.ALREADY_WITHDRAWN', kind: 'conflict', field: 'categories' });
  });

  it('is refused for an empty list rather than withdrawing everything', () => {
    given(granted())
      .when(withdraw({ agencyIds: [] }))
      .thenThrows({ code: 'CONSENT.SCOPE_INVALID', kind: 'rule', field: 'agencyIds' });
  });
});

describe('RefuseConsent', () => {
  it('records what was refused and by whom', () => {
    given()
      .when(refuse({ agencyIds: ['ag-police-1'], purposes: ['investigation'] }))
      .then([
        {
          type: 'ConsentRefused',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            agencyIds: ['ag-police-1'],
            purposes: ['investigation'],
            recordedByAgencyId: 'ag-clinic-1',
            refusedAt: NOW,
          },
        },
      ]);
  });

  it('records a refusal without any list', () => {
    given()
      .when(refuse())
      .then([
        {
          type: 'ConsentRefused',
          schemaVersion: 1,
          data: { caseId: CASE, recordedByAgencyId: 'ag-clinic-1', refusedAt: NOW },
        },
      ]);
  });

  it('counts refusals and neither grants nor withdraws anything', () => {
    const refusal = given()
      .when(refuse({ agencyIds: ['ag-ngo-1'] }))
      .events();
    const state = stateAfter(granted(), ...refusal, ...refusal);
    expect(state).toMatchObject({ status: 'recorded', refusals: 2 });
    const query = {
      agencyId: 'ag-ngo-1',
      category: 'case-status',
      purpose: 'assistance',
      at: LATER,
    } as const;
    expect(consentCovers(state, query)).toEqual({ basis: 'consent', consentId: 'cons-1' });
    expect(consentCovers(stateAfter(...refusal), query)).toBeUndefined();
  });

  it('is refused to an overseer', () => {
    given().when(refuse({}, overseer)).thenThrows({ code: 'CONSENT.ROLE_REQUIRED', kind: 'forbidden' });
  });
});

describe('RecordLawfulBasis', () => {
  const recorded = (actor: Actor, data: Record<string, unknown> = {}): ConsentEvent => ({
    type: 'LawfulBasisRecorded',
    schemaVersion: 1,
    data: {
      caseId: CASE,
      lawfulBasisId: 'lb-1',
      basis: 'court-order',
      justification: 'Family court order FC-2025-118 requires health data to be shared with the shelter.',
      agencyIds: ['ag-shelter-1'],
      categories: ['health'],
      purposes: ['protection'],
      recordedByAgencyId: actor.agencyId,
      recordedByPrincipalId: actor.principalId,
      recordedAt: NOW,
      ...data,
    },
  });

  it('records a basis without expiry for a decision-maker', () => {
    given()
      .when(lawfulBasis())
      .then([recorded(decisionMaker)]);
    const [event] = given().when(lawfulBasis()).events();
    expect(event && 'expiresAt' in event.data).toBe(false);
  });

  it('records the justification sealed (schema 2) when the handler sealed it, never in clear', () => {
    const sealed = { alg: 'A256GCM', keyId: 'subj-1', iv: 'aXY=', data: 'c2VhbGVk', tag: 'dGFn' } as const;
    for (const sealedJustification of [sealed, null]) {
      const [event] = given().when(lawfulBasis({ sealedJustification })).events();
      expect(event).toMatchObject({ type: 'LawfulBasisRecorded', schemaVersion: 2 });
      expect(event && 'justification' in event.data).toBe(false);
      expect(event?.data).toMatchObject({ sealedJustification });
    }
    // The text is still checked, before anything is recorded.
    given()
      .when(lawfulBasis({ justification: 'too short', sealedJustification: sealed }))
      .thenThrows({ code: 'CONSENT.JUSTIFICATION_REQUIRED', kind: 'rule', field: 'justification' });
  });

  it('records a basis with expiry for a caseworker', () => {
    given()
      .when(lawfulBasis({ expiresAt: EXPIRES }, caseworker))
      .then([recorded(caseworker, { expiresAt: EXPIRES })]);
  });

  it('stores the justification trimmed', () => {
    const [event] = given()
      .when(lawfulBasis({ justification: '   Child protection order CP-77 in force.  ' }))
      .events();
    expect(event?.data).toMatchObject({ justification: 'Child protection order CP-77 in force.' });
  });

  it('accepts a justification of exactly 20 characters', () => {
    const [event] = given()
      .when(lawfulBasis({ justification: ' Court order CO-12345 ' }))
      .events();
    expect(event?.data).toMatchObject({ justification: 'Court order CO-12345' });
  });

  it.each([[''], ['court order'], ['   Court order CO-1234   '], ['                         ']])(
    'is refused with the justification %j',
    (justification) => {
      given()
        .when(lawfulBasis({ justification }))
        .thenThrows({ code: 'CONSENT.JUSTIFICATION_REQUIRED', kind: 'rule', field: 'justification' });
    },
  );

  it('is refused to an overseer', () => {
    given().when(lawfulBasis({}, overseer)).thenThrows({ code: 'CONSENT.ROLE_REQUIRED', kind: 'forbidden' });
  });

  it('is refused when its reference is already used', () => {
    given(recorded(decisionMaker))
      .when(lawfulBasis({ basis: 'vital-interests' }))
      .thenThrows({ code: 'CONSENT.ALREADY_RECORDED', kind: 'conflict', field: 'lawfulBasisId' });
  });

  it('keeps consent and lawful-basis references apart', () => {
    const [event] = given(granted())
      .when(lawfulBasis({ lawfulBasisId: 'cons-1' }))
      .events();
    expect(event?.type).toBe('LawfulBasisRecorded');
  });

  it('is refused when it would already have ended', () => {
    given()
      .when(lawfulBasis({ expiresAt: '2025-02-01T00:00:00Z' }))
      .thenThrows({ code: 'CONSENT.EXPIRY_IN_PAST', kind: 'rule', field: 'expiresAt' });
  });

  it('is refused for an unknown basis', () => {
    given()
      .when(lawfulBasis({ basis: 'convenience' as never }))
      .thenThrows({ code: 'CONSENT.BASIS_UNKNOWN', kind: 'rule', field: 'basis' });
  });

  it('is refused without a scope', () => {
    given()
      .when(lawfulBasis({ categories: [] }))
      .thenThrows({ code: 'CONSENT.SCOPE_INVALID', kind: 'rule', field: 'categories' });
  });
});

describe('who may record consent and lawful bases (rule 7)', () => {
  const foreignCaseworker: Actor = {
    principalId: 'pr-ro',
    agencyId: 'ag-ro-1',
    agencyKind: 'foreign-nrm',
    roles: ['caseworker'],
  };
  const coordinator: Actor = {
    principalId: 'pr-co',
    agencyId: 'ag-co-1',
    agencyKind: 'national-coordinator',
    roles: ['caseworker', 'decision-maker', 'coordinator'],
  };
  const police: Actor = {
    principalId: 'pr-po',
    agencyId: 'ag-police-1',
    agencyKind: 'law-enforcement',
    roles: ['caseworker', 'decision-maker'],
  };
  const noContact = { code: 'CONSENT.NO_CONTACT', kind: 'forbidden' } as const;

  it('refuses a foreign contact point naming itself for identity and exploitation', () => {
    given()
      .when(
        grant(
          {
            agencyIds: ['ag-ro-1'],
            categories: ['identity', 'exploitation'],
            capture: { method: 'guardian', language: 'ro', interpreterUsed: false, guardianReference: 'G-1' },
          },
          foreignCaseworker,
        ),
      )
      .thenThrows(noContact);
  });

  it('refuses the coordinator, and an agency that is not in contact with the person', () => {
    given().when(grant({}, coordinator)).thenThrows(noContact);
    given()
      .when(grant({ recorderInContact: false, agencyIds: ['ag-police-1'] }, police))
      .thenThrows(noContact);
  });

  it('refuses a withdrawal or a refusal by a party not in contact with the person (attack)', () => {
    const held = granted({ consentId: 'cons-1', agencyIds: ['ag-ngo-1'] });
    given(held).when(withdraw({}, foreignCaseworker)).thenThrows(noContact);
    given(held)
      .when(withdraw({ recorderInContact: false }, police))
      .thenThrows(noContact);
    given(held).when(refuse({}, coordinator)).thenThrows(noContact);
    given(held)
      .when(refuse({ recorderInContact: false }, police))
      .thenThrows(noContact);
  });

  it('refuses a consent naming its recorder for what it does not already hold', () => {
    given()
      .when(grant({ agencyIds: ['ag-shelter-1', 'ag-clinic-1'] }))
      .thenThrows({ code: 'CONSENT.SELF_GRANT', kind: 'rule', field: 'agencyIds[1]' });
  });

  it('refuses a recorder naming itself to last longer than what it holds', () => {
    const held = granted({
      consentId: 'cons-0',
      recordedByAgencyId: 'ag-ngo-1',
      agencyIds: ['ag-clinic-1'],
      expiresAt: '2025-06-01T00:00:00.000Z',
    });
    given(held)
      .when(grant({ agencyIds: ['ag-clinic-1'] }))
      .thenThrows({ code: 'CONSENT.SELF_GRANT', kind: 'rule', field: 'agencyIds[0]' });
  });

  it('accepts a recorder naming itself for what another agency recorded for it, and it adds nothing', () => {
    const held = granted({ consentId: 'cons-0', recordedByAgencyId: 'ag-ngo-1', agencyIds: ['ag-clinic-1'] });
    const events = given(held)
      .when(grant({ agencyIds: ['ag-clinic-1'] }))
      .events();
    expect(events).toHaveLength(1);
    const query = {
      agencyId: 'ag-clinic-1',
      category: 'case-status',
      purpose: 'assistance',
      at: LATER,
    } as const;
    expect(consentCovers(stateAfter(held, ...events), query)).toEqual({
      basis: 'consent',
      consentId: 'cons-0',
    });
  });

  it('refuses a lawful basis naming its recorder', () => {
    given()
      .when(lawfulBasis({ agencyIds: ['ag-asylum-1'] }))
      .thenThrows({ code: 'CONSENT.SELF_GRANT', kind: 'rule', field: 'agencyIds[0]' });
  });

  it('refuses a lawful basis recorded by a foreign contact point', () => {
    given()
      .when(lawfulBasis({}, { ...foreignCaseworker, roles: ['decision-maker'] }))
      .thenThrows({ code: 'CONSENT.NO_STANDING', kind: 'forbidden' });
  });

  it('refuses agencies the registry does not know, naming the position', () => {
    given()
      .when(grant({ agencyIds: ['ag-ngo-1', 'ag-nowhere'] }))
      .thenThrows({ code: 'AGENCY.UNKNOWN', kind: 'rule', field: 'agencyIds[1]' });
    given()
      .when(lawfulBasis({ agencyIds: ['ag-nowhere'] }))
      .thenThrows({ code: 'AGENCY.UNKNOWN', kind: 'rule', field: 'agencyIds[0]' });
  });

  it('sends special categories abroad only on written or guardian consent, never on a lawful basis', () => {
    given()
      .when(
        grant({
          agencyIds: ['ag-ngo-1', 'ag-ro-1'],
          categories: ['health'],
          capture: {
            method: 'verbal-with-witness',
            language: 'ro',
            interpreterUsed: false,
            witnessPrincipalId: 'pr-w',
          },
        }),
      )
      .thenThrows({ code: 'CONSENT.FOREIGN_NEEDS_WRITTEN', kind: 'rule', field: 'agencyIds[1]' });
    expect(
      given()
        .when(grant({ agencyIds: ['ag-ro-1'], categories: ['health', 'case-status'] }))
        .events(),
    ).toHaveLength(1);
    given()
      .when(lawfulBasis({ agencyIds: ['ag-shelter-1', 'ag-ro-1'] }))
      .thenThrows({ code: 'CONSENT.FOREIGN_LAWFUL_BASIS', kind: 'rule', field: 'agencyIds[1]' });
    expect(
      given()
        .when(lawfulBasis({ agencyIds: ['ag-ro-1'], categories: ['case-status'] }))
        .events(),
    ).toHaveLength(1);
  });
});

describe('WithdrawConsent by (agency, category) pairs', () => {
  const four = ['identity', 'health', 'exploitation', 'case-status'] as const;
  const wide = () => granted({ categories: [...four], purposes: ['assistance'] });

  it('removes exactly (ngo, exploitation): the NGO keeps the rest, the shelter keeps exploitation', () => {
    const events = given(wide())
      .when(withdraw({ agencyIds: ['ag-ngo-1'], categories: ['exploitation'] }))
      .events();
    expect(events[0]?.data).toMatchObject({
      whole: false,
      agencyIds: ['ag-ngo-1'],
      categories: ['exploitation'],
    });
    const state = stateAfter(wide(), ...events);
    const covered = (agencyId: string) =>
      four.filter((category) =>
        consentCovers(state, { agencyId, category, purpose: 'assistance', at: LATER }),
      );
    expect(covered('ag-ngo-1')).toEqual(['identity', 'health', 'case-status']);
    expect(covered('ag-shelter-1')).toEqual([...four]);
  });

  it('ends the consent when the pairs withdrawn one by one leave nothing', () => {
    const history: ConsentEvent[] = [wide()];
    for (const agencyId of ['ag-ngo-1', 'ag-shelter-1'])
      history.push(
        ...given(...history)
          .when(withdraw({ agencyIds: [agencyId], categories: [...four] }))
          .events(),
      );
    expect(history.map((e) => (e.type === 'ConsentWithdrawn' ? e.data.whole : e.type))).toEqual([
      'ConsentGranted',
      false,
      true,
    ]);
  });

  it('is refused when every pair named is already withdrawn', () => {
    const first = given(wide())
      .when(withdraw({ agencyIds: ['ag-ngo-1'] }))
      .events();
    given(wide(), ...first)
      .when(withdraw({ agencyIds: ['ag-ngo-1'], categories: ['health'] }))
      .thenThrows({ code: 'CONSENT.ALREADY_WITHDRAWN', kind: 'conflict', field: 'agencyIds' });
  });
});

describe('a whole lifecycle', () => {
  it('grants, narrows, refuses, falls back on a lawful basis and ends', () => {
    const history: ConsentEvent[] = [];
    const run = (command: ConsentCommand) => {
      const events = consentDecider.decide(command, fold(consentDecider, history));
      history.push(...events);
      return fold(consentDecider, history);
    };
    const at = '2025-05-01T00:00:00Z';
    const shelterHealth = {
      agencyId: 'ag-shelter-1',
      category: 'health',
      purpose: 'protection',
      at,
    } as const;
    const shelterSupport = {
      agencyId: 'ag-shelter-1',
      category: 'support-needs',
      purpose: 'referral',
      at,
    } as const;

    let state = run(
      grant({ categories: ['support-needs', 'case-status', 'health'], purposes: ['referral', 'protection'] }),
    );
    expect(consentCovers(state, shelterHealth)).toEqual({ basis: 'consent', consentId: 'cons-1' });

    state = run(withdraw({ categories: ['health'] }));
    expect(consentCovers(state, shelterHealth)).toBeUndefined();
    expect(consentCovers(state, shelterSupport)).toEqual({ basis: 'consent', consentId: 'cons-1' });

    state = run(refuse({ categories: ['health'] }));
    state = run(lawfulBasis());
    expect(consentCovers(state, shelterHealth)).toEqual({ basis: 'lawful-basis', lawfulBasisId: 'lb-1' });

    state = run(withdraw());
    expect(consentCovers(state, shelterSupport)).toBeUndefined();
    expect(consentCovers(state, shelterHealth)).toEqual({ basis: 'lawful-basis', lawfulBasisId: 'lb-1' });

    expect(history.map((event) => event.type)).toEqual([
      'ConsentGranted',
      'ConsentWithdrawn',
      'ConsentRefused',
      'LawfulBasisRecorded',
      'ConsentWithdrawn',
    ]);
    expect(state).toEqual({
      status: 'recorded',
      caseId: CASE,
      consents: {
        'cons-1': {
          agencyIds: ['ag-ngo-1', 'ag-shelter-1'],
          categories: ['support-needs', 'case-status', 'health'],
          purposes: ['referral', 'protection'],
          withdrawals: [{ categories: ['health'] }],
          recordedByAgencyId: 'ag-clinic-1',
          expiresAt: EXPIRES,
          grantedAt: NOW,
          withdrawn: true,
        },
      },
      lawfulBases: {
        'lb-1': {
          basis: 'court-order',
          agencyIds: ['ag-shelter-1'],
          categories: ['health'],
          purposes: ['protection'],
          recordedAt: NOW,
          recordedByAgencyId: 'ag-asylum-1',
        },
      },
      refusals: 1,
    });
    // Event data is plain JSON: it survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(history))).toEqual(history);
  });
});
