import type {
  AgencyKind,
  CommandMetadata,
  DataCategory,
  DomainCommand,
  Purpose,
  SealedText,
} from '@nrm/shared-kernel';

/** How the person's consent was captured; a minor's consent is given through a guardian. */
export type ConsentCaptureMethod = 'written' | 'verbal-with-witness' | 'guardian';

export type ConsentCapture = {
  readonly method: ConsentCaptureMethod;
  /** Language the person was informed in, as a language code such as 'en', 'ro', 'vi'. */
  readonly language: string;
  readonly interpreterUsed: boolean;
  /**
   * The principal who witnessed a verbal consent: one registered in the ledger for the recording
   * agency (an id the ledger knows, never free text), stored as it is.
   */
  readonly witnessPrincipalId?: string;
  /**
   * Reference to the guardian's appointment record, never the guardian's name. A code can still
   * spell a name: the event records it sealed under the subject's key (ConsentGranted schema 2).
   */
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

/**
 * What the API knows of the agencies involved, looked up before the command is decided (from the
 * registry and the case directory); none of it is stored in the event.
 */
export type RecordContext = {
  /** The registered kind of each named agency; an agency missing here is unknown. */
  readonly agencyKinds: Readonly<Record<string, AgencyKind>>;
};

export type GrantConsent = DomainCommand<
  'GrantConsent',
  {
    readonly caseId: string;
    readonly consentId: string;
    /** Supplied by the API from the identification record; not stored in the event. */
    readonly subjectIsMinor: boolean;
    /**
     * Supplied by the API from the case directory: the recording agency is in direct contact with
     * the person (it reported the case, provides support, or received a completed handoff).
     */
    readonly recorderInContact: boolean;
    readonly agencyIds: readonly string[];
    readonly categories: readonly DataCategory[];
    readonly purposes: readonly Purpose[];
    /** ISO-8601 instant. */
    readonly expiresAt: string;
    readonly capture: ConsentCapture;
    /**
     * Supplied by the API from the registry: the agency the principal named as witness is
     * registered for (absent: no principal is registered with that id). Not stored in the event.
     */
    readonly witnessAgencyId?: string;
    /**
     * The guardian's reference, trimmed and sealed under the subject's key by the handler (null:
     * the subject is already erased, the reference is not kept). Given, the event is recorded with
     * it (schema 2) and never with the reference in clear, so that the subject's erasure shreds it.
     */
    readonly sealedGuardianReference?: SealedText | null;
  } & RecordContext,
  CommandMetadata
>;

/**
 * Without any list the whole consent is withdrawn. Otherwise exactly the (agency, category, purpose)
 * triples that match every list given are removed; a dimension left out matches all its values. So
 * `{agencyIds: ['ngo'], categories: ['exploitation']}` removes the pair (ngo, exploitation) for every
 * purpose, and nothing else.
 */
export type WithdrawConsent = DomainCommand<
  'WithdrawConsent',
  {
    readonly caseId: string;
    readonly consentId: string;
    /** As for a grant: the person's decision is recorded by an agency in direct contact with them. */
    readonly recorderInContact: boolean;
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
    /** As for a grant: the person's decision is recorded by an agency in direct contact with them. */
    readonly recorderInContact: boolean;
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
    /**
     * The same text, trimmed and sealed under the subject's key by the handler (null: the subject
     * is already erased, the text is not kept). Given, the event is recorded with it (schema 2)
     * and never with the text in clear, so that the subject's erasure shreds it.
     */
    readonly sealedJustification?: SealedText | null;
    readonly agencyIds: readonly string[];
    readonly categories: readonly DataCategory[];
    readonly purposes: readonly Purpose[];
    /** ISO-8601 instant; without it the basis holds until superseded by other means. */
    readonly expiresAt?: string;
  } & RecordContext,
  CommandMetadata
>;

export type ConsentCommand = GrantConsent | WithdrawConsent | RefuseConsent | RecordLawfulBasis;
