import type { AgencyKind, DomainEvent, ExploitationForm, SealedIdentity } from '@nrm/shared-kernel';
import type { DesignationReason, GroundsOutcome, IndicatorsOutcome, ReconsiderationReason } from './commands';

export type PotentialVictimReported = DomainEvent<
  'PotentialVictimReported',
  {
    readonly caseId: string;
    readonly subjectId: string;
    readonly reportedByAgencyId: string;
    readonly reportedByAgencyKind: AgencyKind;
    readonly indicators: readonly string[];
    readonly exploitationForms: readonly ExploitationForm[];
    readonly minor: boolean;
    readonly region: string;
    readonly reportedAt: string;
    /** Identity data sealed under the subject's key; erasing the subject destroys the key. */
    readonly identity?: SealedIdentity;
  }
> & { readonly schemaVersion: 1 };

export type IndicatorsAssessed = DomainEvent<
  'IndicatorsAssessed',
  {
    readonly caseId: string;
    readonly outcome: IndicatorsOutcome;
    readonly indicatorsConfirmed: readonly string[];
    readonly exploitationForms: readonly ExploitationForm[];
    readonly assessedByAgencyId: string;
    readonly assessedAt: string;
  }
> & { readonly schemaVersion: 1 };

export type ReasonableGroundsDecided = DomainEvent<
  'ReasonableGroundsDecided',
  {
    readonly caseId: string;
    readonly outcome: GroundsOutcome;
    readonly decidedByAgencyId: string;
    readonly decidedAt: string;
    /** Council of Europe Convention art. 13: a positive decision opens the reflection period. */
    readonly reflectionPeriodEntitled: boolean;
  }
> & { readonly schemaVersion: 1 };

export type ConclusiveGroundsDecided = DomainEvent<
  'ConclusiveGroundsDecided',
  {
    readonly caseId: string;
    readonly outcome: GroundsOutcome;
    readonly decidedByAgencyId: string;
    readonly decidedAt: string;
  }
> & { readonly schemaVersion: 1 };

/** Only negative decisions are reconsidered, so the status left behind is one of these two. */
export type ReconsideredStatus = 'reasonable-grounds-negative' | 'conclusive-grounds-negative';

export type IdentificationReconsidered = DomainEvent<
  'IdentificationReconsidered',
  {
    readonly caseId: string;
    readonly reason: ReconsiderationReason;
    readonly previousStatus: ReconsideredStatus;
    readonly reconsideredByAgencyId: string;
    readonly reconsideredAt: string;
  }
> & { readonly schemaVersion: 1 };

/**
 * The national coordinator designated a competent authority of its own country for the case: the
 * authority is seized of it (it may decide grounds and reconsider) and party to it (it reads what
 * consent or a lawful basis covers for it, nothing more). Never undone by a later event.
 */
export type CompetentAuthorityDesignated = DomainEvent<
  'CompetentAuthorityDesignated',
  {
    readonly caseId: string;
    readonly authorityId: string;
    readonly authorityKind: AgencyKind;
    readonly reason?: DesignationReason;
    readonly designatedByAgencyId: string;
    readonly designatedByPrincipalId: string;
    readonly designatedAt: string;
  }
> & { readonly schemaVersion: 1 };

export type IdentificationEvent =
  | PotentialVictimReported
  | IndicatorsAssessed
  | ReasonableGroundsDecided
  | ConclusiveGroundsDecided
  | IdentificationReconsidered
  | CompetentAuthorityDesignated;

export const IDENTIFICATION_EVENT_TYPES = [
  'PotentialVictimReported',
  'IndicatorsAssessed',
  'ReasonableGroundsDecided',
  'ConclusiveGroundsDecided',
  'IdentificationReconsidered',
  'CompetentAuthorityDesignated',
] as const satisfies readonly IdentificationEvent['type'][];

// Fails to compile when an event type is added to the union but not to the list above.
type MissingEventType = Exclude<IdentificationEvent['type'], (typeof IDENTIFICATION_EVENT_TYPES)[number]>;
type AssertTrue<T extends true> = T;
type _EveryEventTypeListed = AssertTrue<[MissingEventType] extends [never] ? true : false>;
