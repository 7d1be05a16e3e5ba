import type { AgencyKind, ExploitationForm } from '@nrm/shared-kernel';
import type { IndicatorsOutcome } from './commands';

/** The facts of a reported case, carried by every status after the report. */
export interface CaseFacts {
  readonly caseId: string;
  readonly subjectId: string;
  /** Fixed at the report: it decides guardian consent everywhere downstream. */
  readonly minor: boolean;
  readonly reportedByAgencyId: string;
  readonly reportedByAgencyKind: AgencyKind;
  readonly region: string;
  /** As reported, then as last assessed. */
  readonly exploitationForms: readonly ExploitationForm[];
  readonly reportedAt: string;
  /** When the case was last returned for a new decision, if ever. */
  readonly reconsideredAt?: string;
  /** Competent authorities the national coordinator designated for the case, in order. */
  readonly designatedAuthorityIds?: readonly string[];
}

export interface NoCase {
  readonly status: 'none';
}

export interface Reported extends CaseFacts {
  readonly status: 'reported';
}

export interface IndicatorsAssessedState extends CaseFacts {
  readonly status: 'indicators-assessed';
  readonly indicatorsOutcome: IndicatorsOutcome;
  readonly indicatorsAssessedAt: string;
}

interface AssessedFacts extends CaseFacts {
  readonly indicatorsOutcome: IndicatorsOutcome;
  readonly indicatorsAssessedAt: string;
  readonly reasonableGroundsDecidedAt: string;
}

export interface ReasonableGroundsPositive extends AssessedFacts {
  readonly status: 'reasonable-grounds-positive';
}

export interface ReasonableGroundsNegative extends AssessedFacts {
  readonly status: 'reasonable-grounds-negative';
}

export interface ConclusiveGroundsPositive extends AssessedFacts {
  readonly status: 'conclusive-grounds-positive';
  readonly conclusiveGroundsDecidedAt: string;
}

export interface ConclusiveGroundsNegative extends AssessedFacts {
  readonly status: 'conclusive-grounds-negative';
  readonly conclusiveGroundsDecidedAt: string;
}

export type IdentificationState =
  | NoCase
  | Reported
  | IndicatorsAssessedState
  | ReasonableGroundsPositive
  | ReasonableGroundsNegative
  | ConclusiveGroundsPositive
  | ConclusiveGroundsNegative;

export type IdentificationStatus = IdentificationState['status'];

export type ReportedCase = Exclude<IdentificationState, NoCase>;

export const isReported = (state: IdentificationState): state is ReportedCase => state.status !== 'none';

export const isMinor = (state: IdentificationState): boolean => isReported(state) && state.minor;

/**
 * True while a positive reasonable-grounds decision stands: it still stands once a
 * conclusive decision has followed it, and stops standing only on reconsideration.
 */
export const reasonableGroundsPositive = (state: IdentificationState): boolean =>
  state.status === 'reasonable-grounds-positive' ||
  state.status === 'conclusive-grounds-positive' ||
  state.status === 'conclusive-grounds-negative';

/** The agency that reported the case, or undefined before any report. */
export const reportingAgency = (
  state: IdentificationState,
): { readonly agencyId: string; readonly agencyKind: AgencyKind } | undefined =>
  isReported(state)
    ? { agencyId: state.reportedByAgencyId, agencyKind: state.reportedByAgencyKind }
    : undefined;
