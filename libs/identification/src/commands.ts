import type {
  AgencyKind,
  CommandMetadata,
  DomainCommand,
  ExploitationForm,
  SealedIdentity,
} from '@nrm/shared-kernel';

/** What the assessing caseworker concluded from the indicators seen. */
export const INDICATORS_OUTCOMES = ['indicators-present', 'insufficient-indicators'] as const;
export type IndicatorsOutcome = (typeof INDICATORS_OUTCOMES)[number];

/** Outcome of a reasonable-grounds or conclusive-grounds decision. */
export const GROUNDS_OUTCOMES = ['positive', 'negative'] as const;
export type GroundsOutcome = (typeof GROUNDS_OUTCOMES)[number];

/** Why a negative decision is looked at again. */
export const RECONSIDERATION_REASONS = ['new-evidence', 'procedural-error', 'appeal'] as const;
export type ReconsiderationReason = (typeof RECONSIDERATION_REASONS)[number];

/**
 * A frontline agency reports a person it believes may be a victim. Only codes and a
 * pseudonymous subject id travel here: identity data lives apart so it can be erased.
 */
export type ReportPotentialVictim = DomainCommand<
  'ReportPotentialVictim',
  {
    readonly caseId: string;
    readonly subjectId: string;
    /** Indicator codes observed (1 to 50). */
    readonly indicators: readonly string[];
    /** Suspected forms; empty when not yet known. */
    readonly exploitationForms: readonly ExploitationForm[];
    /** Children need no "means" (Palermo Protocol) and are handled with a guardian. */
    readonly minor: boolean;
    /** Coarse region code, never an address. */
    readonly region: string;
    /** Name, birth date, nationality, contact, notes: sealed under the subject's key, opaque here. */
    readonly identity?: SealedIdentity;
  },
  CommandMetadata
>;

export type AssessIndicators = DomainCommand<
  'AssessIndicators',
  {
    readonly caseId: string;
    readonly outcome: IndicatorsOutcome;
    readonly indicatorsConfirmed: readonly string[];
    readonly exploitationForms: readonly ExploitationForm[];
  },
  CommandMetadata
>;

export type DecideReasonableGrounds = DomainCommand<
  'DecideReasonableGrounds',
  { readonly caseId: string; readonly outcome: GroundsOutcome },
  CommandMetadata
>;

export type DecideConclusiveGrounds = DomainCommand<
  'DecideConclusiveGrounds',
  { readonly caseId: string; readonly outcome: GroundsOutcome },
  CommandMetadata
>;

export type ReconsiderIdentification = DomainCommand<
  'ReconsiderIdentification',
  { readonly caseId: string; readonly reason: ReconsiderationReason },
  CommandMetadata
>;

/** Why the national coordinator designates a competent authority: a fixed list, never prose. */
export const DESIGNATION_REASONS = [
  'no-authority-seized',
  'jurisdiction',
  'specialist-competence',
  'conflict-of-interest',
  'reconsideration',
  'other',
] as const;
export type DesignationReason = (typeof DESIGNATION_REASONS)[number];

/** What the registry holds of an agency, read fresh by the application when the command is built. */
export interface RegisteredAgency {
  readonly kind: AgencyKind;
  /** ISO 3166-1 alpha-2, as registered. */
  readonly country: string;
  readonly disabled: boolean;
}

/**
 * The national coordinator designates a competent authority to decide on a case: from then on
 * that authority is seized of the case (as if the case had been referred to it).
 */
export type DesignateCompetentAuthority = DomainCommand<
  'DesignateCompetentAuthority',
  {
    readonly caseId: string;
    readonly authorityId: string;
    readonly reason?: DesignationReason;
    /** The registry's record of `authorityId`; undefined when no agency is registered with it. */
    readonly authority: RegisteredAgency | undefined;
    /** The country of the coordinator's own agency: the ledger's country. */
    readonly ownCountry: string;
  },
  CommandMetadata
>;

export type IdentificationCommand =
  | ReportPotentialVictim
  | AssessIndicators
  | DecideReasonableGrounds
  | DecideConclusiveGrounds
  | ReconsiderIdentification
  | DesignateCompetentAuthority;
