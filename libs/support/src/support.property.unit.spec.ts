import fc from 'fast-check';
import {
  AGENCY_KINDS,
  DomainError,
  ROLES,
  SUPPORT_SERVICE_TYPES,
  fold,
  type Actor,
  type AgencyKind,
  type Role,
} from '@nrm/shared-kernel';
import {
  REFLECTION_END_REASONS,
  SUPPORT_CASE_OUTCOMES,
  supportDecider,
  type SupportCommand,
  type SupportEvent,
  type SupportState,
} from './index';

/*
 * Random command sequences against the decider, checked against a model written independently
 * here: its own date arithmetic (Date.UTC), its own acceptance rules as plain predicates.
 */

const MS_PER_DAY = 86_400_000;

// ---- the model's own calendar ----------------------------------------------------------------

/** Epoch day of a real `YYYY-MM-DD`, or undefined. */
function modelDay(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  const ms = Date.UTC(y, m - 1, d);
  const roundTrip = new Date(ms).toISOString().slice(0, 10);
  return roundTrip === value ? ms / MS_PER_DAY : undefined;
}
const modelDate = (day: number): string => new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
const dayOfInstant = (instant: string): number => Math.floor(Date.parse(instant) / MS_PER_DAY);

// ---- the model ---------------------------------------------------------------------------

interface Model {
  closed: boolean;
  reflection: 'none' | 'active' | 'ended';
  startDay: number;
  endDay: number;
  planIds: string[];
  currentPlanId: string | null;
  services: { serviceType: string; providedOn: string; providedByAgencyId: string }[];
}

const emptyModel = (): Model => ({
  closed: false,
  reflection: 'none',
  startDay: Number.NaN,
  endDay: Number.NaN,
  planIds: [],
  currentPlanId: null,
  services: [],
});

const isIn = (list: readonly string[], value: unknown) => typeof value === 'string' && list.includes(value);
const filled = (value: unknown) => typeof value === 'string' && value.trim() !== '';

/** Whether the mechanism should accept the command, by the rules as written in the brief. */
function modelAccepts(model: Model, command: SupportCommand): boolean {
  const { actor, now } = command.metadata;
  if (actor.agencyKind === 'oversight-body' || !actor.roles.includes('caseworker')) return false;
  if (model.closed || !filled(command.data.caseId)) return false;
  const today = dayOfInstant(now);
  switch (command.type) {
    case 'StartReflectionPeriod': {
      const { startsOn, days, reasonableGroundsPositive } = command.data;
      const startDay = modelDay(startsOn);
      return (
        startDay !== undefined &&
        Number.isInteger(days) &&
        days >= 30 &&
        reasonableGroundsPositive === true &&
        model.reflection === 'none' &&
        today - startDay >= 0 &&
        today - startDay <= 30
      );
    }
    case 'ExtendReflectionPeriod':
      return (
        Number.isInteger(command.data.additionalDays) &&
        command.data.additionalDays >= 1 &&
        model.reflection === 'active'
      );
    case 'EndReflectionPeriod': {
      const { reason } = command.data;
      if (!isIn(REFLECTION_END_REASONS, reason) || model.reflection !== 'active') return false;
      return reason === 'person-decision' || reason === 'residence-permit-granted' || today >= model.endDay;
    }
    case 'AgreeSupportPlan': {
      const { planId, services, reviewOn } = command.data;
      const reviewDay = modelDay(reviewOn);
      return (
        filled(planId) &&
        services.length > 0 &&
        services.every((service) => isIn(SUPPORT_SERVICE_TYPES, service)) &&
        new Set(services).size === services.length &&
        reviewDay !== undefined &&
        reviewDay >= today &&
        !model.planIds.includes(planId)
      );
    }
    case 'RecordServiceProvided': {
      const providedDay = modelDay(command.data.providedOn);
      return (
        isIn(SUPPORT_SERVICE_TYPES, command.data.serviceType) &&
        providedDay !== undefined &&
        providedDay <= today
      );
    }
    case 'CloseSupportCase':
      return isIn(SUPPORT_CASE_OUTCOMES, command.data.outcome) && model.reflection !== 'active';
  }
}

function modelApply(model: Model, command: SupportCommand): Model {
  switch (command.type) {
    case 'StartReflectionPeriod': {
      const startDay = modelDay(command.data.startsOn)!;
      return { ...model, reflection: 'active', startDay, endDay: startDay + command.data.days };
    }
    case 'ExtendReflectionPeriod':
      return { ...model, endDay: model.endDay + command.data.additionalDays };
    case 'EndReflectionPeriod':
      return { ...model, reflection: 'ended' };
    case 'AgreeSupportPlan':
      return {
        ...model,
        planIds: [...model.planIds, command.data.planId],
        currentPlanId: command.data.planId,
      };
    case 'RecordServiceProvided':
      return {
        ...model,
        services: [
          ...model.services,
          {
            serviceType: command.data.serviceType,
            providedOn: command.data.providedOn,
            providedByAgencyId: command.metadata.actor.agencyId,
          },
        ],
      };
    case 'CloseSupportCase':
      return { ...model, closed: true };
  }
}

// ---- arbitraries -------------------------------------------------------------------------

/** A date relative to the command's today, or something that is not a real date. */
type DateSpec = { offset: number } | { raw: string };
const dateSpec = (min: number, max: number, edges: number[]): fc.Arbitrary<DateSpec> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min, max }).map((offset) => ({ offset })) },
    { weight: 4, arbitrary: fc.constantFrom(...edges).map((offset) => ({ offset })) }, // the rules' boundaries
    {
      weight: 1,
      arbitrary: fc.constantFrom('2025-02-29', '2025-13-01', 'soon', '', '2025-1-1').map((raw) => ({ raw })),
    },
  );
const resolve = (spec: DateSpec, today: number): string =>
  'raw' in spec ? spec.raw : modelDate(today + spec.offset);

const BOGUS = 'bogus';
type Template =
  | { type: 'StartReflectionPeriod'; startsOn: DateSpec; days: number; reasonableGroundsPositive: boolean }
  | { type: 'ExtendReflectionPeriod'; additionalDays: number }
  | { type: 'EndReflectionPeriod'; reason: string }
  | { type: 'AgreeSupportPlan'; planId: string; services: string[]; reviewOn: DateSpec }
  | { type: 'RecordServiceProvided'; serviceType: string; providedOn: DateSpec }
  | { type: 'CloseSupportCase'; outcome: string };

// Closing is rare, so that most sequences live long enough to exercise the reflection period.
const template: fc.Arbitrary<Template> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('StartReflectionPeriod' as const),
      startsOn: dateSpec(-35, 3, [-31, -30, 0, 1]),
      days: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 30, max: 90 }) },
        { weight: 2, arbitrary: fc.integer({ min: 28, max: 32 }) }, // around the legal minimum
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 29 }) },
        { weight: 1, arbitrary: fc.constantFrom(30.5, Number.NaN) },
      ),
      reasonableGroundsPositive: fc.oneof(
        { weight: 3, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('ExtendReflectionPeriod' as const),
      additionalDays: fc.oneof(fc.integer({ min: -2, max: 30 }), fc.constant(2.5)),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('EndReflectionPeriod' as const),
      reason: fc.constantFrom<string>(...REFLECTION_END_REASONS, BOGUS),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('AgreeSupportPlan' as const),
      planId: fc.constantFrom('plan-1', 'plan-2', 'plan-3', ''),
      services: fc.oneof(
        {
          weight: 3,
          arbitrary: fc.subarray<string>([...SUPPORT_SERVICE_TYPES], { minLength: 1, maxLength: 3 }),
        },
        {
          weight: 1,
          arbitrary: fc.array(fc.constantFrom<string>(...SUPPORT_SERVICE_TYPES, BOGUS), { maxLength: 4 }),
        },
      ),
      reviewOn: dateSpec(-5, 60, [-1, 0]),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant('RecordServiceProvided' as const),
      serviceType: fc.constantFrom<string>(...SUPPORT_SERVICE_TYPES, BOGUS),
      providedOn: dateSpec(-20, 3, [0, 1]),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('CloseSupportCase' as const),
      outcome: fc.constantFrom<string>(...SUPPORT_CASE_OUTCOMES, BOGUS),
    }),
  },
);

const actorArb: fc.Arbitrary<Actor> = fc.record({
  principalId: fc.constantFrom('p-1', 'p-2'),
  agencyId: fc.constantFrom('agency-a', 'agency-b', 'agency-c'),
  agencyKind: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom<AgencyKind>('ngo', 'shelter', 'social-services', 'health') },
    { weight: 2, arbitrary: fc.constantFrom<AgencyKind>(...AGENCY_KINDS) },
  ),
  roles: fc.oneof(
    { weight: 6, arbitrary: fc.constant<Role[]>(['caseworker']) },
    { weight: 1, arbitrary: fc.subarray<Role>([...ROLES]) },
  ),
});

interface Step {
  /** Days the clock moves before this command; occasionally backwards (clock skew between servers). */
  advanceDays: number;
  /** When a period is running, sometimes jump the clock to its end date plus this, to probe the boundary. */
  toEndOfPeriod: -1 | 0 | 1 | null;
  secondOfDay: number;
  actor: Actor;
  template: Template;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  advanceDays: fc.integer({ min: -1, max: 12 }),
  toEndOfPeriod: fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom(-1 as const, 0 as const, 1 as const) },
  ),
  secondOfDay: fc.integer({ min: 0, max: 86_399 }),
  actor: actorArb,
  template,
});

const scenarioArb = fc.record({
  firstDay: fc.integer({ min: modelDay('2020-01-01')!, max: modelDay('2035-12-31')! }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 30 }),
});

function toCommand(step: Step, today: number, caseId: string): SupportCommand {
  const metadata = {
    actor: step.actor,
    now: new Date(today * MS_PER_DAY + step.secondOfDay * 1000).toISOString(),
  };
  const t = step.template;
  // Invalid values (BOGUS, NaN) deliberately pass through typed fields, as an unchecked API would send them.
  switch (t.type) {
    case 'StartReflectionPeriod':
      return {
        type: t.type,
        data: {
          caseId,
          startsOn: resolve(t.startsOn, today),
          days: t.days,
          reasonableGroundsPositive: t.reasonableGroundsPositive,
        },
        metadata,
      };
    case 'ExtendReflectionPeriod':
      return { type: t.type, data: { caseId, additionalDays: t.additionalDays }, metadata };
    case 'EndReflectionPeriod':
      return { type: t.type, data: { caseId, reason: t.reason as never }, metadata };
    case 'AgreeSupportPlan':
      return {
        type: t.type,
        data: {
          caseId,
          planId: t.planId,
          services: t.services as never,
          reviewOn: resolve(t.reviewOn, today),
        },
        metadata,
      };
    case 'RecordServiceProvided':
      return {
        type: t.type,
        data: { caseId, serviceType: t.serviceType as never, providedOn: resolve(t.providedOn, today) },
        metadata,
      };
    case 'CloseSupportCase':
      return { type: t.type, data: { caseId, outcome: t.outcome as never }, metadata };
  }
}

// ---- the property ------------------------------------------------------------------------

const periodLength = (reflection: SupportState['reflection']): number =>
  reflection.status === 'none' ? Number.NaN : modelDay(reflection.endsOn)! - modelDay(reflection.startsOn)!;

describe('support decider under random command sequences', () => {
  it('refuses only with DomainError, keeps the legal invariants and agrees with the model', () => {
    const accepted = new Map<string, number>();
    const refusedCodes = new Set<string>();

    fc.assert(
      fc.property(scenarioArb, ({ firstDay, steps }) => {
        const caseId = 'case-prop';
        let today = firstDay;
        let model = emptyModel();
        let state = supportDecider.initialState();
        const history: SupportEvent[] = [];

        for (const step of steps) {
          today += step.advanceDays;
          if (step.toEndOfPeriod !== null && model.reflection === 'active') {
            today = Math.max(today, model.endDay + step.toEndOfPeriod);
          }
          const command = toCommand(step, today, caseId);
          const before = state;
          const expectedToAccept = modelAccepts(model, command);

          let events: readonly SupportEvent[] = [];
          let refusal: unknown;
          try {
            events = supportDecider.decide(command, before);
          } catch (error) {
            refusal = error;
          }

          if (refusal !== undefined) {
            // (a) refusals are always DomainErrors with a code of this context
            expect(refusal).toBeInstanceOf(DomainError);
            expect((refusal as DomainError).code).toMatch(/^SUPPORT\.[A-Z_]+$/);
            refusedCodes.add((refusal as DomainError).code);
            // (c) the model refuses exactly when the decider does
            expect({ command, accepted: false }).toEqual({ command, accepted: expectedToAccept });
            continue;
          }
          expect({ command, accepted: true }).toEqual({ command, accepted: expectedToAccept });
          expect(events).toHaveLength(1);
          const event = events[0]!;
          accepted.set(event.type, (accepted.get(event.type) ?? 0) + 1);

          // (b) invariants on what was decided
          expect(before.status).toBe('open'); // nothing is recorded after closure
          switch (event.type) {
            case 'ReflectionPeriodStarted':
              expect(command.type === 'StartReflectionPeriod' && command.data.reasonableGroundsPositive).toBe(
                true,
              );
              expect(modelDay(event.data.endsOn)! - modelDay(event.data.startsOn)!).toBe(event.data.days);
              expect(event.data.days).toBeGreaterThanOrEqual(30);
              break;
            case 'ReflectionPeriodExtended':
              expect(before.reflection.status).toBe('active');
              expect(before.reflection.status === 'active' && before.reflection.endsOn).toBe(
                event.data.previousEndsOn,
              );
              expect(modelDay(event.data.endsOn)!).toBeGreaterThan(modelDay(event.data.previousEndsOn)!);
              break;
            case 'ReflectionPeriodEnded':
              expect(before.reflection.status).toBe('active');
              if (event.data.reason === 'elapsed' || event.data.reason === 'other') {
                const endsOn = before.reflection.status === 'active' ? before.reflection.endsOn : '';
                expect(modelDay(event.data.endedOn)!).toBeGreaterThanOrEqual(modelDay(endsOn)!);
              }
              break;
            case 'SupportCaseClosed':
              expect(before.reflection.status).not.toBe('active');
              break;
            default:
              break;
          }

          history.push(event);
          state = supportDecider.evolve(before, event);
          model = modelApply(model, command);

          // (b) invariants on the resulting state
          if (state.reflection.status !== 'none') {
            expect(periodLength(state.reflection)).toBeGreaterThanOrEqual(30);
          }
          if (before.reflection.status !== 'none' && state.reflection.status !== 'none') {
            expect(state.reflection.startsOn).toBe(before.reflection.startsOn);
            expect(modelDay(state.reflection.endsOn)!).toBeGreaterThanOrEqual(
              modelDay(before.reflection.endsOn)!,
            );
          }
          if (state.reflection.status === 'active') {
            expect(state.reflection.days).toBe(periodLength(state.reflection));
          }
        }

        // (c) the folded history equals the stepwise state and agrees with the model
        expect(fold(supportDecider, history)).toEqual(state);
        expect(state.status).toBe(model.closed ? 'closed' : 'open');
        expect(state.reflection.status).toBe(model.reflection);
        if (state.reflection.status !== 'none') {
          expect([state.reflection.startsOn, state.reflection.endsOn]).toEqual([
            modelDate(model.startDay),
            modelDate(model.endDay),
          ]);
        }
        expect(state.currentPlan?.planId ?? null).toBe(model.currentPlanId);
        expect(state.servicesProvided).toEqual(model.services);
        // nothing follows a closure in the history
        const closedAt = history.findIndex((event) => event.type === 'SupportCaseClosed');
        if (closedAt >= 0) expect(closedAt).toBe(history.length - 1);
      }),
      { numRuns: 500 },
    );

    // The generator reaches every event and the main refusals, so the property is not vacuous.
    expect([...accepted.keys()].sort()).toEqual([
      'ReflectionPeriodEnded',
      'ReflectionPeriodExtended',
      'ReflectionPeriodStarted',
      'SupportCaseClosed',
      'SupportPlanAgreed',
      'SupportServiceProvided',
    ]);
    expect([...refusedCodes]).toEqual(
      expect.arrayContaining([
        'SUPPORT.CASE_CLOSED',
        'SUPPORT.REFLECTION_ACTIVE',
        'SUPPORT.REFLECTION_TOO_SHORT',
        'SUPPORT.NO_REFLECTION_ENTITLEMENT',
        'SUPPORT.REFLECTION_NOT_ELAPSED',
        'SUPPORT.EARLY_END_NOT_ALLOWED',
        'SUPPORT.SERVICE_IN_FUTURE',
      ]),
    );
  });
});
