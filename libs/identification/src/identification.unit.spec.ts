import { DomainError, fold, type AgencyKind, type DomainErrorKind, type Role } from '@nrm/shared-kernel';
import {
  DEFAULT_IDENTIFICATION_POLICY,
  IDENTIFICATION_EVENT_TYPES,
  identificationDecider,
  identificationStream,
  INDICATOR_CODES,
  INDICATOR_DIMENSIONS,
  INDICATOR_LIST_VERSION,
  INDICATORS,
  isIndicatorCode,
  isMinor,
  isReported,
  MAX_INDICATORS,
  reasonableGroundsPositive,
  reportingAgency,
  type AssessIndicators,
  type DecideConclusiveGrounds,
  type DecideReasonableGrounds,
  type DesignateCompetentAuthority,
  type DesignationReason,
  type IdentificationCommand,
  type IdentificationDecider,
  type IdentificationEvent,
  type IdentificationReconsidered,
  type IdentificationState,
  type PotentialVictimReported,
  type ReasonableGroundsDecided,
  type ReconsiderIdentification,
  type RegisteredAgency,
  type ReportPotentialVictim,
} from './index';

// ---- given / when / then ----------------------------------------------------------------------------------

function given(
  events: readonly IdentificationEvent[],
  decider: IdentificationDecider = identificationDecider(),
) {
  return {
    when(command: IdentificationCommand) {
      const state = fold(decider, events);
      const run = () => decider.decide(command, state);
      return {
        then(expected: readonly IdentificationEvent[]) {
          expect(run()).toEqual(expected);
        },
        thenThrows(code: string, kind: DomainErrorKind, field?: string) {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(DomainError);
          const error = caught as DomainError;
          expect({ code: error.code, kind: error.kind, field: error.field }).toEqual({ code, kind, field });
          expect(error.message.length).toBeGreaterThan(0);
        },
      };
    },
  };
}

// ---- builders ---------------------------------------------------------------------------------------------

const CASE = 'case-7f3a';
const NOW = '2025-03-01T09:00:00Z';
const LATER = '2025-03-02T10:30:00Z';
const LATEST = '2025-04-15T14:00:00+02:00';

const actor = (agencyKind: AgencyKind, roles: readonly Role[], agencyId = `${agencyKind}-1`) => ({
  principalId: `p-${agencyId}`,
  agencyId,
  agencyKind,
  roles,
});
const NGO_CASEWORKER = actor('ngo', ['caseworker'], 'ngo-amelie');
const POLICE_DECIDER = actor('law-enforcement', ['decision-maker'], 'police-north');
const ASYLUM_CASEWORKER = actor('asylum-authority', ['caseworker'], 'asylum-office');

type Actor = ReturnType<typeof actor>;

const report = (
  data: Partial<ReportPotentialVictim['data']> = {},
  by: Actor = NGO_CASEWORKER,
  now = NOW,
): ReportPotentialVictim => ({
  type: 'ReportPotentialVictim',
  data: {
    caseId: CASE,
    subjectId: 'subj-91c2',
    indicators: ['withheld-documents', 'debt-bondage'],
    exploitationForms: ['labour'],
    minor: false,
    region: 'NL-NH',
    ...data,
  },
  metadata: { actor: by, now },
});

const assess = (
  data: Partial<AssessIndicators['data']> = {},
  by: Actor = ASYLUM_CASEWORKER,
  now = LATER,
): AssessIndicators => ({
  type: 'AssessIndicators',
  data: {
    caseId: CASE,
    outcome: 'indicators-present',
    indicatorsConfirmed: ['debt-bondage'],
    exploitationForms: ['labour', 'domestic-servitude'],
    ...data,
  },
  metadata: { actor: by, now },
});

const decideRG = (
  outcome: DecideReasonableGrounds['data']['outcome'],
  by: Actor = POLICE_DECIDER,
  caseId = CASE,
  now = LATER,
): DecideReasonableGrounds => ({
  type: 'DecideReasonableGrounds',
  data: { caseId, outcome },
  metadata: { actor: by, now },
});

const decideCG = (
  outcome: DecideConclusiveGrounds['data']['outcome'],
  by: Actor = POLICE_DECIDER,
  caseId = CASE,
  now = LATEST,
): DecideConclusiveGrounds => ({
  type: 'DecideConclusiveGrounds',
  data: { caseId, outcome },
  metadata: { actor: by, now },
});

const reconsider = (
  reason: ReconsiderIdentification['data']['reason'] = 'new-evidence',
  by: Actor = POLICE_DECIDER,
  caseId = CASE,
  now = LATEST,
): ReconsiderIdentification => ({
  type: 'ReconsiderIdentification',
  data: { caseId, reason },
  metadata: { actor: by, now },
});

const reported = (data: Partial<PotentialVictimReported['data']> = {}): IdentificationEvent => ({
  type: 'PotentialVictimReported',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    subjectId: 'subj-91c2',
    reportedByAgencyId: 'ngo-amelie',
    reportedByAgencyKind: 'ngo',
    indicators: ['withheld-documents', 'debt-bondage'],
    exploitationForms: ['labour'],
    minor: false,
    region: 'NL-NH',
    reportedAt: NOW,
    ...data,
  },
});
const assessed: IdentificationEvent = {
  type: 'IndicatorsAssessed',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    outcome: 'indicators-present',
    indicatorsConfirmed: ['debt-bondage'],
    exploitationForms: ['labour', 'domestic-servitude'],
    assessedByAgencyId: 'asylum-office',
    assessedAt: LATER,
  },
};
const rgDecided = (
  outcome: 'positive' | 'negative',
  data: Partial<ReasonableGroundsDecided['data']> = {},
): IdentificationEvent => ({
  type: 'ReasonableGroundsDecided',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    outcome,
    decidedByAgencyId: 'police-north',
    decidedAt: LATER,
    reflectionPeriodEntitled: outcome === 'positive',
    ...data,
  },
});
const cgDecided = (outcome: 'positive' | 'negative'): IdentificationEvent => ({
  type: 'ConclusiveGroundsDecided',
  schemaVersion: 1,
  data: { caseId: CASE, outcome, decidedByAgencyId: 'police-north', decidedAt: LATEST },
});
const reconsidered = (
  previousStatus: IdentificationReconsidered['data']['previousStatus'],
  reason: IdentificationReconsidered['data']['reason'] = 'new-evidence',
): IdentificationEvent => ({
  type: 'IdentificationReconsidered',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    reason,
    previousStatus,
    reconsideredByAgencyId: 'police-north',
    reconsideredAt: LATEST,
  },
});

/** Histories that leave the case in each status. */
const HISTORY = {
  none: [],
  reported: [reported()],
  'indicators-assessed': [reported(), assessed],
  'reasonable-grounds-positive': [reported(), assessed, rgDecided('positive')],
  'reasonable-grounds-negative': [reported(), assessed, rgDecided('negative')],
  'conclusive-grounds-positive': [reported(), assessed, rgDecided('positive'), cgDecided('positive')],
  'conclusive-grounds-negative': [reported(), assessed, rgDecided('positive'), cgDecided('negative')],
} satisfies Record<IdentificationState['status'], readonly IdentificationEvent[]>;

const stateAfter = (events: readonly IdentificationEvent[]) => fold(identificationDecider(), events);

// ---- ReportPotentialVictim ------------------------------------------------------------------------------

describe('ReportPotentialVictim', () => {
  it('records the report with the reporting agency and the time of the request', () => {
    given([]).when(report()).then([reported()]);
  });

  it('records a child, with no exploitation form known yet', () => {
    given([])
      .when(report({ minor: true, exploitationForms: [] }))
      .then([reported({ minor: true, exploitationForms: [] })]);
  });

  it('records each indicator and form once even when given twice', () => {
    const [event] = identificationDecider().decide(
      report({
        indicators: ['abducted', 'hazardous-work', 'abducted'],
        exploitationForms: ['sexual', 'labour', 'sexual'],
      }),
      { status: 'none' },
    );
    expect(event?.data).toMatchObject({
      indicators: ['abducted', 'hazardous-work'],
      exploitationForms: ['sexual', 'labour'],
    });
  });

  it('accepts exactly 50 indicators', () => {
    const indicators = INDICATOR_CODES.slice(0, MAX_INDICATORS);
    expect(indicators).toHaveLength(MAX_INDICATORS);
    const [event] = identificationDecider().decide(report({ indicators }), { status: 'none' });
    expect(event?.data).toMatchObject({ indicators });
  });

  it('refuses a second report of the same case', () => {
    given([reported()]).when(report()).thenThrows('IDENTIFICATION.ALREADY_REPORTED', 'conflict');
  });

  it('refuses a report about a different case than the one on record', () => {
    given([reported()])
      .when(report({ caseId: 'case-other' }))
      .thenThrows('IDENTIFICATION.CASE_MISMATCH', 'rule', 'caseId');
  });

  it('refuses a principal without the caseworker role', () => {
    given([])
      .when(report({}, actor('ngo', ['decision-maker', 'coordinator'])))
      .thenThrows('IDENTIFICATION.ROLE_REQUIRED', 'forbidden');
  });

  it('refuses the oversight body even with the caseworker role', () => {
    given([])
      .when(report({}, actor('oversight-body', ['caseworker', 'oversight'])))
      .thenThrows('IDENTIFICATION.AGENCY_MAY_NOT_REPORT', 'forbidden');
  });

  it('requires a case reference', () => {
    given([])
      .when(report({ caseId: '  ' }))
      .thenThrows('IDENTIFICATION.CASE_ID_REQUIRED', 'rule', 'caseId');
  });

  it('requires a subject reference', () => {
    given([])
      .when(report({ subjectId: '' }))
      .thenThrows('IDENTIFICATION.SUBJECT_ID_REQUIRED', 'rule', 'subjectId');
  });

  it('requires at least one indicator', () => {
    given([])
      .when(report({ indicators: [] }))
      .thenThrows('IDENTIFICATION.INDICATORS_REQUIRED', 'rule', 'indicators');
  });

  it('refuses more than 50 indicators', () => {
    const indicators = Array.from({ length: MAX_INDICATORS + 1 }, (_, i) => `IND-${i}`);
    given([])
      .when(report({ indicators }))
      .thenThrows('IDENTIFICATION.TOO_MANY_INDICATORS', 'rule', 'indicators');
  });

  it.each([
    [['debt-bondage', 'victim-ysmay-tolberrow-2009'], 'indicators[1]'],
    [['IND-DEBT-BONDAGE'], 'indicators[0]'],
    [['restricted-movement', 'Debt-Bondage'], 'indicators[1]'],
  ])('refuses a code that is not on the list, naming the item: %j', (indicators, field) => {
    given([]).when(report({ indicators })).thenThrows('IDENTIFICATION.UNKNOWN_INDICATOR', 'invalid', field);
  });

  it.each([[''], ['   '], ['bruises on her left arm'], ['x'.repeat(65)]])(
    'refuses an indicator that is not a code: %j',
    (bad) => {
      given([])
        .when(report({ indicators: ['abducted', bad] }))
        .thenThrows('IDENTIFICATION.INVALID_INDICATOR', 'rule', 'indicators');
    },
  );

  it('refuses an exploitation form that is not on the list', () => {
    given([])
      .when(report({ exploitationForms: ['labour', 'pickpocketing' as 'labour'] }))
      .thenThrows('IDENTIFICATION.UNKNOWN_EXPLOITATION_FORM', 'rule', 'exploitationForms');
  });

  it.each([[''], ['Keizersgracht 12, Amsterdam']])('refuses a region that is not a code: %j', (region) => {
    given([]).when(report({ region })).thenThrows('IDENTIFICATION.INVALID_REGION', 'rule', 'region');
  });

  it('requires the minor flag to be stated', () => {
    given([])
      .when(report({ minor: undefined as unknown as boolean }))
      .thenThrows('IDENTIFICATION.MINOR_FLAG_REQUIRED', 'rule', 'minor');
  });

  it.each([[''], ['yesterday'], ['2025-03-01'], ['2025-13-45T99:00:00Z']])(
    'refuses a request whose time cannot be read: %j',
    (now) => {
      given([])
        .when(report({}, NGO_CASEWORKER, now))
        .thenThrows('IDENTIFICATION.INVALID_TIME', 'rule');
    },
  );
});

// ---- The list of indicator codes ---------------------------------------------------------------------------

describe('the closed list of indicator codes', () => {
  it('is versioned, with distinct kebab-case codes, each in a dimension and since a version', () => {
    expect(INDICATOR_LIST_VERSION).toMatch(/^\d{4}\.\d+$/);
    expect(new Set(INDICATOR_CODES).size).toBe(INDICATOR_CODES.length);
    for (const { code, dimension, palermo, since } of INDICATORS) {
      expect(code).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(code.length).toBeLessThanOrEqual(64);
      expect(INDICATOR_DIMENSIONS).toContain(dimension);
      expect(['act', 'means', 'exploitation']).toContain(palermo);
      expect(since <= INDICATOR_LIST_VERSION).toBe(true);
    }
    // Every dimension has codes, and a report of MAX_INDICATORS distinct ones is possible.
    for (const dimension of INDICATOR_DIMENSIONS)
      expect(INDICATORS.some((i) => i.dimension === dimension)).toBe(true);
    expect(INDICATOR_CODES.length).toBeGreaterThanOrEqual(MAX_INDICATORS);
  });

  it('holds every code the ledger already uses (README, demo, benchmarks, tests, OpenAPI examples)', () => {
    for (const code of ['debt-bondage', 'restricted-movement', 'withheld-documents'])
      expect(isIndicatorCode(code)).toBe(true);
  });

  it('holds no free text, name or other value', () => {
    for (const value of ['victim-ysmay-tolberrow', 'Debt-Bondage', ' debt-bondage', '', 7, null, undefined])
      expect(isIndicatorCode(value)).toBe(false);
  });
});

// ---- AssessIndicators -----------------------------------------------------------------------------------

describe('AssessIndicators', () => {
  it('records the assessment by a caseworker with the assessing agency and time', () => {
    given(HISTORY.reported).when(assess()).then([assessed]);
  });

  it('lets a decision-maker re-assess indicators already assessed', () => {
    given(HISTORY['indicators-assessed'])
      .when(assess({ outcome: 'insufficient-indicators', indicatorsConfirmed: [] }, POLICE_DECIDER))
      .then([
        {
          type: 'IndicatorsAssessed',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            outcome: 'insufficient-indicators',
            indicatorsConfirmed: [],
            exploitationForms: ['labour', 'domestic-servitude'],
            assessedByAgencyId: 'police-north',
            assessedAt: LATER,
          },
        },
      ]);
  });

  it('answers not found when nothing has been reported', () => {
    given([]).when(assess()).thenThrows('CASE.NOT_FOUND', 'not-found', 'caseId');
  });

  it('refuses a principal who is neither caseworker nor decision-maker', () => {
    given(HISTORY.reported)
      .when(assess({}, actor('national-coordinator', ['coordinator', 'break-glass'])))
      .thenThrows('IDENTIFICATION.ROLE_REQUIRED', 'forbidden');
  });

  it('refuses an assessment for a different case', () => {
    given(HISTORY.reported)
      .when(assess({ caseId: 'case-other' }))
      .thenThrows('IDENTIFICATION.CASE_MISMATCH', 'rule', 'caseId');
  });

  it.each([
    'reasonable-grounds-positive',
    'reasonable-grounds-negative',
    'conclusive-grounds-positive',
    'conclusive-grounds-negative',
  ] as const)('refuses an assessment once grounds are decided (%s)', (status) => {
    given(HISTORY[status]).when(assess()).thenThrows('IDENTIFICATION.GROUNDS_ALREADY_DECIDED', 'conflict');
  });

  it('refuses an outcome that is not on the list', () => {
    given(HISTORY.reported)
      .when(assess({ outcome: 'maybe' as 'indicators-present' }))
      .thenThrows('IDENTIFICATION.INVALID_OUTCOME', 'rule', 'outcome');
  });

  it('requires confirmed indicators when indicators are present', () => {
    given(HISTORY.reported)
      .when(assess({ indicatorsConfirmed: [] }))
      .thenThrows('IDENTIFICATION.INDICATORS_REQUIRED', 'rule', 'indicatorsConfirmed');
  });

  it('refuses a confirmed indicator code that is not on the list, naming the item', () => {
    given(HISTORY.reported)
      .when(assess({ indicatorsConfirmed: ['debt-bondage', 'withheld-documents', 'victim-ysmay-tolberrow'] }))
      .thenThrows('IDENTIFICATION.UNKNOWN_INDICATOR', 'invalid', 'indicatorsConfirmed[2]');
  });

  it('assesses a case whose report holds a code the list lacks (recorded before it)', () => {
    given([reported({ indicators: ['IND-LEGACY-7', 'debt-bondage'] })])
      .when(assess())
      .then([assessed]);
  });

  it('refuses a confirmed indicator that is not a code', () => {
    given(HISTORY.reported)
      .when(assess({ indicatorsConfirmed: ['she said she was afraid'] }))
      .thenThrows('IDENTIFICATION.INVALID_INDICATOR', 'rule', 'indicatorsConfirmed');
  });

  it('refuses more than 50 confirmed indicators', () => {
    const indicatorsConfirmed = Array.from({ length: MAX_INDICATORS + 1 }, (_, i) => `IND-${i}`);
    given(HISTORY.reported)
      .when(assess({ indicatorsConfirmed }))
      .thenThrows('IDENTIFICATION.TOO_MANY_INDICATORS', 'rule', 'indicatorsConfirmed');
  });

  it('refuses an exploitation form that is not on the list', () => {
    given(HISTORY.reported)
      .when(assess({ exploitationForms: ['smuggling' as 'labour'] }))
      .thenThrows('IDENTIFICATION.UNKNOWN_EXPLOITATION_FORM', 'rule', 'exploitationForms');
  });
});

// ---- DecideReasonableGrounds ----------------------------------------------------------------------------

describe('DecideReasonableGrounds', () => {
  it('a positive decision entitles the person to a reflection period', () => {
    given(HISTORY['indicators-assessed'])
      .when(decideRG('positive'))
      .then([rgDecided('positive')]);
  });

  it('a negative decision does not', () => {
    given(HISTORY['indicators-assessed'])
      .when(decideRG('negative'))
      .then([rgDecided('negative')]);
  });

  it('can be decided by every competent kind of the default policy', () => {
    for (const kind of DEFAULT_IDENTIFICATION_POLICY.competentKinds) {
      const events = identificationDecider().decide(
        decideRG('positive', actor(kind, ['decision-maker'], 'competent-1')),
        stateAfter(HISTORY['indicators-assessed']),
      );
      expect(events).toHaveLength(1);
    }
    expect([...DEFAULT_IDENTIFICATION_POLICY.competentKinds].sort()).toEqual([
      'asylum-authority',
      'law-enforcement',
      'national-coordinator',
    ]);
  });

  it('refuses a decision before the indicators are assessed', () => {
    given(HISTORY.reported)
      .when(decideRG('positive'))
      .thenThrows('IDENTIFICATION.INDICATORS_NOT_ASSESSED', 'conflict');
  });

  it.each([
    'reasonable-grounds-positive',
    'reasonable-grounds-negative',
    'conclusive-grounds-positive',
    'conclusive-grounds-negative',
  ] as const)('refuses a second decision (%s)', (status) => {
    given(HISTORY[status])
      .when(decideRG('positive'))
      .thenThrows('IDENTIFICATION.REASONABLE_GROUNDS_ALREADY_DECIDED', 'conflict');
  });

  it('answers not found when nothing has been reported', () => {
    given([]).when(decideRG('positive')).thenThrows('CASE.NOT_FOUND', 'not-found', 'caseId');
  });

  it('refuses a decision about a different case', () => {
    given(HISTORY['indicators-assessed'])
      .when(decideRG('positive', POLICE_DECIDER, 'case-other'))
      .thenThrows('IDENTIFICATION.CASE_MISMATCH', 'rule', 'caseId');
  });

  it('refuses a competent agency principal without the decision-maker role', () => {
    given(HISTORY['indicators-assessed'])
      .when(decideRG('positive', actor('law-enforcement', ['caseworker'])))
      .thenThrows('IDENTIFICATION.NOT_COMPETENT', 'forbidden');
  });

  it('refuses a decision-maker of an agency kind that is not competent', () => {
    given(HISTORY['indicators-assessed'])
      .when(decideRG('positive', actor('ngo', ['decision-maker', 'caseworker'])))
      .thenThrows('IDENTIFICATION.NOT_COMPETENT', 'forbidden');
  });

  it('refuses an incompetent principal before saying whether the case exists', () => {
    given([])
      .when(decideRG('positive', actor('health', ['caseworker'])))
      .thenThrows('IDENTIFICATION.NOT_COMPETENT', 'forbidden');
  });

  it('follows the country policy on which kinds are competent', () => {
    const policy = { competentKinds: ['labour-inspectorate'] as AgencyKind[] };
    const decider = identificationDecider(policy);
    const inspector = actor('labour-inspectorate', ['decision-maker'], 'inspectorate');
    given(HISTORY['indicators-assessed'], decider)
      .when(decideRG('negative', inspector))
      .then([rgDecided('negative', { decidedByAgencyId: 'inspectorate' })]);
    given(HISTORY['indicators-assessed'], decider)
      .when(decideRG('positive'))
      .thenThrows('IDENTIFICATION.NOT_COMPETENT', 'forbidden');
    // The decider keeps the policy it was made with.
    policy.competentKinds.push('law-enforcement');
    given(HISTORY['indicators-assessed'], decider)
      .when(decideRG('positive'))
      .thenThrows('IDENTIFICATION.NOT_COMPETENT', 'forbidden');
  });

  it('refuses an outcome that is not positive or negative', () => {
    given(HISTORY['indicators-assessed'])
      .when(decideRG('unsure' as 'positive'))
      .thenThrows('IDENTIFICATION.INVALID_OUTCOME', 'rule', 'outcome');
  });
});

// ---- DecideConclusiveGrounds ----------------------------------------------------------------------------

describe('DecideConclusiveGrounds', () => {
  it.each(['positive', 'negative'] as const)(
    'records a %s decision after positive reasonable grounds',
    (o) => {
      given(HISTORY['reasonable-grounds-positive'])
        .when(decideCG(o))
        .then([cgDecided(o)]);
    },
  );

  it.each(['reported', 'indicators-assessed'] as const)(
    'refuses a decision before reasonable grounds are decided (%s)',
    (status) => {
      given(HISTORY[status])
        .when(decideCG('positive'))
        .thenThrows('IDENTIFICATION.REASONABLE_GROUNDS_NOT_DECIDED', 'conflict');
    },
  );

  it('refuses a decision after negative reasonable grounds', () => {
    given(HISTORY['reasonable-grounds-negative'])
      .when(decideCG('positive'))
      .thenThrows('IDENTIFICATION.REASONABLE_GROUNDS_NEGATIVE', 'conflict');
  });

  it.each(['conclusive-grounds-positive', 'conclusive-grounds-negative'] as const)(
    'refuses a second conclusive decision (%s)',
    (status) => {
      given(HISTORY[status])
        .when(decideCG('positive'))
        .thenThrows('IDENTIFICATION.CONCLUSIVE_GROUNDS_ALREADY_DECIDED', 'conflict');
    },
  );

  it('answers not found when nothing has been reported', () => {
    given([]).when(decideCG('positive')).thenThrows('CASE.NOT_FOUND', 'not-found', 'caseId');
  });

  it('refuses a decision about a different case', () => {
    given(HISTORY['reasonable-grounds-positive'])
      .when(decideCG('positive', POLICE_DECIDER, 'case-other'))
      .thenThrows('IDENTIFICATION.CASE_MISMATCH', 'rule', 'caseId');
  });

  it.each([
    ['shelter', ['decision-maker']],
    ['asylum-authority', ['caseworker', 'coordinator']],
  ] as const)('refuses a principal who is not competent (%s, %j)', (kind, roles) => {
    given(HISTORY['reasonable-grounds-positive'])
      .when(decideCG('positive', actor(kind, roles)))
      .thenThrows('IDENTIFICATION.NOT_COMPETENT', 'forbidden');
  });

  it('refuses an outcome that is not positive or negative', () => {
    given(HISTORY['reasonable-grounds-positive'])
      .when(decideCG('' as 'positive'))
      .thenThrows('IDENTIFICATION.INVALID_OUTCOME', 'rule', 'outcome');
  });
});

// ---- ReconsiderIdentification ---------------------------------------------------------------------------

describe('ReconsiderIdentification', () => {
  it('reconsiders a negative reasonable-grounds decision', () => {
    given(HISTORY['reasonable-grounds-negative'])
      .when(reconsider('appeal'))
      .then([reconsidered('reasonable-grounds-negative', 'appeal')]);
  });

  it('reconsiders a negative conclusive-grounds decision', () => {
    given(HISTORY['conclusive-grounds-negative'])
      .when(reconsider('procedural-error'))
      .then([reconsidered('conclusive-grounds-negative', 'procedural-error')]);
  });

  it.each([
    'reported',
    'indicators-assessed',
    'reasonable-grounds-positive',
    'conclusive-grounds-positive',
  ] as const)('refuses when no negative decision stands (%s)', (status) => {
    given(HISTORY[status]).when(reconsider()).thenThrows('IDENTIFICATION.NO_NEGATIVE_DECISION', 'conflict');
  });

  it('answers not found when nothing has been reported', () => {
    given([]).when(reconsider()).thenThrows('CASE.NOT_FOUND', 'not-found', 'caseId');
  });

  it('refuses a reconsideration of a different case', () => {
    given(HISTORY['reasonable-grounds-negative'])
      .when(reconsider('appeal', POLICE_DECIDER, 'case-other'))
      .thenThrows('IDENTIFICATION.CASE_MISMATCH', 'rule', 'caseId');
  });

  it('refuses a principal who is not competent', () => {
    given(HISTORY['reasonable-grounds-negative'])
      .when(reconsider('appeal', actor('ngo', ['caseworker'])))
      .thenThrows('IDENTIFICATION.NOT_COMPETENT', 'forbidden');
  });

  it('refuses a reason that is not on the list', () => {
    given(HISTORY['reasonable-grounds-negative'])
      .when(reconsider('changed-my-mind' as 'appeal'))
      .thenThrows('IDENTIFICATION.INVALID_REASON', 'rule', 'reason');
  });

  it('returns the case for a new reasonable-grounds decision', () => {
    given([...HISTORY['conclusive-grounds-negative'], reconsidered('conclusive-grounds-negative')])
      .when(decideRG('positive', POLICE_DECIDER, CASE, LATEST))
      .then([rgDecided('positive', { decidedAt: LATEST })]);
  });
});

// ---- state and queries ----------------------------------------------------------------------------------

describe('the case through its whole lifecycle', () => {
  it('goes from report to a positive conclusive decision, each step decided on the state so far', () => {
    const decider = identificationDecider();
    const commands: IdentificationCommand[] = [
      report({ minor: true }),
      assess(),
      decideRG('positive'),
      decideCG('positive'),
    ];
    const statuses: string[] = [];
    let state = decider.initialState();
    for (const command of commands) {
      for (const event of decider.decide(command, state)) state = decider.evolve(state, event);
      statuses.push(state.status);
    }
    expect(statuses).toEqual([
      'reported',
      'indicators-assessed',
      'reasonable-grounds-positive',
      'conclusive-grounds-positive',
    ]);
    expect(state).toEqual({
      status: 'conclusive-grounds-positive',
      caseId: CASE,
      subjectId: 'subj-91c2',
      minor: true,
      reportedByAgencyId: 'ngo-amelie',
      reportedByAgencyKind: 'ngo',
      region: 'NL-NH',
      exploitationForms: ['labour', 'domestic-servitude'],
      reportedAt: NOW,
      indicatorsOutcome: 'indicators-present',
      indicatorsAssessedAt: LATER,
      reasonableGroundsDecidedAt: LATER,
      conclusiveGroundsDecidedAt: LATEST,
    });
    expect(isReported(state)).toBe(true);
    expect(isMinor(state)).toBe(true);
    expect(reasonableGroundsPositive(state)).toBe(true);
    expect(reportingAgency(state)).toEqual({ agencyId: 'ngo-amelie', agencyKind: 'ngo' });
  });

  it('after reconsideration the earlier decisions no longer stand', () => {
    const state = stateAfter([
      ...HISTORY['conclusive-grounds-negative'],
      reconsidered('conclusive-grounds-negative'),
    ]);
    expect(state).toEqual({
      status: 'indicators-assessed',
      caseId: CASE,
      subjectId: 'subj-91c2',
      minor: false,
      reportedByAgencyId: 'ngo-amelie',
      reportedByAgencyKind: 'ngo',
      region: 'NL-NH',
      exploitationForms: ['labour', 'domestic-servitude'],
      reportedAt: NOW,
      indicatorsOutcome: 'indicators-present',
      indicatorsAssessedAt: LATER,
      reconsideredAt: LATEST,
    });
    expect(reasonableGroundsPositive(state)).toBe(false);
  });

  it('ignores an event that does not fit the status, so the minor flag never changes', () => {
    const state = stateAfter([
      reported({ minor: true }),
      assessed,
      reported({ minor: false }),
      cgDecided('negative'),
    ]);
    expect(state.status).toBe('indicators-assessed');
    expect(isMinor(state)).toBe(true);
  });
});

describe('queries', () => {
  it('say nothing is known before a report', () => {
    const none = stateAfter([]);
    expect(isReported(none)).toBe(false);
    expect(isMinor(none)).toBe(false);
    expect(reasonableGroundsPositive(none)).toBe(false);
    expect(reportingAgency(none)).toBeUndefined();
  });

  it('tell an adult case from a child case', () => {
    expect(isMinor(stateAfter([reported({ minor: false })]))).toBe(false);
    expect(isMinor(stateAfter([reported({ minor: true })]))).toBe(true);
  });

  it.each([
    ['reported', false],
    ['indicators-assessed', false],
    ['reasonable-grounds-positive', true],
    ['reasonable-grounds-negative', false],
    ['conclusive-grounds-positive', true],
    ['conclusive-grounds-negative', true],
  ] as const)('reasonableGroundsPositive in %s is %s', (status, expected) => {
    const state = stateAfter(HISTORY[status]);
    expect(state.status).toBe(status);
    expect(reasonableGroundsPositive(state)).toBe(expected);
  });
});

describe('public surface', () => {
  it('names one stream per case', () => {
    expect(identificationStream('case-42')).toBe('identification-case-42');
  });

  it('lists every event type', () => {
    expect([...IDENTIFICATION_EVENT_TYPES]).toEqual([
      'PotentialVictimReported',
      'IndicatorsAssessed',
      'ReasonableGroundsDecided',
      'ConclusiveGroundsDecided',
      'IdentificationReconsidered',
      'CompetentAuthorityDesignated',
    ]);
  });
});

describe('DesignateCompetentAuthority', () => {
  const COORDINATOR = actor('national-coordinator', ['coordinator'], 'nc-office');
  const HOME_POLICE: RegisteredAgency = { kind: 'law-enforcement', country: 'NL', disabled: false };
  const designate = (
    data: Partial<DesignateCompetentAuthority['data']> = {},
    by: Actor = COORDINATOR,
    now = LATER,
  ): DesignateCompetentAuthority => ({
    type: 'DesignateCompetentAuthority',
    data: {
      caseId: CASE,
      authorityId: 'police-south',
      reason: 'no-authority-seized',
      authority: HOME_POLICE,
      ownCountry: 'NL',
      ...data,
    },
    metadata: { actor: by, now },
  });
  const designated = (authorityId = 'police-south'): IdentificationEvent => ({
    type: 'CompetentAuthorityDesignated',
    schemaVersion: 1,
    data: {
      caseId: CASE,
      authorityId,
      authorityKind: 'law-enforcement',
      reason: 'no-authority-seized',
      designatedByAgencyId: 'nc-office',
      designatedByPrincipalId: 'p-nc-office',
      designatedAt: LATER,
    },
  });

  it('records the designation by the coordinator, with who, whom, why and when', () => {
    given([reported()]).when(designate()).then([designated()]);
  });

  it('leaves the reason out when none is given', () => {
    const { reason: _reason, ...data } = designate().data;
    const events = identificationDecider().decide(
      { ...designate(), data },
      stateAfter([reported(), assessed]),
    );
    expect(events).toHaveLength(1);
    expect('reason' in events[0]!.data).toBe(false);
  });

  it.each(Object.keys(HISTORY).filter((s) => s !== 'none'))(
    'is possible in status %s, and leaves the status as it was',
    (status) => {
      const history = HISTORY[status as keyof typeof HISTORY];
      const before = stateAfter(history);
      const after = stateAfter([...history, designated()]);
      expect(after.status).toBe(before.status);
      expect(isReported(after) && after.designatedAuthorityIds).toEqual(['police-south']);
    },
  );

  it('keeps the designations through a decision and a reconsideration', () => {
    const state = stateAfter([
      reported(),
      designated(),
      assessed,
      rgDecided('negative'),
      reconsidered('reasonable-grounds-negative'),
      designated('asylum-office'),
    ]);
    expect(isReported(state) && state.designatedAuthorityIds).toEqual(['police-south', 'asylum-office']);
  });

  it('records nothing when the same authority is designated again (idempotent)', () => {
    given([reported(), designated()]).when(designate()).then([]);
  });

  it('records another authority designated after the first', () => {
    given([reported(), designated()])
      .when(
        designate({ authorityId: 'asylum-office', authority: { ...HOME_POLICE, kind: 'asylum-authority' } }),
      )
      .then([
        {
          ...designated('asylum-office'),
          data: { ...designated('asylum-office').data, authorityKind: 'asylum-authority' },
        } as IdentificationEvent,
      ]);
  });

  it.each([
    ['a police decision-maker', POLICE_DECIDER],
    ['an NGO caseworker', NGO_CASEWORKER],
    ['a caseworker of the coordinator', actor('national-coordinator', ['caseworker'], 'nc-office')],
    ['a coordinator role at another kind', actor('ngo', ['coordinator'], 'ngo-amelie')],
  ])('refuses %s', (_label, by) => {
    given([reported()]).when(designate({}, by)).thenThrows('IDENTIFICATION.COORDINATOR_ONLY', 'forbidden');
  });

  it('answers not found for a case never reported', () => {
    given([]).when(designate()).thenThrows('CASE.NOT_FOUND', 'not-found', 'caseId');
  });

  it.each([
    ['an unknown agency', { authority: undefined }, 'AGENCY.UNKNOWN'],
    [
      'a foreign contact point',
      { authority: { kind: 'foreign-nrm', country: 'RO', disabled: false } },
      'IDENTIFICATION.AUTHORITY_FOREIGN',
    ],
    [
      'a competent kind registered in another country',
      { authority: { ...HOME_POLICE, country: 'DE' } },
      'IDENTIFICATION.AUTHORITY_FOREIGN',
    ],
    [
      'an agency of a kind not competent',
      { authority: { kind: 'ngo', country: 'NL', disabled: false } },
      'IDENTIFICATION.AUTHORITY_NOT_COMPETENT',
    ],
    [
      'a switched-off authority',
      { authority: { ...HOME_POLICE, disabled: true } },
      'IDENTIFICATION.AUTHORITY_DISABLED',
    ],
    [
      'the coordinator itself',
      {
        authorityId: 'nc-office',
        authority: { kind: 'national-coordinator', country: 'NL', disabled: false },
      },
      'IDENTIFICATION.SELF_DESIGNATION',
    ],
  ] as const)('refuses to designate %s, naming authorityId', (_label, data, code) => {
    given([reported()]).when(designate(data)).thenThrows(code, 'rule', 'authorityId');
  });

  it('refuses a reason not on the list', () => {
    given([reported()])
      .when(designate({ reason: 'favour' as DesignationReason }))
      .thenThrows('IDENTIFICATION.INVALID_REASON', 'rule', 'reason');
  });

  it('judges competence by the policy in force', () => {
    given([reported()], identificationDecider({ competentKinds: ['asylum-authority'] }))
      .when(designate())
      .thenThrows('IDENTIFICATION.AUTHORITY_NOT_COMPETENT', 'rule', 'authorityId');
  });

  it('refuses a designation on another case than its stream', () => {
    given([reported()])
      .when(designate({ caseId: 'case-other' }))
      .thenThrows('IDENTIFICATION.CASE_MISMATCH', 'rule', 'caseId');
  });
});
