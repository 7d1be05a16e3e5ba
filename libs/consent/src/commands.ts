import type { CommandMetadata, DataCategory, DomainCommand, Purpose } from '@nrm/shared-kernel';

/** How the person's consent was captured; a minor's consent is given through a guardian. */
export type ConsentCaptureMethod = 'written' | 'verbal-with-witness' | 'guardian';

export type ConsentCapture = {
  readonly method: ConsentCaptureMethod;
  /** Language the person was informed in, as a language code such as 'en', 'ro', 'vi'. */
  readonly language: string;
  readonly interpreterUsed: boolean;
  /** The principal who witnessed a verbal consent. */
  readonly witnessPrincipalId?: string;
  /** Reference to the guardian's appointment record, never the guardian's name. */
  readonly guardianReference?: string;
};

/** Legal grounds other than consent on which data may be processed. */
export const LAWFUL_BASES = [
  'vital-interests',
  'child-protection',
  'court-order',
  'legal-obligation',
  'public-task',
] as const;
export type LawfulBasis = (typeof LAWFUL_BASES)[number];

export type GrantConsent = DomainCommand<
  'GrantConsent',
  {
    readonly caseId: string;
    readonly consentId: string;
    /** Supplied by the API from the identification record; not stored in the event. */
    readonly subjectIsMinor: boolean;
    readonly agencyIds: readonly string[];
    readonly categories: readonly DataCategory[];
    readonly purposes: readonly Purpose[];
    /** ISO-8601 instant. */
    readonly expiresAt: string;
    readonly capture: ConsentCapture;
  },
  CommandMetadata
>;

/** Without any list the whole consent is withdrawn; each list removes values from its dimension. */
export type WithdrawConsent = DomainCommand<
  'WithdrawConsent',
  {
    readonly caseId: string;
    readonly consentId: string;
    readonly agencyIds?: readonly string[];
    readonly categories?: readonly DataCategory[];
    readonly purposes?: readonly Purpose[];
  },
  CommandMetadata
>;

export type RefuseConsent = DomainCommand<
  'RefuseConsent',
  {
    readonly caseId: string;
    readonly agencyIds?: readonly string[];
    readonly categories?: readonly DataCategory[];
    readonly purposes?: readonly Purpose[];
  },
  CommandMetadata
>;

export type RecordLawfulBasis = DomainCommand<
  'RecordLawfulBasis',
  {
    readonly caseId: string;
    readonly lawfulBasisId: string;
    readonly basis: LawfulBasis;
    /**
     * The legal reason processing is lawful without consent (e.g. the court order's reference and
     * what it requires). It is read by oversight: it must not describe the person.
     */
    readonly justification: string;
    readonly agencyIds: readonly string[];
    readonly categories: readonly DataCategory[];
    readonly purposes: readonly Purpose[];
    /** ISO-8601 instant; without it the basis holds until superseded by other means. */
    readonly expiresAt?: string;
  },
  CommandMetadata
>;

export type ConsentCommand = GrantConsent | WithdrawConsent | RefuseConsent | RecordLawfulBasis;
