import type { AgencyKind, DataCategory, DomainEvent, Purpose, SupportServiceType } from '@nrm/shared-kernel';
import type { DeclineReason, Urgency, WithdrawReason } from './commands';

export type ReferralMade = DomainEvent<
  'ReferralMade',
  {
    readonly referralId: string;
    readonly caseId: string;
    readonly fromAgencyId: string;
    readonly fromAgencyKind: AgencyKind;
    readonly toAgencyId: string;
    readonly toAgencyKind: AgencyKind;
    /** The receiver is a foreign NRM contact point: only consented categories travel. */
    readonly transnational: boolean;
    readonly purpose: Purpose;
    readonly servicesRequested: readonly SupportServiceType[];
    readonly urgency: Urgency;
    readonly respondBy: string;
    readonly sharedCategories: readonly DataCategory[];
    readonly madeByPrincipalId: string;
    readonly madeAt: string;
  }
> & { readonly schemaVersion: 1 };

export type ReferralAcknowledged = DomainEvent<
  'ReferralAcknowledged',
  {
    readonly referralId: string;
    readonly caseId: string;
    readonly byAgencyId: string;
    readonly acknowledgedAt: string;
  }
> & { readonly schemaVersion: 1 };

export type ReferralAccepted = DomainEvent<
  'ReferralAccepted',
  {
    readonly referralId: string;
    readonly caseId: string;
    readonly byAgencyId: string;
    readonly acceptedAt: string;
  }
> & { readonly schemaVersion: 1 };

export type ReferralDeclined = DomainEvent<
  'ReferralDeclined',
  {
    readonly referralId: string;
    readonly caseId: string;
    readonly byAgencyId: string;
    readonly reason: DeclineReason;
    readonly declinedAt: string;
  }
> & { readonly schemaVersion: 1 };

export type HandoffCompleted = DomainEvent<
  'HandoffCompleted',
  {
    readonly referralId: string;
    readonly caseId: string;
    readonly byAgencyId: string;
    readonly completedAt: string;
  }
> & { readonly schemaVersion: 1 };

export type ReferralWithdrawn = DomainEvent<
  'ReferralWithdrawn',
  {
    readonly referralId: string;
    readonly caseId: string;
    readonly byAgencyId: string;
    readonly reason: WithdrawReason;
    readonly withdrawnAt: string;
  }
> & { readonly schemaVersion: 1 };

export type ReferralEscalated = DomainEvent<
  'ReferralEscalated',
  {
    readonly referralId: string;
    readonly caseId: string;
    readonly byAgencyId: string;
    readonly escalatedAt: string;
    /** Whole seconds between respondBy and the escalation, for the coordinator's statistics. */
    readonly overdueSeconds: number;
  }
> & { readonly schemaVersion: 1 };

export type ReferralEvent =
  | ReferralMade
  | ReferralAcknowledged
  | ReferralAccepted
  | ReferralDeclined
  | HandoffCompleted
  | ReferralWithdrawn
  | ReferralEscalated;

export const REFERRAL_EVENT_TYPES = [
  'ReferralMade',
  'ReferralAcknowledged',
  'ReferralAccepted',
  'ReferralDeclined',
  'HandoffCompleted',
  'ReferralWithdrawn',
  'ReferralEscalated',
] as const satisfies readonly ReferralEvent['type'][];

// Fails to compile if an event type is missing from the list above.
type UnlistedEventType = Exclude<ReferralEvent['type'], (typeof REFERRAL_EVENT_TYPES)[number]>;
const _everyEventTypeListed: [UnlistedEventType] extends [never] ? true : false = true;
