import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AGENCY_KINDS,
  DomainError,
  EXPLOITATION_FORMS,
  fold,
  ROLES,
  type AgencyKind,
  type CommandMetadata,
  type DomainErrorKind,
  type ExploitationForm,
  type Role,
} from '@nrm/shared-kernel';
import {
  DEFAULT_IDENTIFICATION_POLICY,
  DESIGNATION_REASONS,
  IDENTIFICATION_EVENT_TYPES,
  identificationDecider,
  type DesignationReason,
  type IdentificationCommand,
  type IdentificationDecider,
  type IdentificationEvent,
  type IdentificationPolicy,
  type IdentificationState,
} from './index';

type Status = IdentificationState['status'];
type CommandType = IdentificationCommand['type'];

// ---- an independent model: plain tables, no code shared with the decider ---------------------------------

/** Where each command may start from, and where it leads. */
const TRANSITIONS: Record<
  CommandType,
  Partial<Record<Status, (command: IdentificationCommand) => Status>>
> = {
  ReportPotentialVictim: { none: () => 'reported' },
  AssessIndicators: {
    reported: () => 'indicators-assessed',
    'indicators-assessed': () => 'indicators-assessed',
  },
  DecideReasonableGrounds: {
    'indicators-assessed': (c) =>
      outcomeOf(c) === 'positive' ? 'reasonable-grounds-positive' : 'reasonable-grounds-negative',
  },
  DecideConclusiveGrounds: {
    'reasonable-grounds-positive': (c) =>
      outcomeOf(c) === 'positive' ? 'conclusive-grounds-positive' : 'conclusive-grounds-negative',
  },
  ReconsiderIdentification: {
    'reasonable-grounds-negative': () => 'indicators-assessed',
    'conclusive-grounds-negative': () => 'indicators-assessed',
  },
  // A designation changes who is seized of the case, never its status.
  DesignateCompetentAuthority: Object.fromEntries(STATUSES_EXCEPT('none').map((s) => [s, () => s])),
};

/** The conflict a command meets in each reported status it may not start from. */
const CONFLICTS: Record<CommandType, Partial<Record<Status, string>>> = {
  ReportPotentialVictim: Object.fromEntries(
    STATUSES_EXCEPT('none').map((s) => [s, 'IDENTIFICATION.ALREADY_REPORTED']),
  ),
  AssessIndicators: Object.fromEntries(
    STATUSES_EXCEPT('none', 'reported', 'indicators-assessed').map((s) => [
      s,
      'IDENTIFICATION.GROUNDS_ALREADY_DECIDED',
    ]),
  ),
  DecideReasonableGrounds: {
    reported: 'IDENTIFICATION.INDICATORS_NOT_ASSESSED',
    'reasonable-grounds-positive': 'IDENTIFICATION.REASONABLE_GROUNDS_ALREADY_DECIDED',
    'reasonable-grounds-negative': 'IDENTIFICATION.REASONABLE_GROUNDS_ALREADY_DECIDED',
    'conclusive-grounds-positive': 'IDENTIFICATION.REASONABLE_GROUNDS_ALREADY_DECIDED',
    'conclusive-grounds-negative': 'IDENTIFICATION.REASONABLE_GROUNDS_ALREADY_DECIDED',
  },
  DecideConclusiveGrounds: {
    reported: 'IDENTIFICATION.REASONABLE_GROUNDS_NOT_DECIDED',
    'indicators-assessed': 'IDENTIFICATION.REASONABLE_GROUNDS_NOT_DECIDED',
    'reasonable-grounds-negative': 'IDENTIFICATION.REASONABLE_GROUNDS_NEGATIVE',
    'conclusive-grounds-positive': 'IDENTIFICATION.CONCLUSIVE_GROUNDS_ALREADY_DECIDED',
    'conclusive-grounds-negative': 'IDENTIFICATION.CONCLUSIVE_GROUNDS_ALREADY_DECIDED',
  },
  ReconsiderIdentification: {
    reported: 'IDENTIFICATION.NO_NEGATIVE_DECISION',
    'indicators-assessed': 'IDENTIFICATION.NO_NEGATIVE_DECISION',
    'reasonable-grounds-positive': 'IDENTIFICATION.NO_NEGATIVE_DECISION',
    'conclusive-grounds-positive': 'IDENTIFICATION.NO_NEGATIVE_DECISION',
  },
  DesignateCompetentAuthority: {},
};

function STATUSES_EXCEPT(...excluded: Status[]): Status[] {
  const all: Status[] = [
    'none',
    'reported',
    'indicators-assessed',
    'reasonable-grounds-positive',
    'reasonable-grounds-negative',
    'conclusive-grounds-positive',
    'conclusive-grounds-negative',
  ];
  return all.filter((s) => !excluded.includes(s));
}

/** Every status change an event may cause, written as pairs (a second view of the lifecycle). */
const ALLOWED_CHANGES = new Set([
  'none>reported',
  'reported>indicators-assessed',
  'indicators-assessed>indicators-assessed',
  'indicators-assessed>reasonable-grounds-positive',
  'indicators-assessed>reasonable-grounds-negative',
  'reasonable-grounds-positive>conclusive-grounds-positive',
  'reasonable-grounds-positive>conclusive-grounds-negative',
  'reasonable-grounds-negative>indicators-assessed',
  'conclusive-grounds-negative>indicators-assessed',
]);

const DECISION_EVENTS = new Set([
  'ReasonableGroundsDecided',
  'ConclusiveGroundsDecided',
  'IdentificationReconsidered',
]);

// Value pools: the model knows which are bad by membership, not by re-implementing the checks.
const GOOD_CODES = ['debt-bondage', 'withheld-documents', 'deceived-about-job', 'no-rest-days'];
const BAD_CODES = ['', '  ', 'was crying at the border', '-starts-with-dash'];
const GOOD_REGIONS = ['NL-NH', 'ES51', 'DE-BY'];
const BAD_REGIONS = ['', 'Main Street 1, Utrecht'];
const GOOD_TIMES_FROM = Date.parse('2020-01-01T00:00:00Z');
const BAD_TIMES = ['', 'yesterday', '2025-03-01', '01/03/2025 10:00'];
const BAD_FORM = 'pickpocketing' as ExploitationForm;

interface Model {
  readonly status: Status;
  readonly caseId?: string;
  /** Authorities designated so far: designating one again records nothing. */
  readonly designated: readonly string[];
}

/** The ledger's own country in these runs; an authority elsewhere is foreign. */
const OWN_COUNTRY = 'NL';

type Expected =
  | { readonly ok: true; readonly next: Status; readonly events: 0 | 1 }
  | { readonly ok: false; readonly code: string; readonly kind: DomainErrorKind };

const refuse = (kind: DomainErrorKind, code: string): Expected => ({ ok: false, kind, code });

function outcomeOf(command: IdentificationCommand): string {
  return 'outcome' in command.data ? command.data.outcome : '';
}

function badIndicators(codes: readonly string[], required: boolean): string | undefined {
  if (required && codes.length === 0) return 'IDENTIFICATION.INDICATORS_REQUIRED';
  if (codes.length > 50) return 'IDENTIFICATION.TOO_MANY_INDICATORS';
  if (codes.some((c) => BAD_CODES.includes(c))) return 'IDENTIFICATION.INVALID_INDICATOR';
  return undefined;
}

function modelDecide(
  model: Model,
  command: IdentificationCommand,
  competent: readonly AgencyKind[],
): Expected {
  const { actor, now } = command.metadata;
  if (BAD_TIMES.includes(now)) return refuse('rule', 'IDENTIFICATION.INVALID_TIME');
  const isDecision = !['ReportPotentialVictim', 'AssessIndicators', 'DesignateCompetentAuthority'].includes(
    command.type,
  );
  if (command.type === 'DesignateCompetentAuthority') {
    if (actor.agencyKind !== 'national-coordinator' || !actor.roles.includes('coordinator'))
      return refuse('forbidden', 'IDENTIFICATION.COORDINATOR_ONLY');
  } else if (command.type === 'ReportPotentialVictim') {
    if (!actor.roles.includes('caseworker')) return refuse('forbidden', 'IDENTIFICATION.ROLE_REQUIRED');
    if (actor.agencyKind === 'oversight-body')
      return refuse('forbidden', 'IDENTIFICATION.AGENCY_MAY_NOT_REPORT');
  } else if (command.type === 'AssessIndicators') {
    if (!actor.roles.includes('caseworker') && !actor.roles.includes('decision-maker')) {
      return refuse('forbidden', 'IDENTIFICATION.ROLE_REQUIRED');
    }
  } else if (
    isDecision &&
    !(competent.includes(actor.agencyKind) && actor.roles.includes('decision-maker'))
  ) {
    return refuse('forbidden', 'IDENTIFICATION.NOT_COMPETENT');
  }
  if (model.status === 'none' && command.type !== 'ReportPotentialVictim') {
    return refuse('not-found', 'CASE.NOT_FOUND');
  }
  if (model.status !== 'none' && command.data.caseId !== model.caseId) {
    return refuse('rule', 'IDENTIFICATION.CASE_MISMATCH');
  }
  const conflictCode = CONFLICTS[command.type][model.status];
  if (conflictCode) return refuse('conflict', conflictCode);
  const to = TRANSITIONS[command.type][model.status];
  if (!to) throw new Error(`model has no row for ${command.type} in ${model.status}`);

  const dataError = modelDataError(command, competent);
  if (dataError) return refuse('rule', dataError);
  const repeat =
    command.type === 'DesignateCompetentAuthority' && model.designated.includes(command.data.authorityId);
  return { ok: true, next: to(command), events: repeat ? 0 : 1 };
}

function modelDataError(
  command: IdentificationCommand,
  competent: readonly AgencyKind[],
): string | undefined {
  switch (command.type) {
    case 'ReportPotentialVictim': {
      const d = command.data;
      if (d.caseId.trim() === '') return 'IDENTIFICATION.CASE_ID_REQUIRED';
      if (d.subjectId === '') return 'IDENTIFICATION.SUBJECT_ID_REQUIRED';
      const bad = badIndicators(d.indicators, true);
      if (bad) return bad;
      if (d.exploitationForms.includes(BAD_FORM)) return 'IDENTIFICATION.UNKNOWN_EXPLOITATION_FORM';
      if (BAD_REGIONS.includes(d.region)) return 'IDENTIFICATION.INVALID_REGION';
      return undefined;
    }
    case 'AssessIndicators': {
      const d = command.data;
      if (d.outcome !== 'indicators-present' && d.outcome !== 'insufficient-indicators') {
        return 'IDENTIFICATION.INVALID_OUTCOME';
      }
      const bad = badIndicators(d.indicatorsConfirmed, d.outcome === 'indicators-present');
      if (bad) return bad;
      if (d.exploitationForms.includes(BAD_FORM)) return 'IDENTIFICATION.UNKNOWN_EXPLOITATION_FORM';
      return undefined;
    }
    case 'DecideReasonableGrounds':
    case 'DecideConclusiveGrounds':
      return ['positive', 'negative'].includes(command.data.outcome)
        ? undefined
        : 'IDENTIFICATION.INVALID_OUTCOME';
    case 'ReconsiderIdentification':
      return ['new-evidence', 'procedural-error', 'appeal'].includes(command.data.reason)
        ? undefined
        : 'IDENTIFICATION.INVALID_REASON';
    case 'DesignateCompetentAuthority': {
      const { authority, authorityId, reason } = command.data;
      if (authority === undefined) return 'AGENCY.UNKNOWN';
      if (authority.kind === 'foreign-nrm' || authority.country !== OWN_COUNTRY)
        return 'IDENTIFICATION.AUTHORITY_FOREIGN';
      if (!competent.includes(authority.kind)) return 'IDENTIFICATION.AUTHORITY_NOT_COMPETENT';
      if (authority.disabled) return 'IDENTIFICATION.AUTHORITY_DISABLED';
      if (authorityId === command.metadata.actor.agencyId) return 'IDENTIFICATION.SELF_DESIGNATION';
      if (reason === ('whim' as typeof reason)) return 'IDENTIFICATION.INVALID_REASON';
      return undefined;
    }
  }
}

// ---- arbitraries ----------------------------------------------------------------------------------------

const timeArb = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .integer({ min: 0, max: 5 * 365 * 86_400 })
      .map((s) => new Date(GOOD_TIMES_FROM + s * 1000).toISOString()),
  },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_TIMES) },
);

/** Principals: often competent under the policy in force, so that random runs reach the later statuses. */
const actorArb = (policy: IdentificationPolicy) =>
  fc
    .oneof(
      {
        weight: policy.competentKinds.length > 0 ? 8 : 0,
        arbitrary: fc.record({
          agencyKind: fc.constantFrom(
            ...(policy.competentKinds.length > 0 ? policy.competentKinds : AGENCY_KINDS),
          ),
          roles: fc.constantFrom<Role[]>(['decision-maker'], ['decision-maker', 'caseworker']),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          agencyKind: fc.constantFrom<AgencyKind>('ngo', 'health'),
          roles: fc.constant<Role[]>(['caseworker']),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          agencyKind: fc.constant<AgencyKind>('national-coordinator'),
          roles: fc.constant<Role[]>(['coordinator']),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          agencyKind: fc.constantFrom(...AGENCY_KINDS),
          roles: fc.subarray([...ROLES]),
        }),
      },
    )
    .chain(({ agencyKind, roles }) =>
      fc.constantFrom('agency-a', 'agency-b').map((agencyId) => ({
        principalId: `p-${agencyId}`,
        agencyId,
        agencyKind,
        roles,
      })),
    );

const rare = <T>(good: fc.Arbitrary<T>, bad: T) =>
  fc.oneof({ weight: 15, arbitrary: good }, { weight: 1, arbitrary: fc.constant(bad) });

const caseIdArb = fc.oneof(
  { weight: 16, arbitrary: fc.constant('case-1') },
  { weight: 1, arbitrary: fc.constant('case-2') },
  { weight: 1, arbitrary: fc.constantFrom('', ' ') },
);
const codesArb = (minLength: number) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.array(fc.constantFrom(...GOOD_CODES), { minLength, maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...GOOD_CODES, ...BAD_CODES), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constant(Array.from({ length: 51 }, (_, i) => `IND-${i}`)) },
  );
const formsArb = rare(fc.subarray([...EXPLOITATION_FORMS]), [BAD_FORM]);
const regionArb = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...GOOD_REGIONS) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_REGIONS) },
);
const groundsOutcomeArb = rare(
  fc.constantFrom('positive' as const, 'negative' as const),
  'unsure' as 'positive',
);
const indicatorsOutcomeArb = rare(
  fc.constantFrom('indicators-present' as const, 'insufficient-indicators' as const),
  'maybe' as 'indicators-present',
);
const reasonArb = rare(
  fc.constantFrom('new-evidence' as const, 'procedural-error' as const, 'appeal' as const),
  'whim' as 'appeal',
);

/** The registry's record of the agency named: mostly competent at home and active, sometimes not. */
const authorityArb = (policy: IdentificationPolicy) =>
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constantFrom(...(policy.competentKinds.length > 0 ? policy.competentKinds : AGENCY_KINDS)),
        country: fc.constant(OWN_COUNTRY),
        disabled: fc.constant(false),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constantFrom(...AGENCY_KINDS),
        country: fc.constantFrom(OWN_COUNTRY, 'DE'),
        disabled: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
const designationReasonArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...DESIGNATION_REASONS) },
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constant('whim' as DesignationReason) },
);

const commandArb = (policy: IdentificationPolicy): fc.Arbitrary<IdentificationCommand> => {
  const metadata: fc.Arbitrary<CommandMetadata> = fc.record({ actor: actorArb(policy), now: timeArb });
  return fc.oneof(
    fc.record({
      type: fc.constant('ReportPotentialVictim' as const),
      data: fc.record({
        caseId: caseIdArb,
        subjectId: rare(fc.constantFrom('subj-1', 'subj-2'), ''),
        indicators: codesArb(1),
        exploitationForms: formsArb,
        minor: fc.boolean(),
        region: regionArb,
      }),
      metadata,
    }),
    fc.record({
      type: fc.constant('AssessIndicators' as const),
      data: fc.record({
        caseId: caseIdArb,
        outcome: indicatorsOutcomeArb,
        indicatorsConfirmed: codesArb(0),
        exploitationForms: formsArb,
      }),
      metadata,
    }),
    fc.record({
      type: fc.constant('DecideReasonableGrounds' as const),
      data: fc.record({ caseId: caseIdArb, outcome: groundsOutcomeArb }),
      metadata,
    }),
    fc.record({
      type: fc.constant('DecideConclusiveGrounds' as const),
      data: fc.record({ caseId: caseIdArb, outcome: groundsOutcomeArb }),
      metadata,
    }),
    fc.record({
      type: fc.constant('ReconsiderIdentification' as const),
      data: fc.record({ caseId: caseIdArb, reason: reasonArb }),
      metadata,
    }),
    fc.record({
      type: fc.constant('DesignateCompetentAuthority' as const),
      data: fc
        .record({
          caseId: caseIdArb,
          authorityId: fc.constantFrom('authority-x', 'authority-y', 'agency-a'),
          reason: designationReasonArb,
          authority: authorityArb(policy),
          ownCountry: fc.constant(OWN_COUNTRY),
        })
        .map(({ reason, ...rest }) => (reason === undefined ? rest : { ...rest, reason })),
      metadata,
    }),
  );
};

const policyArb: fc.Arbitrary<IdentificationPolicy> = fc.oneof(
  fc.constant(DEFAULT_IDENTIFICATION_POLICY),
  fc.subarray([...AGENCY_KINDS]).map((competentKinds) => ({ competentKinds })),
);

/** A policy and a sequence of commands under it. */
const scenarioArb = policyArb.chain((policy) =>
  fc.tuple(fc.constant(policy), fc.array(commandArb(policy), { maxLength: 50, size: 'max' })),
);

// ---- properties -----------------------------------------------------------------------------------------
// node:assert inside the loop: thousands of commands per run, and jest's matchers are slow at that rate.

/** What the random runs reached, so that a test never passes by exercising nothing. */
interface Run {
  readonly statusesSeen: Set<Status>;
  readonly eventCounts: Map<string, number>;
  readonly refusalCodes: Set<string>;
}

function runAndCheck(
  policy: IdentificationPolicy,
  commands: readonly IdentificationCommand[],
  run: Run,
  decider: IdentificationDecider = identificationDecider(policy),
): void {
  let state = decider.initialState();
  let model: Model = { status: 'none', designated: [] };
  let reportedMinor: boolean | undefined;
  const history: IdentificationEvent[] = [];
  run.statusesSeen.add(state.status);

  for (const command of commands) {
    const expected = modelDecide(model, command, policy.competentKinds);
    let events: readonly IdentificationEvent[] = [];
    let thrown: unknown;
    try {
      events = decider.decide(command, state);
    } catch (error) {
      thrown = error;
    }

    if (!expected.ok) {
      // (a) refusals are always DomainErrors, and the ones the model predicts.
      assert.ok(thrown instanceof DomainError, `expected ${expected.code}, got ${String(thrown)}`);
      assert.deepEqual(
        { code: thrown.code, kind: thrown.kind },
        { code: expected.code, kind: expected.kind },
      );
      run.refusalCodes.add(thrown.code);
      continue;
    }
    assert.equal(thrown, undefined, `${command.type} in ${state.status} should succeed`);
    assert.equal(events.length, expected.events);

    for (const event of events) {
      const before = state;
      checkEventInvariants(event, before, command, policy);
      state = decider.evolve(state, event);
      history.push(event);
      run.eventCounts.set(event.type, (run.eventCounts.get(event.type) ?? 0) + 1);

      // (b) statuses only follow the allowed transitions; a designation leaves the status as it was.
      if (event.type === 'CompetentAuthorityDesignated') assert.equal(state.status, before.status);
      else
        assert.ok(
          ALLOWED_CHANGES.has(`${before.status}>${state.status}`),
          `${before.status} > ${state.status}`,
        );
      // (b) the minor flag never changes after the report.
      if (event.type === 'PotentialVictimReported') reportedMinor = event.data.minor;
      if (state.status !== 'none') assert.equal(state.minor, reportedMinor);
    }

    // (c) the decider agrees with the model.
    const designated =
      command.type === 'DesignateCompetentAuthority' && expected.events === 1
        ? [...model.designated, command.data.authorityId]
        : model.designated;
    model = { status: expected.next, caseId: model.caseId ?? command.data.caseId, designated };
    assert.equal(state.status, model.status);
    if (state.status !== 'none') {
      assert.equal(state.caseId, model.caseId);
      assert.deepEqual(state.designatedAuthorityIds ?? [], model.designated);
    }
    run.statusesSeen.add(state.status);
  }

  // Folding the whole history gives the state built step by step.
  assert.deepEqual(fold(decider, history), state);
}

/** Plain JSON: no undefined, no Date, no class instances, finite numbers only. */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).every(isPlainJson);
  }
  return false;
}

function checkEventInvariants(
  event: IdentificationEvent,
  before: IdentificationState,
  command: IdentificationCommand,
  policy: IdentificationPolicy,
): void {
  const { actor, now } = command.metadata;
  assert.equal(event.schemaVersion, 1);
  assert.ok(isPlainJson(event.data), `${event.type} data is not plain JSON`);
  if (DECISION_EVENTS.has(event.type)) {
    // Nobody outside the competent kinds, or without the decision-maker role, ever decides.
    assert.ok(policy.competentKinds.includes(actor.agencyKind), `${actor.agencyKind} decided`);
    assert.ok(actor.roles.includes('decision-maker'), `a principal without decision-maker decided`);
  }
  switch (event.type) {
    case 'PotentialVictimReported':
      assert.equal(event.data.reportedByAgencyId, actor.agencyId);
      assert.equal(event.data.reportedAt, now);
      break;
    case 'IndicatorsAssessed':
      assert.equal(event.data.assessedByAgencyId, actor.agencyId);
      assert.equal(event.data.assessedAt, now);
      break;
    case 'ReasonableGroundsDecided':
      assert.equal(event.data.reflectionPeriodEntitled, event.data.outcome === 'positive');
      assert.equal(event.data.decidedByAgencyId, actor.agencyId);
      assert.equal(event.data.decidedAt, now);
      break;
    case 'ConclusiveGroundsDecided':
      // A conclusive decision only ever follows a positive reasonable-grounds one.
      assert.equal(before.status, 'reasonable-grounds-positive');
      assert.equal(event.data.decidedByAgencyId, actor.agencyId);
      assert.equal(event.data.decidedAt, now);
      break;
    case 'CompetentAuthorityDesignated':
      // Only the coordinator designates, never itself, and only an authority competent under the policy.
      assert.equal(actor.agencyKind, 'national-coordinator');
      assert.ok(actor.roles.includes('coordinator'));
      assert.notEqual(event.data.authorityId, actor.agencyId);
      assert.ok(
        policy.competentKinds.includes(event.data.authorityKind),
        `${event.data.authorityKind} designated`,
      );
      assert.equal(event.data.designatedByAgencyId, actor.agencyId);
      assert.equal(event.data.designatedAt, now);
      break;
    case 'IdentificationReconsidered':
      assert.equal(event.data.previousStatus, before.status);
      assert.ok(['reasonable-grounds-negative', 'conclusive-grounds-negative'].includes(before.status));
      assert.equal(event.data.reconsideredByAgencyId, actor.agencyId);
      break;
  }
}

describe('identification decider under random command sequences', () => {
  it('refuses only with DomainErrors, keeps its invariants and agrees with the model', () => {
    const run: Run = { statusesSeen: new Set(), eventCounts: new Map(), refusalCodes: new Set() };
    fc.assert(
      fc.property(scenarioArb, ([policy, commands]) => runAndCheck(policy, commands, run)),
      { numRuns: 300 },
    );
    // The runs must reach every status, every event and most refusals, or the checks above tested little.
    expect([...run.statusesSeen].sort()).toEqual(STATUSES_EXCEPT().sort());
    for (const type of IDENTIFICATION_EVENT_TYPES) expect(run.eventCounts.get(type) ?? 0).toBeGreaterThan(10);
    expect(run.refusalCodes.size).toBeGreaterThanOrEqual(20);
  });

  it('catches a decider that lets any agency kind decide', () => {
    // Guards against a property that cannot fail: a too-lax decider must be caught.
    const lax = identificationDecider({ competentKinds: AGENCY_KINDS });
    const strict: IdentificationPolicy = { competentKinds: ['law-enforcement'] };
    const run: Run = { statusesSeen: new Set(), eventCounts: new Map(), refusalCodes: new Set() };
    const details = fc.check(
      fc.property(scenarioArb, ([, commands]) => runAndCheck(strict, commands, run, lax)),
      { numRuns: 300, endOnFailure: true },
    );
    expect(details.failed).toBe(true);
    expect(String(details.errorInstance)).toMatch(/IDENTIFICATION\.NOT_COMPETENT/);
  });
});
