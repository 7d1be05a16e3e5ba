import type { CommandMetadata, DomainCommand, SupportServiceType } from '@nrm/shared-kernel';
import type { CalendarDate } from './calendar-date';

/**
 * Why a reflection period ended. The authorities cannot cut it short: before its end date
 * only the person's own decision or a residence permit (which protects them anyway) ends it.
 */
export const REFLECTION_END_REASONS = [
  'elapsed',
  'person-decision',
  'residence-permit-granted',
  'other',
] as const;
export type ReflectionEndReason = (typeof REFLECTION_END_REASONS)[number];

/** How a support case ended; codes only, never a narrative about the person. */
export const SUPPORT_CASE_OUTCOMES = [
  'integrated',
  'returned-home',
  'transferred-abroad',
  'lost-contact',
  'declined-further-support',
  'other',
] as const;
export type SupportCaseOutcome = (typeof SUPPORT_CASE_OUTCOMES)[number];

/*
 * No command carries anything about cooperating with the police or the prosecution:
 * assistance must not depend on it (EU Directive 2011/36, art. 11(3)).
 */

export type StartReflectionPeriod = DomainCommand<
  'StartReflectionPeriod',
  {
    caseId: string;
    startsOn: CalendarDate;
    /** Length in whole days; at least MIN_REFLECTION_DAYS. */
    days: number;
    /** Supplied by the API from identification: a positive reasonable-grounds decision exists. */
    reasonableGroundsPositive: boolean;
    /** Supplied by the API from identification: the (UTC) day of that decision, when known. */
    entitledSince?: CalendarDate;
  },
  CommandMetadata
>;

export type ExtendReflectionPeriod = DomainCommand<
  'ExtendReflectionPeriod',
  { caseId: string; additionalDays: number },
  CommandMetadata
>;

export type EndReflectionPeriod = DomainCommand<
  'EndReflectionPeriod',
  { caseId: string; reason: ReflectionEndReason },
  CommandMetadata
>;

export type AgreeSupportPlan = DomainCommand<
  'AgreeSupportPlan',
  { caseId: string; planId: string; services: readonly SupportServiceType[]; reviewOn: CalendarDate },
  CommandMetadata
>;

export type RecordServiceProvided = DomainCommand<
  'RecordServiceProvided',
  { caseId: string; serviceType: SupportServiceType; providedOn: CalendarDate },
  CommandMetadata
>;

export type CloseSupportCase = DomainCommand<
  'CloseSupportCase',
  { caseId: string; outcome: SupportCaseOutcome },
  CommandMetadata
>;

export type SupportCommand =
  | StartReflectionPeriod
  | ExtendReflectionPeriod
  | EndReflectionPeriod
  | AgreeSupportPlan
  | RecordServiceProvided
  | CloseSupportCase;

export const SUPPORT_COMMAND_TYPES = [
  'StartReflectionPeriod',
  'ExtendReflectionPeriod',
  'EndReflectionPeriod',
  'AgreeSupportPlan',
  'RecordServiceProvided',
  'CloseSupportCase',
] as const satisfies readonly SupportCommand['type'][];
