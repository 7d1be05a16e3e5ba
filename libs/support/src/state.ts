import type { SupportServiceType } from '@nrm/shared-kernel';
import type { CalendarDate } from './calendar-date';
import type { ReflectionEndReason, SupportCaseOutcome } from './commands';

/** The recovery and reflection period of one case (Council of Europe Convention, art. 13). */
export type ReflectionPeriod =
  | { readonly status: 'none' }
  | {
      readonly status: 'active';
      readonly startsOn: CalendarDate;
      readonly endsOn: CalendarDate;
      /** Total length so far, extensions included. */
      readonly days: number;
    }
  | {
      readonly status: 'ended';
      readonly startsOn: CalendarDate;
      readonly endsOn: CalendarDate;
      readonly endedOn: CalendarDate;
      readonly reason: ReflectionEndReason;
    };

/** The plan in force: a later plan supersedes the earlier one. */
export interface SupportPlan {
  readonly planId: string;
  readonly services: readonly SupportServiceType[];
  readonly reviewOn: CalendarDate;
  readonly agreedByAgencyId: string;
  readonly agreedAt: string;
}

export interface ServiceRecord {
  readonly serviceType: SupportServiceType;
  readonly providedOn: CalendarDate;
  readonly providedByAgencyId: string;
}

interface SupportRecord {
  readonly reflection: ReflectionPeriod;
  readonly currentPlan: SupportPlan | null;
  /** Every plan id ever agreed on this case, so that a plan id is never reused. */
  readonly agreedPlanIds: readonly string[];
  /** In the order they were recorded. */
  readonly servicesProvided: readonly ServiceRecord[];
}

export interface OpenSupportCase extends SupportRecord {
  readonly status: 'open';
}

export interface ClosedSupportCase extends SupportRecord {
  readonly status: 'closed';
  readonly outcome: SupportCaseOutcome;
  readonly closedByAgencyId: string;
  readonly closedAt: string;
}

export type SupportState = OpenSupportCase | ClosedSupportCase;

/** A case's support stream starts open with nothing recorded: support needs no prior event. */
export const initialSupportState = (): SupportState => ({
  status: 'open',
  reflection: { status: 'none' },
  currentPlan: null,
  agreedPlanIds: [],
  servicesProvided: [],
});

export const reflectionPeriodOf = (state: SupportState): ReflectionPeriod => state.reflection;

export const isClosed = (state: SupportState): state is ClosedSupportCase => state.status === 'closed';

export const currentPlanOf = (state: SupportState): SupportPlan | null => state.currentPlan;

export const servicesProvidedOf = (state: SupportState): readonly ServiceRecord[] => state.servicesProvided;
