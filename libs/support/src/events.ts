import type { DomainEvent, SupportServiceType } from '@nrm/shared-kernel';
import type { CalendarDate } from './calendar-date';
import type { ReflectionEndReason, SupportCaseOutcome } from './commands';

/** Dates (`…On`) are calendar days `YYYY-MM-DD`; instants (`…At`) are the command's `metadata.now`. */

export type ReflectionPeriodStarted = DomainEvent<
  'ReflectionPeriodStarted',
  {
    caseId: string;
    startsOn: CalendarDate;
    /** startsOn + days: the day the period is over. */
    endsOn: CalendarDate;
    days: number;
    startedByAgencyId: string;
    startedAt: string;
  }
>;

export type ReflectionPeriodExtended = DomainEvent<
  'ReflectionPeriodExtended',
  {
    caseId: string;
    additionalDays: number;
    previousEndsOn: CalendarDate;
    endsOn: CalendarDate;
    extendedByAgencyId: string;
    extendedAt: string;
  }
>;

export type ReflectionPeriodEnded = DomainEvent<
  'ReflectionPeriodEnded',
  {
    caseId: string;
    reason: ReflectionEndReason;
    endedOn: CalendarDate;
    endedByAgencyId: string;
    endedAt: string;
  }
>;

export type SupportPlanAgreed = DomainEvent<
  'SupportPlanAgreed',
  {
    caseId: string;
    planId: string;
    services: SupportServiceType[];
    reviewOn: CalendarDate;
    agreedByAgencyId: string;
    agreedAt: string;
  }
>;

export type SupportServiceProvided = DomainEvent<
  'SupportServiceProvided',
  {
    caseId: string;
    serviceType: SupportServiceType;
    providedOn: CalendarDate;
    providedByAgencyId: string;
    recordedAt: string;
  }
>;

export type SupportCaseClosed = DomainEvent<
  'SupportCaseClosed',
  { caseId: string; outcome: SupportCaseOutcome; closedByAgencyId: string; closedAt: string }
>;

export type SupportEvent =
  | ReflectionPeriodStarted
  | ReflectionPeriodExtended
  | ReflectionPeriodEnded
  | SupportPlanAgreed
  | SupportServiceProvided
  | SupportCaseClosed;

export const SUPPORT_EVENT_TYPES = [
  'ReflectionPeriodStarted',
  'ReflectionPeriodExtended',
  'ReflectionPeriodEnded',
  'SupportPlanAgreed',
  'SupportServiceProvided',
  'SupportCaseClosed',
] as const satisfies readonly SupportEvent['type'][];
