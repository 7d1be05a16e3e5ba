import fc from 'fast-check';
import {
  DATA_CATEGORIES,
  DomainError,
  fold,
  PURPOSES,
  ROLES,
  SUPPORT_SERVICE_TYPES,
  type Actor,
  type AgencyKind,
  type DataCategory,
  type Role,
} from '@nrm/shared-kernel';
import {
  DECLINE_REASONS,
  URGENCIES,
  WITHDRAW_REASONS,
  isOverdue,
  referralDecider,
  type CategoryCoverage,
  type ReferralCommand,
  type ReferralEvent,
  type ReferralState,
  type ReferralStatus,
} from './index';

// --- a small world of agencies, around one respond-by time ------------------------------------

const AGENCIES: ReadonlyArray<{ id: string; kind: AgencyKind }> = [
  { id: 'ngo-1', kind: 'ngo' },
  { id: 'health-1', kind: 'health' },
  { id: 'shelter-1', kind: 'shelter' },
  { id: 'foreign-1', kind: 'foreign-nrm' },
  { id: 'coordinator-1', kind: 'national-coordinator' },
  { id: 'oversight-1', kind: 'oversight-body' },
];

const T = Date.parse('2026-06-01T12:00:00.000Z');
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Respond-by values the API might pass on; the invalid ones are known to the model by name. */
const INVALID_RESPOND_BY = ['soon', '2026-06-31T12:00:00Z', '2026-06-01T12:00:00'];
const respondByArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(iso(T), iso(T + 24 * HOUR), iso(T - 24 * HOUR)) },
  { weight: 1, arbitrary: fc.constantFrom(...INVALID_RESPOND_BY) },
);

/** Command times cluster around the respond-by candidates, including the exact instants. */
const nowArb = fc
  .oneof(
    fc.constantFrom(T - 48 * HOUR, T - 1, T, T + 1, T + 24 * HOUR, T + 24 * HOUR + 1),
    fc.integer({ min: T - 72 * HOUR, max: T + 72 * HOUR }),
  )
  .map(iso);

const rolesArb: fc.Arbitrary<readonly Role[]> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Role[]>(['caseworker']) },
  { weight: 2, arbitrary: fc.constant<Role[]>(['coordinator']) },
  { weight: 3, arbitrary: fc.subarray([...ROLES]) },
);

/**
 * Who acts is drawn as an intent, resolved against the current state when the step runs: the sender
 * or the receiver of the referral (when there is one), the national coordinator, or any agency. Purely random agencies would almost
 * never answer their own referrals, and the walks would stall at 'made'.
 */
type Who = 'sender' | 'receiver' | 'coordinator' | 'any';
interface ActorIntent {
  readonly who: Who;
  readonly fallback: (typeof AGENCIES)[number];
  readonly roles: readonly Role[];
  readonly n: number;
}
/** Mostly the party a command is meant for tries it; often someone else does. */
const actorIntentArb = (likely: Who): fc.Arbitrary<ActorIntent> =>
  fc.record({
    who: fc.oneof(
      { weight: 3, arbitrary: fc.constant(likely) },
      { weight: 2, arbitrary: fc.constantFrom<Who>('sender', 'receiver', 'coordinator', 'any') },
    ),
    fallback: fc.constantFrom(...AGENCIES),
    roles: rolesArb,
    n: fc.integer({ min: 1, max: 3 }),
  });

function resolveActor(intent: ActorIntent, state: ReferralState): Actor {
  const agencyId = ((): string => {
    if (intent.who === 'coordinator') return 'coordinator-1';
    if (intent.who === 'any') return intent.fallback.id;
    if (state.status === 'none') {
      // Before anything is made, the sender-to-be is an agency that may refer.
      return intent.fallback.kind === 'national-coordinator' || intent.fallback.kind === 'oversight-body'
        ? 'ngo-1'
        : intent.fallback.id;
    }
    return intent.who === 'sender' ? state.fromAgencyId : state.toAgencyId;
  })();
  const agency = AGENCIES.find((a) => a.id === agencyId)!;
  return {
    principalId: `${agency.id}-p${intent.n}`,
    agencyId: agency.id,
    agencyKind: agency.kind,
    roles: intent.roles,
  };
}

const referralIdArb = fc.oneof(
  { weight: 9, arbitrary: fc.constant('ref-1') },
  { weight: 1, arbitrary: fc.constant('ref-2') },
);

const sharedCategoriesArb: fc.Arbitrary<DataCategory[]> = fc.oneof(
  { weight: 6, arbitrary: fc.uniqueArray(fc.constantFrom(...DATA_CATEGORIES), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...DATA_CATEGORIES), { maxLength: 3 }) },
);
const basisArb = fc.constantFrom<CategoryCoverage['basis']>('consent', 'lawful-basis');
const randomCoverageArb: fc.Arbitrary<CategoryCoverage[]> = fc.array(
  fc.record({ category: fc.constantFrom(...DATA_CATEGORIES), basis: basisArb }),
  { maxLength: 6 },
);

// Invalid reasons slip in as the API might pass them on.
const declineReasonArb = fc.constantFrom(...DECLINE_REASONS, '', 'busy') as fc.Arbitrary<
  (typeof DECLINE_REASONS)[number]
>;
const withdrawReasonArb = fc.constantFrom(...WITHDRAW_REASONS, '') as fc.Arbitrary<
  (typeof WITHDRAW_REASONS)[number]
>;

/** A step builds its command from the state it meets (only to resolve who acts). */
type Step = (state: ReferralState) => ReferralCommand;

const makeStepArb: fc.Arbitrary<Step> = fc
  .record({
    referralId: referralIdArb,
    to: fc.constantFrom(...AGENCIES),
    purpose: fc.constantFrom(...PURPOSES),
    servicesRequested: fc.subarray([...SUPPORT_SERVICE_TYPES], { maxLength: 3 }),
    urgency: fc.constantFrom(...URGENCIES),
    respondBy: respondByArb,
    sharedCategories: sharedCategoriesArb,
    // Often the API finds every shared category covered (on a random basis), sometimes not.
    coversShared: fc.constantFrom(true, true, true, false),
    sharedBases: fc.array(basisArb, { minLength: 3, maxLength: 3 }),
    extraCoverage: randomCoverageArb,
    actor: actorIntentArb('sender'),
    // Referrals are mostly made well before their respond-by candidates, sometimes around them.
    now: fc.oneof(fc.integer({ min: T - 72 * HOUR, max: T - 25 * HOUR }).map(iso), nowArb),
  })
  .map(({ referralId, to, coversShared, sharedBases, extraCoverage, actor, now, ...rest }) => (state) => ({
    type: 'MakeReferral' as const,
    data: {
      referralId,
      caseId: 'case-1',
      toAgencyId: to.id,
      toAgencyKind: to.kind,
      ...rest,
      coverage: [
        ...(coversShared
          ? rest.sharedCategories.map((category, i) => ({ category, basis: sharedBases[i % 3]! }))
          : []),
        ...extraCoverage,
      ],
    },
    metadata: { actor: resolveActor(actor, state), now },
  }));

const simpleStepArb = (
  type: 'AcknowledgeReferral' | 'AcceptReferral' | 'CompleteHandoff' | 'EscalateReferral',
  likely: Who,
) =>
  fc
    .record({ referralId: referralIdArb, actor: actorIntentArb(likely), now: nowArb })
    .map(({ referralId, actor, now }): Step => (state) => ({
      type,
      data: { referralId },
      metadata: { actor: resolveActor(actor, state), now },
    }));

const declineStepArb = fc
  .record({
    referralId: referralIdArb,
    reason: declineReasonArb,
    actor: actorIntentArb('receiver'),
    now: nowArb,
  })
  .map(({ referralId, reason, actor, now }): Step => (state) => ({
    type: 'DeclineReferral',
    data: { referralId, reason },
    metadata: { actor: resolveActor(actor, state), now },
  }));

const withdrawStepArb = fc
  .record({
    referralId: referralIdArb,
    reason: withdrawReasonArb,
    actor: actorIntentArb('sender'),
    now: nowArb,
  })
  .map(({ referralId, reason, actor, now }): Step => (state) => ({
    type: 'WithdrawReferral',
    data: { referralId, reason },
    metadata: { actor: resolveActor(actor, state), now },
  }));

// Steps that move a referral forward come more often than those that end it early.
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: makeStepArb },
  { weight: 3, arbitrary: simpleStepArb('AcknowledgeReferral', 'receiver') },
  { weight: 3, arbitrary: simpleStepArb('AcceptReferral', 'receiver') },
  { weight: 3, arbitrary: simpleStepArb('CompleteHandoff', 'receiver') },
  { weight: 3, arbitrary: simpleStepArb('EscalateReferral', 'coordinator') },
  { weight: 2, arbitrary: declineStepArb },
  { weight: 1, arbitrary: withdrawStepArb },
);

// --- an independent model: a transition table plus who may do what ------------------------------

const TRANSITIONS: Record<ReferralCommand['type'], Partial<Record<ReferralStatus, ReferralStatus>>> = {
  MakeReferral: { none: 'made' },
  AcknowledgeReferral: { made: 'acknowledged' },
  AcceptReferral: { acknowledged: 'accepted' },
  DeclineReferral: { acknowledged: 'declined' },
  CompleteHandoff: { accepted: 'completed' },
  WithdrawReferral: { made: 'withdrawn', acknowledged: 'withdrawn', accepted: 'withdrawn' },
  EscalateReferral: { made: 'made', acknowledged: 'acknowledged' },
};
const TERMINAL: ReadonlySet<ReferralStatus> = new Set(['declined', 'completed', 'withdrawn']);

interface Model {
  status: ReferralStatus;
  referralId?: string;
  from?: string;
  to?: string;
  acceptedBy?: string;
  respondBy?: number;
  escalated: boolean;
}

/** The model's answer: the next model when the command should succeed, undefined when it should be refused. */
function modelStep(model: Model, command: ReferralCommand): Model | undefined {
  const next = TRANSITIONS[command.type][model.status];
  if (next === undefined) return undefined;
  const { actor, now } = command.metadata;
  const caseworker = actor.roles.includes('caseworker');
  if (command.type !== 'MakeReferral' && command.data.referralId !== model.referralId) return undefined;

  switch (command.type) {
    case 'MakeReferral': {
      const d = command.data;
      const respondBy = Date.parse(d.respondBy);
      const ok =
        caseworker &&
        actor.agencyKind !== 'national-coordinator' &&
        actor.agencyKind !== 'oversight-body' &&
        d.toAgencyId !== actor.agencyId &&
        d.toAgencyKind !== 'national-coordinator' &&
        d.toAgencyKind !== 'oversight-body' &&
        !INVALID_RESPOND_BY.includes(d.respondBy) &&
        respondBy > Date.parse(now) &&
        new Set(d.sharedCategories).size === d.sharedCategories.length &&
        d.sharedCategories.every((c) =>
          d.coverage.some(
            (cov) => cov.category === c && (d.toAgencyKind !== 'foreign-nrm' || cov.basis === 'consent'),
          ),
        );
      return ok
        ? {
            status: next,
            referralId: d.referralId,
            from: actor.agencyId,
            to: d.toAgencyId,
            respondBy,
            escalated: false,
          }
        : undefined;
    }
    case 'AcknowledgeReferral':
    case 'AcceptReferral':
      return caseworker && actor.agencyId === model.to
        ? { ...model, status: next, ...(next === 'accepted' ? { acceptedBy: actor.agencyId } : {}) }
        : undefined;
    case 'DeclineReferral':
      return caseworker &&
        actor.agencyId === model.to &&
        (DECLINE_REASONS as readonly string[]).includes(command.data.reason)
        ? { ...model, status: next }
        : undefined;
    case 'CompleteHandoff':
      return caseworker && actor.agencyId === model.acceptedBy ? { ...model, status: next } : undefined;
    case 'WithdrawReferral':
      return caseworker &&
        actor.agencyId === model.from &&
        (WITHDRAW_REASONS as readonly string[]).includes(command.data.reason)
        ? { ...model, status: next }
        : undefined;
    case 'EscalateReferral':
      return actor.agencyKind === 'national-coordinator' &&
        actor.roles.includes('coordinator') &&
        !model.escalated &&
        Date.parse(now) > model.respondBy!
        ? { ...model, escalated: true }
        : undefined;
  }
}

// --- invariants on each produced event, given the state before it ------------------------------

function checkEvent(before: ReferralState, command: ReferralCommand, event: ReferralEvent): void {
  const actor = command.metadata.actor;
  expect(TERMINAL.has(before.status)).toBe(false); // nothing happens after declined/completed/withdrawn
  expect(JSON.parse(JSON.stringify(event))).toEqual(event); // plain JSON, no undefined
  expect(event.schemaVersion).toBe(1);

  if (event.type === 'ReferralMade') {
    expect(command.type).toBe('MakeReferral');
    if (command.type !== 'MakeReferral') return;
    expect(event.data.fromAgencyId).toBe(actor.agencyId);
    expect(event.data.fromAgencyId).not.toBe(event.data.toAgencyId);
    expect(event.data.transnational).toBe(event.data.toAgencyKind === 'foreign-nrm');
    expect(Date.parse(event.data.respondBy)).toBeGreaterThan(Date.parse(command.metadata.now));
    for (const category of event.data.sharedCategories) {
      const covering = command.data.coverage.filter((c) => c.category === category);
      expect(covering.length).toBeGreaterThan(0);
      if (event.data.transnational) expect(covering.some((c) => c.basis === 'consent')).toBe(true);
    }
    return;
  }

  expect(before.status).not.toBe('none');
  if (before.status === 'none') return;
  expect(event.data.referralId).toBe(before.referralId);
  expect(event.data.caseId).toBe(before.caseId);
  switch (event.type) {
    case 'ReferralAcknowledged':
    case 'ReferralAccepted':
    case 'ReferralDeclined':
      expect(event.data.byAgencyId).toBe(before.toAgencyId);
      break;
    case 'HandoffCompleted':
      expect(before.status).toBe('accepted');
      expect(event.data.byAgencyId).toBe(
        'acceptedByAgencyId' in before ? before.acceptedByAgencyId : undefined,
      );
      break;
    case 'ReferralWithdrawn':
      expect(event.data.byAgencyId).toBe(before.fromAgencyId);
      break;
    case 'ReferralEscalated':
      expect(before.escalated).toBe(false);
      expect(isOverdue(before, command.metadata.now)).toBe(true);
      expect(actor.agencyKind).toBe('national-coordinator');
      expect(event.data.overdueSeconds).toBeGreaterThanOrEqual(0);
      break;
  }
  expect(event.data.byAgencyId).toBe(actor.agencyId);
}

/** In how many runs each status (and an escalation) was reached, so the property cannot pass by never getting anywhere. */
const reached = new Map<string, number>();
const reach = (what: string) => reached.set(what, (reached.get(what) ?? 0) + 1);

describe('referral decider under random command sequences', () => {
  it('refuses only with DomainError, keeps its invariants, and agrees with the model', () => {
    fc.assert(
      // Most walks start with an attempt to make the referral; later attempts come at random.
      fc.property(
        fc.array(stepArb, { maxLength: 40, size: 'max' }),
        makeStepArb,
        fc.boolean(),
        (rest, first, lead) => {
          const steps = lead ? [first, ...rest] : rest;
          let state = referralDecider.initialState();
          let model: Model = { status: 'none', escalated: false };
          const log: ReferralEvent[] = [];
          const seen = new Set<string>();

          for (const step of steps) {
            const before = state;
            const command = step(state);
            let events: readonly ReferralEvent[] = [];
            try {
              events = referralDecider.decide(command, state);
            } catch (error) {
              expect(error).toBeInstanceOf(DomainError);
            }
            for (const event of events) {
              checkEvent(before, command, event);
              state = referralDecider.evolve(state, event);
              log.push(event);
            }

            const expected = modelStep(model, command);
            expect(events.length).toBe(expected === undefined ? 0 : 1);
            if (expected !== undefined) model = expected;

            // The folded state agrees with the model and only follows the transition table.
            expect(state.status).toBe(model.status);
            expect(state.status === 'none' ? false : state.escalated).toBe(model.escalated);
            if (state.status !== before.status)
              expect(TRANSITIONS[command.type][before.status]).toBe(state.status);
            if (state.status === 'completed') expect(state.acceptedByAgencyId).toBe(state.toAgencyId);
            seen.add(state.status);
            if (state.status !== 'none' && state.escalated) seen.add('escalated');
          }

          expect(log.filter((e) => e.type === 'ReferralMade').length).toBeLessThanOrEqual(1);
          expect(log.filter((e) => e.type === 'ReferralEscalated').length).toBeLessThanOrEqual(1);
          // Replaying the stream gives the same state as deciding step by step.
          expect(fold(referralDecider, log)).toEqual(state);
          seen.forEach(reach);
        },
      ),
      { numRuns: 400 },
    );

    // Sanity: the random walks actually reached every status, and escalation.
    expect([...reached.keys()].sort()).toEqual(
      ['accepted', 'acknowledged', 'completed', 'declined', 'escalated', 'made', 'none', 'withdrawn'].sort(),
    );
  });
});
