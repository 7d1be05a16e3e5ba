import type { DataCategory } from '@nrm/shared-kernel';
import type { FieldTags } from './fields';

/**
 * The public integration-event contracts: what other agencies' systems receive from the relay.
 * They are versioned on their own and kept apart from the domain events: a domain event may change
 * shape without a consumer noticing, as long as its mapper still fills the same contract. A change
 * a consumer would notice is a new contract version (`….v2`) published beside the old one.
 *
 * Every payload field is optional because it is present only when the receiving agency is entitled
 * to its data category at the moment of the event (see `fields.ts`); codes are plain strings so
 * that a new code in the domain does not break a consumer's parser.
 */

export interface ContractDefinition<Name extends string, Payload> {
  readonly name: Name;
  readonly schemaVersion: number;
  readonly fields: FieldTags<Payload>;
}

/** A new case was reported to the mechanism. Sent to the reporting agency's systems. */
export interface CaseReportedV1 {
  /** The pseudonymous subject id (identity data itself never travels in a contract). */
  readonly subjectId?: string;
  readonly reportedByAgencyId?: string;
  readonly reportedByAgencyKind?: string;
  readonly reportedAt?: string;
  readonly region?: string;
  readonly minor?: boolean;
  readonly indicators?: readonly string[];
  readonly exploitationForms?: readonly string[];
}

export const CASE_REPORTED_V1: ContractDefinition<'nrm.case.reported.v1', CaseReportedV1> = {
  name: 'nrm.case.reported.v1',
  schemaVersion: 1,
  fields: {
    subjectId: 'identity',
    reportedByAgencyId: 'case-status',
    reportedByAgencyKind: 'case-status',
    reportedAt: 'case-status',
    region: 'case-status',
    minor: 'case-status',
    indicators: 'exploitation',
    exploitationForms: 'exploitation',
  },
};

export const IDENTIFICATION_CHANGES = [
  'indicators-assessed',
  'reasonable-grounds-decided',
  'conclusive-grounds-decided',
  'identification-reconsidered',
] as const;

/** A step of identification: an assessment, a decision on grounds, or a reconsideration. */
export interface IdentificationUpdatedV1 {
  readonly change?: string;
  /** The case's identification status after the step, as the case view names it. */
  readonly identificationStatus?: string;
  readonly groundsOutcome?: string;
  readonly reflectionPeriodEntitled?: boolean;
  readonly reconsiderationReason?: string;
  readonly previousStatus?: string;
  readonly byAgencyId?: string;
  readonly at?: string;
  readonly indicatorsOutcome?: string;
  readonly indicatorsConfirmed?: readonly string[];
  readonly exploitationForms?: readonly string[];
}

export const IDENTIFICATION_UPDATED_V1: ContractDefinition<
  'nrm.case.identification-updated.v1',
  IdentificationUpdatedV1
> = {
  name: 'nrm.case.identification-updated.v1',
  schemaVersion: 1,
  fields: {
    change: 'case-status',
    identificationStatus: 'case-status',
    groundsOutcome: 'case-status',
    reflectionPeriodEntitled: 'case-status',
    reconsiderationReason: 'case-status',
    previousStatus: 'case-status',
    byAgencyId: 'case-status',
    at: 'case-status',
    indicatorsOutcome: 'exploitation',
    indicatorsConfirmed: 'exploitation',
    exploitationForms: 'exploitation',
  },
};

/** A referral made to the receiving agency: sent to that agency's systems only. */
export interface ReferralReceivedV1 {
  readonly referralId?: string;
  readonly fromAgencyId?: string;
  readonly fromAgencyKind?: string;
  readonly transnational?: boolean;
  readonly purpose?: string;
  readonly urgency?: string;
  readonly respondBy?: string;
  readonly madeAt?: string;
  readonly sharedCategories?: readonly string[];
  readonly servicesRequested?: readonly string[];
}

export const REFERRAL_RECEIVED_V1: ContractDefinition<'nrm.referral.received.v1', ReferralReceivedV1> = {
  name: 'nrm.referral.received.v1',
  schemaVersion: 1,
  fields: {
    referralId: 'case-status',
    fromAgencyId: 'case-status',
    fromAgencyKind: 'case-status',
    transnational: 'case-status',
    purpose: 'case-status',
    urgency: 'case-status',
    respondBy: 'case-status',
    madeAt: 'case-status',
    sharedCategories: 'case-status',
    servicesRequested: 'support-needs',
  },
};

export const REFERRAL_CHANGES = [
  'made',
  'acknowledged',
  'accepted',
  'declined',
  'completed',
  'withdrawn',
  'escalated',
] as const;

/** A referral of the case moved on. The other parties' view; the receiver also gets each later step. */
export interface ReferralStatusChangedV1 {
  readonly referralId?: string;
  readonly fromAgencyId?: string;
  readonly toAgencyId?: string;
  readonly change?: string;
  /** The referral's status after the change (an escalation leaves it as it was). */
  readonly status?: string;
  readonly escalated?: boolean;
  readonly byAgencyId?: string;
  readonly at?: string;
  readonly reason?: string;
  readonly overdueSeconds?: number;
  readonly purpose?: string;
  readonly urgency?: string;
  readonly respondBy?: string;
  readonly servicesRequested?: readonly string[];
}

export const REFERRAL_STATUS_CHANGED_V1: ContractDefinition<
  'nrm.referral.status-changed.v1',
  ReferralStatusChangedV1
> = {
  name: 'nrm.referral.status-changed.v1',
  schemaVersion: 1,
  fields: {
    referralId: 'case-status',
    fromAgencyId: 'case-status',
    toAgencyId: 'case-status',
    change: 'case-status',
    status: 'case-status',
    escalated: 'case-status',
    byAgencyId: 'case-status',
    at: 'case-status',
    reason: 'case-status',
    overdueSeconds: 'case-status',
    purpose: 'case-status',
    urgency: 'case-status',
    respondBy: 'case-status',
    servicesRequested: 'support-needs',
  },
};

export const SUPPORT_CHANGES = [
  'reflection-period-started',
  'reflection-period-extended',
  'reflection-period-ended',
  'support-plan-agreed',
  'support-service-provided',
  'support-case-closed',
] as const;

/** The person's support moved on: the reflection period, the plan, a service, the closure. */
export interface SupportUpdatedV1 {
  readonly change?: string;
  readonly byAgencyId?: string;
  readonly at?: string;
  readonly reflectionStartsOn?: string;
  readonly reflectionEndsOn?: string;
  readonly reflectionDays?: number;
  readonly additionalDays?: number;
  readonly reflectionEndedOn?: string;
  readonly reflectionEndReason?: string;
  readonly outcome?: string;
  readonly planId?: string;
  readonly services?: readonly string[];
  readonly reviewOn?: string;
  readonly serviceType?: string;
  readonly providedOn?: string;
}

export const SUPPORT_UPDATED_V1: ContractDefinition<'nrm.support.updated.v1', SupportUpdatedV1> = {
  name: 'nrm.support.updated.v1',
  schemaVersion: 1,
  fields: {
    change: 'case-status',
    byAgencyId: 'case-status',
    at: 'case-status',
    reflectionStartsOn: 'case-status',
    reflectionEndsOn: 'case-status',
    reflectionDays: 'case-status',
    additionalDays: 'case-status',
    reflectionEndedOn: 'case-status',
    reflectionEndReason: 'case-status',
    outcome: 'case-status',
    planId: 'support-needs',
    services: 'support-needs',
    reviewOn: 'support-needs',
    serviceType: 'support-needs',
    providedOn: 'support-needs',
  },
};

/**
 * Consent that covered this agency was withdrawn, wholly or in part: the agency must stop
 * processing what it no longer may hold. Sent to every party the withdrawn grant named, so it
 * carries nothing but the withdrawal itself and what still covers the agency.
 */
export interface ConsentWithdrawnV1 {
  readonly consentId?: string;
  readonly whole?: boolean;
  /** The categories and purposes withdrawn from the grant, when only part of it was. */
  readonly categories?: readonly string[];
  readonly purposes?: readonly string[];
  readonly withdrawnAt?: string;
  /** The categories still covered for this agency right after the withdrawal (any purpose it acts for). */
  readonly stillEntitledCategories?: readonly string[];
}

export const CONSENT_WITHDRAWN_V1: ContractDefinition<'nrm.consent.withdrawn.v1', ConsentWithdrawnV1> = {
  name: 'nrm.consent.withdrawn.v1',
  schemaVersion: 1,
  fields: {
    consentId: 'non-personal',
    whole: 'non-personal',
    categories: 'non-personal',
    purposes: 'non-personal',
    withdrawnAt: 'non-personal',
    stillEntitledCategories: 'non-personal',
  },
};

/**
 * For the national coordinator: one referral as a handoff between two agencies, with no case id,
 * no subject id and nothing about the person, like the handoff board. Keyed by referral id.
 */
export interface CoordinatorHandoffV1 {
  readonly referralId?: string;
  readonly fromAgencyId?: string;
  readonly fromAgencyKind?: string;
  readonly toAgencyId?: string;
  readonly toAgencyKind?: string;
  readonly transnational?: boolean;
  readonly urgency?: string;
  readonly change?: string;
  readonly status?: string;
  readonly escalated?: boolean;
  readonly at?: string;
  readonly madeAt?: string;
  readonly respondBy?: string;
  readonly overdueSeconds?: number;
}

export const COORDINATOR_HANDOFF_V1: ContractDefinition<'nrm.coordinator.handoff.v1', CoordinatorHandoffV1> =
  {
    name: 'nrm.coordinator.handoff.v1',
    schemaVersion: 1,
    fields: {
      referralId: 'non-personal',
      fromAgencyId: 'non-personal',
      fromAgencyKind: 'non-personal',
      toAgencyId: 'non-personal',
      toAgencyKind: 'non-personal',
      transnational: 'non-personal',
      urgency: 'non-personal',
      change: 'non-personal',
      status: 'non-personal',
      escalated: 'non-personal',
      at: 'non-personal',
      madeAt: 'non-personal',
      respondBy: 'non-personal',
      overdueSeconds: 'non-personal',
    },
  };

/** Contracts an agency's topic carries; each message names its contract and version. */
export type AgencyContractPayloads = {
  readonly 'nrm.case.reported.v1': CaseReportedV1;
  readonly 'nrm.case.identification-updated.v1': IdentificationUpdatedV1;
  readonly 'nrm.referral.received.v1': ReferralReceivedV1;
  readonly 'nrm.referral.status-changed.v1': ReferralStatusChangedV1;
  readonly 'nrm.support.updated.v1': SupportUpdatedV1;
  readonly 'nrm.consent.withdrawn.v1': ConsentWithdrawnV1;
};
export type AgencyContractName = keyof AgencyContractPayloads;

/** What an agency's topic carries: the envelope, then the payload cut to the agency's entitlement. */
export type AgencyIntegrationEvent = {
  [Name in AgencyContractName]: {
    readonly contract: Name;
    readonly schemaVersion: number;
    /** The domain event's id: consumers deduplicate by it (delivery is at least once). */
    readonly eventId: string;
    readonly caseId: string;
    /** The data categories present in the payload. */
    readonly categories: readonly DataCategory[];
    readonly payload: AgencyContractPayloads[Name];
  };
}[AgencyContractName];

/** What the coordinator's topic carries: no case id, no categories (nothing personal). */
export interface CoordinatorIntegrationEvent {
  readonly contract: 'nrm.coordinator.handoff.v1';
  readonly schemaVersion: number;
  readonly eventId: string;
  readonly payload: CoordinatorHandoffV1;
}

export const CONTRACTS = [
  CASE_REPORTED_V1,
  IDENTIFICATION_UPDATED_V1,
  REFERRAL_RECEIVED_V1,
  REFERRAL_STATUS_CHANGED_V1,
  SUPPORT_UPDATED_V1,
  CONSENT_WITHDRAWN_V1,
  COORDINATOR_HANDOFF_V1,
] as const;

export type ContractName = (typeof CONTRACTS)[number]['name'];
