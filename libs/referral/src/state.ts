import type { AgencyKind, DataCategory, Purpose, SupportServiceType } from '@nrm/shared-kernel';
import type { DeclineReason, Urgency, WithdrawReason } from './commands';

/** What was recorded when the referral was made; carried by every state after that. */
export interface ReferralFacts {
  readonly referralId: string;
  readonly caseId: string;
  readonly fromAgencyId: string;
  readonly fromAgencyKind: AgencyKind;
  readonly toAgencyId: string;
  readonly toAgencyKind: AgencyKind;
  readonly transnational: boolean;
  readonly purpose: Purpose;
  readonly servicesRequested: readonly SupportServiceType[];
  readonly urgency: Urgency;
  readonly respondBy: string;
  readonly sharedCategories: readonly DataCategory[];
  readonly madeByPrincipalId: string;
  readonly madeAt: string;
  /** Escalation does not change the status, so it is a flag beside it. */
  readonly escalated: boolean;
  readonly escalatedAt?: string;
}

export interface NoReferral {
  readonly status: 'none';
}

export interface MadeReferral extends ReferralFacts {
  readonly status: 'made';
}

export interface AcknowledgedReferral extends ReferralFacts {
  readonly status: 'acknowledged';
  readonly acknowledgedAt: string;
}

export interface AcceptedReferral extends ReferralFacts {
  readonly status: 'accepted';
  readonly acknowledgedAt: string;
  readonly acceptedAt: string;
  readonly acceptedByAgencyId: string;
}

export interface DeclinedReferral extends ReferralFacts {
  readonly status: 'declined';
  readonly acknowledgedAt: string;
  readonly declinedAt: string;
  readonly declineReason: DeclineReason;
}

export interface CompletedReferral extends ReferralFacts {
  readonly status: 'completed';
  readonly acknowledgedAt: string;
  readonly acceptedAt: string;
  readonly acceptedByAgencyId: string;
  readonly completedAt: string;
}

/** Withdrawn while open: it may or may not have been acknowledged or accepted before. */
export interface WithdrawnReferral extends ReferralFacts {
  readonly status: 'withdrawn';
  readonly acknowledgedAt?: string;
  readonly acceptedAt?: string;
  readonly acceptedByAgencyId?: string;
  readonly withdrawnAt: string;
  readonly withdrawReason: WithdrawReason;
}

export type ReferralState =
  | NoReferral
  | MadeReferral
  | AcknowledgedReferral
  | AcceptedReferral
  | DeclinedReferral
  | CompletedReferral
  | WithdrawnReferral;

export type ReferralStatus = ReferralState['status'];
export type ExistingReferral = Exclude<ReferralState, NoReferral>;

export const initialReferralState = (): ReferralState => ({ status: 'none' });

/** Open: the handoff can still happen (made, acknowledged or accepted). */
export function isOpen(state: ReferralState): boolean {
  return state.status === 'made' || state.status === 'acknowledged' || state.status === 'accepted';
}

/** Still waiting for the receiver's answer: made or acknowledged, neither accepted nor declined. */
export function isAwaitingAnswer(state: ReferralState): state is MadeReferral | AcknowledgedReferral {
  return state.status === 'made' || state.status === 'acknowledged';
}

/**
 * Overdue: still waiting for an answer at `at` (ISO-8601) although its respond-by time has passed.
 * An accepted referral is not overdue: the receiver has answered.
 */
export function isOverdue(state: ReferralState, at: string): boolean {
  if (!isAwaitingAnswer(state)) return false;
  return Date.parse(at) > Date.parse(state.respondBy);
}

/** Who hands over to whom; undefined while nothing has been made. */
export function partiesOf(
  state: ReferralState,
): { readonly fromAgencyId: string; readonly toAgencyId: string } | undefined {
  if (state.status === 'none') return undefined;
  return { fromAgencyId: state.fromAgencyId, toAgencyId: state.toAgencyId };
}
