import type { DataCategory, DomainEvent, Purpose, SealedText } from '@nrm/shared-kernel';
import type { ConsentCapture, LawfulBasis } from './commands';

/** How the consent was captured, as the event records it. */
export type RecordedCapture = Omit<ConsentCapture, 'guardianReference'> & {
  /** Schema 1: the guardian's reference in clear. */
  readonly guardianReference?: string;
  /**
   * Schema 2: the guardian's reference sealed under the subject's key, shredded by the subject's
   * erasure (null: recorded after the erasure, the reference is not kept).
   */
  readonly sealedGuardianReference?: SealedText | null;
};

/**
 * Schema 2 (a guardian's reference given): the reference is sealed (`capture.sealedGuardianReference`);
 * schema 1 events keep it in clear (`capture.guardianReference`) and are read as they are.
 */
export type ConsentGranted = DomainEvent<
  'ConsentGranted',
  {
    readonly caseId: string;
    readonly consentId: string;
    readonly recordedByAgencyId: string;
    readonly recordedByPrincipalId: string;
    readonly agencyIds: readonly string[];
    readonly categories: readonly DataCategory[];
    readonly purposes: readonly Purpose[];
    readonly expiresAt: string;
    readonly capture: RecordedCapture;
    readonly grantedAt: string;
  }
> & { readonly schemaVersion: 1 | 2 };

/**
 * `whole: true` ends the consent; otherwise the listed values leave the grant. The lists are kept
 * even when `whole` is true (a partial withdrawal that emptied a dimension), as the person's words.
 */
export type ConsentWithdrawn = DomainEvent<
  'ConsentWithdrawn',
  {
    readonly caseId: string;
    readonly consentId: string;
    readonly whole: boolean;
    readonly agencyIds?: readonly string[];
    readonly categories?: readonly DataCategory[];
    readonly purposes?: readonly Purpose[];
    readonly withdrawnByAgencyId: string;
    readonly withdrawnAt: string;
  }
> & { readonly schemaVersion: 1 };

/** A refusal is recorded as a fact; it grants nothing and withdraws nothing. */
export type ConsentRefused = DomainEvent<
  'ConsentRefused',
  {
    readonly caseId: string;
    readonly agencyIds?: readonly string[];
    readonly categories?: readonly DataCategory[];
    readonly purposes?: readonly Purpose[];
    readonly recordedByAgencyId: string;
    readonly refusedAt: string;
  }
> & { readonly schemaVersion: 1 };

export type LawfulBasisRecorded = DomainEvent<
  'LawfulBasisRecorded',
  {
    readonly caseId: string;
    readonly lawfulBasisId: string;
    readonly basis: LawfulBasis;
    /** Schema 1: a legal reason, never a note about the person, in clear. */
    readonly justification?: string;
    /**
     * Schema 2: the same text sealed under the subject's key, shredded by the subject's erasure
     * (null: recorded after the erasure, the text is not kept).
     */
    readonly sealedJustification?: SealedText | null;
    readonly agencyIds: readonly string[];
    readonly categories: readonly DataCategory[];
    readonly purposes: readonly Purpose[];
    readonly expiresAt?: string;
    readonly recordedByAgencyId: string;
    readonly recordedByPrincipalId: string;
    readonly recordedAt: string;
  }
> & { readonly schemaVersion: 1 | 2 };

export type ConsentEvent = ConsentGranted | ConsentWithdrawn | ConsentRefused | LawfulBasisRecorded;

export const CONSENT_EVENT_TYPES = [
  'ConsentGranted',
  'ConsentWithdrawn',
  'ConsentRefused',
  'LawfulBasisRecorded',
] as const satisfies readonly ConsentEvent['type'][];

// Fails to compile when an event type is missing from the list above.
const _everyEventTypeListed: Exclude<ConsentEvent['type'], (typeof CONSENT_EVENT_TYPES)[number]> extends never
  ? true
  : never = true;
