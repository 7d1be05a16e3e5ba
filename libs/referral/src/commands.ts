import type {
  AgencyKind,
  CommandMetadata,
  DataCategory,
  DomainCommand,
  Purpose,
  SupportServiceType,
} from '@nrm/shared-kernel';

export const URGENCIES = ['routine', 'urgent', 'emergency'] as const;
export type Urgency = (typeof URGENCIES)[number];

export const DECLINE_REASONS = [
  'no-capacity',
  'not-eligible',
  'out-of-area',
  'conflict-of-interest',
  'safety-concern',
  'other',
] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];

export const WITHDRAW_REASONS = ['no-longer-needed', 'person-declined', 'sent-in-error', 'other'] as const;
export type WithdrawReason = (typeof WITHDRAW_REASONS)[number];

/** How a data category is covered for the receiving agency and purpose at the moment of referral. */
export type CoverageBasis = 'consent' | 'lawful-basis';

export interface CategoryCoverage {
  readonly category: DataCategory;
  readonly basis: CoverageBasis;
}

export type MakeReferral = DomainCommand<
  'MakeReferral',
  {
    readonly referralId: string;
    readonly caseId: string;
    readonly toAgencyId: string;
    /** Looked up by the API in the agency registry; the sender does not choose it. */
    readonly toAgencyKind: AgencyKind;
    readonly purpose: Purpose;
    readonly servicesRequested: readonly SupportServiceType[];
    readonly urgency: Urgency;
    /** ISO-8601 instant by which the receiving agency should answer. */
    readonly respondBy: string;
    /** Unique; empty means no personal data travels with the referral. */
    readonly sharedCategories: readonly DataCategory[];
    /** Supplied by the API from the consent context: what covers toAgency and purpose right now. */
    readonly coverage: readonly CategoryCoverage[];
  },
  CommandMetadata
>;

export type AcknowledgeReferral = DomainCommand<
  'AcknowledgeReferral',
  { readonly referralId: string },
  CommandMetadata
>;

export type AcceptReferral = DomainCommand<
  'AcceptReferral',
  { readonly referralId: string },
  CommandMetadata
>;

export type DeclineReferral = DomainCommand<
  'DeclineReferral',
  { readonly referralId: string; readonly reason: DeclineReason },
  CommandMetadata
>;

export type CompleteHandoff = DomainCommand<
  'CompleteHandoff',
  { readonly referralId: string },
  CommandMetadata
>;

export type WithdrawReferral = DomainCommand<
  'WithdrawReferral',
  { readonly referralId: string; readonly reason: WithdrawReason },
  CommandMetadata
>;

export type EscalateReferral = DomainCommand<
  'EscalateReferral',
  { readonly referralId: string },
  CommandMetadata
>;

export type ReferralCommand =
  | MakeReferral
  | AcknowledgeReferral
  | AcceptReferral
  | DeclineReferral
  | CompleteHandoff
  | WithdrawReferral
  | EscalateReferral;
