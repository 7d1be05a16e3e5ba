import type { AgencyKind, DataCategory, DomainEvent, Purpose, SealedText } from '@nrm/shared-kernel';

/**
 * Break-glass: a principal with that role reads a case beyond consent, with a
 * written justification. The read is recorded before the answer leaves (on its
 * own `access-<eventId>` stream, like every audited read) and waits in the
 * oversight body's queue until an `AccessReviewed` names it.
 *
 * Schema 1 kept the justification in clear (`justification`); schema 2 seals it under the
 * subject's key (`sealedJustification`), so that the subject's erasure shreds it with the
 * identity: the API asks that it not describe the person, but nothing can enforce that.
 */
export type BreakGlassAccessUsed = DomainEvent<
  'BreakGlassAccessUsed',
  {
    readonly principalId: string;
    readonly agencyId: string;
    readonly agencyKind: AgencyKind;
    readonly caseId: string;
    readonly subjectId: string;
    readonly view: 'case-break-glass';
    readonly purpose: Purpose;
    /** Schema 1: why consent was overridden, in the reader's words, in clear; read by oversight. */
    readonly justification?: string;
    /**
     * Schema 2: the same text sealed under the subject's key; `null` when the subject had already
     * been erased when the read was made (the text is then not kept).
     */
    readonly sealedJustification?: SealedText | null;
    /** Every category returned; none of them was covered by consent for this read. */
    readonly categories: readonly DataCategory[];
    readonly requestId: string;
    readonly accessedAt: string;
  }
> & { readonly schemaVersion: 1 | 2 };

export const REVIEW_FINDINGS = ['justified', 'unjustified', 'needs-follow-up'] as const;
export type ReviewFinding = (typeof REVIEW_FINDINGS)[number];

/**
 * The oversight body's finding on one break-glass access; at most one per access.
 *
 * Schema 1 kept the note (a reference code) in clear (`note`); schema 2 seals it under the
 * subject's key (`sealedNote`), as the justification it reviews: a code can still spell a name
 * ("DPA:Name_Surname:ok"), and the subject's erasure must shred it with the identity.
 */
export type AccessReviewed = DomainEvent<
  'AccessReviewed',
  {
    /** The id of the `BreakGlassAccessUsed` event reviewed. */
    readonly accessEventId: string;
    readonly caseId: string;
    readonly subjectId: string;
    readonly finding: ReviewFinding;
    /** Schema 1: a reference code (e.g. the oversight body's file number), in clear. */
    readonly note?: string;
    /**
     * Schema 2: the reference code sealed under the subject's key; `null` when the subject had
     * already been erased when the review was recorded (the note is then not kept).
     */
    readonly sealedNote?: SealedText | null;
    readonly principalId: string;
    readonly agencyId: string;
    readonly agencyKind: AgencyKind;
    readonly requestId: string;
    readonly reviewedAt: string;
  }
> & { readonly schemaVersion: 1 | 2 };

/** One stream per reviewed access: a second review finds the stream taken and conflicts. */
export const accessReviewStream = (accessEventId: string) => `access-review-${accessEventId}`;

export type BreakGlassEvent = BreakGlassAccessUsed | AccessReviewed;
