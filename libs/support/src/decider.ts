import {
  SUPPORT_SERVICE_TYPES,
  conflict,
  forbidden,
  ruleBroken,
  type Actor,
  type Decider,
  type SupportServiceType,
} from '@nrm/shared-kernel';
import {
  LAST_CALENDAR_DATE,
  addDays,
  daysBetween,
  isCalendarDate,
  utcDateOf,
  type CalendarDate,
} from './calendar-date';
import {
  REFLECTION_END_REASONS,
  SUPPORT_CASE_OUTCOMES,
  type AgreeSupportPlan,
  type CloseSupportCase,
  type EndReflectionPeriod,
  type ExtendReflectionPeriod,
  type RecordServiceProvided,
  type StartReflectionPeriod,
  type SupportCommand,
} from './commands';
import type { SupportEvent } from './events';
import { initialSupportState, type OpenSupportCase, type SupportState } from './state';

/** Council of Europe Convention on Action against Trafficking in Human Beings, art. 13: at least 30 days. */
export const MIN_REFLECTION_DAYS = 30;

/**
 * How far back a reflection period may be recorded as having started. Late recording happens
 * (paper records, a weekend, a first responder without access), but a period entered long after
 * its start would already be mostly spent when the ledger learns of it; past this window the
 * caseworker records it from a later date, which only gives the person more days, never fewer.
 */
export const MAX_BACKDATING_DAYS = 30;

/*
 * Decision order, the same for every command: who acts (forbidden), whether the case is still
 * open (conflict), whether the data is well-formed (rule), then what the case's state allows.
 */

export function decide(command: SupportCommand, state: SupportState): readonly SupportEvent[] {
  assertMayRecordSupport(command.metadata.actor);
  if (state.status === 'closed') {
    throw conflict('SUPPORT.CASE_CLOSED', 'This support case is closed; nothing more can be recorded on it.');
  }
  assertCaseId(command.data.caseId);
  const today = utcDateOf(command.metadata.now);

  switch (command.type) {
    case 'StartReflectionPeriod':
      return [startReflectionPeriod(command, state, today)];
    case 'ExtendReflectionPeriod':
      return [extendReflectionPeriod(command, state)];
    case 'EndReflectionPeriod':
      return [endReflectionPeriod(command, state, today)];
    case 'AgreeSupportPlan':
      return [agreeSupportPlan(command, state, today)];
    case 'RecordServiceProvided':
      return [recordServiceProvided(command, today)];
    case 'CloseSupportCase':
      return [closeSupportCase(command, state)];
    default: {
      const unknown: never = command;
      throw new Error(`Unknown support command: ${JSON.stringify(unknown)}`);
    }
  }
}

function startReflectionPeriod(
  command: StartReflectionPeriod,
  state: OpenSupportCase,
  today: CalendarDate,
): SupportEvent {
  const { caseId, startsOn, days, reasonableGroundsPositive } = command.data;
  assertDate(startsOn, 'startsOn');
  if (!Number.isInteger(days) || days < MIN_REFLECTION_DAYS) {
    throw ruleBroken(
      'SUPPORT.REFLECTION_TOO_SHORT',
      `A reflection period must be a whole number of days, at least ${MIN_REFLECTION_DAYS}: that is the legal minimum (Council of Europe Convention, article 13).`,
      'days',
    );
  }
  const endsOn = endAfter(startsOn, days, 'days');
  // Entitlement comes from identification: a positive reasonable-grounds decision, never from cooperation.
  if (reasonableGroundsPositive !== true) {
    throw ruleBroken(
      'SUPPORT.NO_REFLECTION_ENTITLEMENT',
      'A reflection period can start only after a positive reasonable-grounds decision for this person.',
      'reasonableGroundsPositive',
    );
  }
  if (state.reflection.status !== 'none') {
    throw conflict(
      'SUPPORT.REFLECTION_ALREADY_STARTED',
      'This case already has a reflection period. Extend the current one instead of starting another.',
    );
  }
  const daysAgo = daysBetween(startsOn, today);
  if (daysAgo > MAX_BACKDATING_DAYS) {
    throw ruleBroken(
      'SUPPORT.START_TOO_EARLY',
      `A reflection period can be recorded as starting at most ${MAX_BACKDATING_DAYS} days ago. Use a later start date.`,
      'startsOn',
    );
  }
  const { entitledSince } = command.data;
  if (
    entitledSince !== undefined &&
    isCalendarDate(entitledSince) &&
    daysBetween(entitledSince, startsOn) < 0
  ) {
    // Backdating before the entitlement would eat into the legal minimum: the person gets every day of it.
    throw ruleBroken(
      'SUPPORT.START_BEFORE_ENTITLEMENT',
      `The reflection period cannot start before the positive reasonable-grounds decision (${entitledSince}).`,
      'startsOn',
    );
  }
  if (daysAgo < 0) {
    // A deferred start would leave the person unprotected between the decision and the start.
    throw ruleBroken(
      'SUPPORT.START_IN_FUTURE',
      'A reflection period starts when the person is entitled to it; the start date cannot be in the future.',
      'startsOn',
    );
  }
  return {
    type: 'ReflectionPeriodStarted',
    schemaVersion: 1,
    data: {
      caseId,
      startsOn,
      endsOn,
      days,
      startedByAgencyId: command.metadata.actor.agencyId,
      startedAt: command.metadata.now,
    },
  };
}

function extendReflectionPeriod(command: ExtendReflectionPeriod, state: OpenSupportCase): SupportEvent {
  const { caseId, additionalDays } = command.data;
  if (!Number.isInteger(additionalDays) || additionalDays < 1) {
    throw ruleBroken(
      'SUPPORT.INVALID_EXTENSION',
      'An extension must add a whole number of days, at least one.',
      'additionalDays',
    );
  }
  const reflection = state.reflection;
  if (reflection.status !== 'active') throw noActiveReflection();
  return {
    type: 'ReflectionPeriodExtended',
    schemaVersion: 1,
    data: {
      caseId,
      additionalDays,
      previousEndsOn: reflection.endsOn,
      endsOn: endAfter(reflection.endsOn, additionalDays, 'additionalDays'),
      extendedByAgencyId: command.metadata.actor.agencyId,
      extendedAt: command.metadata.now,
    },
  };
}

function endReflectionPeriod(
  command: EndReflectionPeriod,
  state: OpenSupportCase,
  today: CalendarDate,
): SupportEvent {
  const { caseId, reason } = command.data;
  if (!isOneOf(REFLECTION_END_REASONS, reason)) {
    throw ruleBroken(
      'SUPPORT.INVALID_END_REASON',
      `The reason for ending a reflection period must be one of: ${REFLECTION_END_REASONS.join(', ')}.`,
      'reason',
    );
  }
  const reflection = state.reflection;
  if (reflection.status !== 'active') throw noActiveReflection();
  if (today < reflection.endsOn) {
    // The authorities cannot cut the period short: only the person, or a residence permit, can.
    if (reason === 'elapsed') {
      throw ruleBroken(
        'SUPPORT.REFLECTION_NOT_ELAPSED',
        `The reflection period runs until ${reflection.endsOn}; it has not elapsed yet.`,
        'reason',
      );
    }
    if (reason === 'other') {
      throw ruleBroken(
        'SUPPORT.EARLY_END_NOT_ALLOWED',
        `The reflection period runs until ${reflection.endsOn}. Before then it ends only by the person's own decision or because a residence permit was granted.`,
        'reason',
      );
    }
  }
  return {
    type: 'ReflectionPeriodEnded',
    schemaVersion: 1,
    data: {
      caseId,
      reason,
      endedOn: today,
      endedByAgencyId: command.metadata.actor.agencyId,
      endedAt: command.metadata.now,
    },
  };
}

function agreeSupportPlan(
  command: AgreeSupportPlan,
  state: OpenSupportCase,
  today: CalendarDate,
): SupportEvent {
  const { caseId, planId, services, reviewOn } = command.data;
  if (typeof planId !== 'string' || planId.trim() === '') {
    throw ruleBroken('SUPPORT.INVALID_PLAN_ID', 'A support plan needs an identifier.', 'planId');
  }
  if (!Array.isArray(services) || services.length === 0) {
    throw ruleBroken('SUPPORT.NO_SERVICES', 'A support plan must name at least one service.', 'services');
  }
  const planned: SupportServiceType[] = [];
  for (const service of services as readonly unknown[]) {
    if (!isOneOf(SUPPORT_SERVICE_TYPES, service)) throw unknownServiceType('services');
    if (planned.includes(service)) {
      throw ruleBroken(
        'SUPPORT.DUPLICATE_SERVICE',
        `The plan names the service "${service}" more than once.`,
        'services',
      );
    }
    planned.push(service);
  }
  assertDate(reviewOn, 'reviewOn');
  if (reviewOn < today) {
    throw ruleBroken(
      'SUPPORT.REVIEW_IN_PAST',
      'The review date of a support plan cannot be in the past.',
      'reviewOn',
    );
  }
  if (state.agreedPlanIds.includes(planId)) {
    throw conflict(
      'SUPPORT.PLAN_ALREADY_AGREED',
      'A plan with this identifier was already agreed on this case. A new plan needs a new identifier.',
      'planId',
    );
  }
  return {
    type: 'SupportPlanAgreed',
    schemaVersion: 1,
    data: {
      caseId,
      planId,
      services: planned,
      reviewOn,
      agreedByAgencyId: command.metadata.actor.agencyId,
      agreedAt: command.metadata.now,
    },
  };
}

function recordServiceProvided(command: RecordServiceProvided, today: CalendarDate): SupportEvent {
  const { caseId, serviceType, providedOn } = command.data;
  // No plan is required: urgent help (medical care, a bed for the night) comes before any plan.
  if (!isOneOf(SUPPORT_SERVICE_TYPES, serviceType)) throw unknownServiceType('serviceType');
  assertDate(providedOn, 'providedOn');
  if (providedOn > today) {
    throw ruleBroken(
      'SUPPORT.SERVICE_IN_FUTURE',
      'A service can be recorded only once it has been provided; the date cannot be in the future.',
      'providedOn',
    );
  }
  return {
    type: 'SupportServiceProvided',
    schemaVersion: 1,
    data: {
      caseId,
      serviceType,
      providedOn,
      providedByAgencyId: command.metadata.actor.agencyId,
      recordedAt: command.metadata.now,
    },
  };
}

function closeSupportCase(command: CloseSupportCase, state: OpenSupportCase): SupportEvent {
  const { caseId, outcome } = command.data;
  if (!isOneOf(SUPPORT_CASE_OUTCOMES, outcome)) {
    throw ruleBroken(
      'SUPPORT.INVALID_OUTCOME',
      `The outcome of a support case must be one of: ${SUPPORT_CASE_OUTCOMES.join(', ')}.`,
      'outcome',
    );
  }
  // Closing must never silently cut the person's legal minimum: the period is ended explicitly first.
  if (state.reflection.status === 'active') {
    throw conflict(
      'SUPPORT.REFLECTION_ACTIVE',
      `The reflection period runs until ${state.reflection.endsOn}. End it before closing the case.`,
    );
  }
  return {
    type: 'SupportCaseClosed',
    schemaVersion: 1,
    data: {
      caseId,
      outcome,
      closedByAgencyId: command.metadata.actor.agencyId,
      closedAt: command.metadata.now,
    },
  };
}

export function evolve(state: SupportState, event: SupportEvent): SupportState {
  // A closed case is final: decide never records anything after closure.
  if (state.status === 'closed') return state;
  switch (event.type) {
    case 'ReflectionPeriodStarted': {
      const { startsOn, endsOn, days } = event.data;
      return { ...state, reflection: { status: 'active', startsOn, endsOn, days } };
    }
    case 'ReflectionPeriodExtended': {
      const reflection = state.reflection;
      if (reflection.status !== 'active') return state;
      return {
        ...state,
        reflection: {
          ...reflection,
          endsOn: event.data.endsOn,
          days: reflection.days + event.data.additionalDays,
        },
      };
    }
    case 'ReflectionPeriodEnded': {
      const reflection = state.reflection;
      if (reflection.status !== 'active') return state;
      const { startsOn, endsOn } = reflection;
      const { endedOn, reason } = event.data;
      return { ...state, reflection: { status: 'ended', startsOn, endsOn, endedOn, reason } };
    }
    case 'SupportPlanAgreed': {
      const { planId, services, reviewOn, agreedByAgencyId, agreedAt } = event.data;
      return {
        ...state,
        currentPlan: { planId, services, reviewOn, agreedByAgencyId, agreedAt },
        agreedPlanIds: [...state.agreedPlanIds, planId],
      };
    }
    case 'SupportServiceProvided': {
      const { serviceType, providedOn, providedByAgencyId } = event.data;
      return {
        ...state,
        servicesProvided: [...state.servicesProvided, { serviceType, providedOn, providedByAgencyId }],
      };
    }
    case 'SupportCaseClosed': {
      const { outcome, closedByAgencyId, closedAt } = event.data;
      return { ...state, status: 'closed', outcome, closedByAgencyId, closedAt };
    }
    default: {
      const unknown: never = event;
      throw new Error(`Unknown support event: ${JSON.stringify(unknown)}`);
    }
  }
}

export const supportDecider: Decider<SupportCommand, SupportEvent, SupportState> = {
  decide,
  evolve,
  initialState: initialSupportState,
};

function assertMayRecordSupport(actor: Actor): void {
  // The oversight body checks the mechanism; it does not take part in a person's support.
  if (actor.agencyKind === 'oversight-body') {
    throw forbidden(
      'SUPPORT.OVERSIGHT_CANNOT_RECORD',
      'An oversight body reviews the mechanism and cannot record support for a person.',
    );
  }
  if (!actor.roles.includes('caseworker')) {
    throw forbidden('SUPPORT.NOT_A_CASEWORKER', 'Only a caseworker can record support.');
  }
}

function assertCaseId(caseId: unknown): void {
  if (typeof caseId !== 'string' || caseId.trim() === '') {
    throw ruleBroken('SUPPORT.INVALID_CASE_ID', 'The case identifier is missing.', 'caseId');
  }
}

function assertDate(value: unknown, field: string): asserts value is CalendarDate {
  if (!isCalendarDate(value)) {
    throw ruleBroken(
      'SUPPORT.INVALID_DATE',
      'The date must be a real calendar date written YYYY-MM-DD.',
      field,
    );
  }
}

/** `from` + `days`, refused when it would leave the calendar the `YYYY-MM-DD` shape can write. */
function endAfter(from: CalendarDate, days: number, field: string): CalendarDate {
  if (days > daysBetween(from, LAST_CALENDAR_DATE)) {
    throw ruleBroken(
      'SUPPORT.END_DATE_OUT_OF_RANGE',
      'That many days would end the period after the year 9999.',
      field,
    );
  }
  return addDays(from, days);
}

const noActiveReflection = () =>
  conflict('SUPPORT.NO_ACTIVE_REFLECTION', 'This case has no reflection period running at the moment.');

const unknownServiceType = (field: string) =>
  ruleBroken(
    'SUPPORT.UNKNOWN_SERVICE_TYPE',
    `A support service must be one of: ${SUPPORT_SERVICE_TYPES.join(', ')}.`,
    field,
  );

function isOneOf<T extends string>(allowed: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}
