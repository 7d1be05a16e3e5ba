import type { AgencyKind, DataCategory, DomainEvent, Purpose } from '@nrm/shared-kernel';

/**
 * The audit of reads (writes are already events): every read of case data and
 * every denial is itself an event, appended before the answer leaves, so that an
 * oversight body can tell who saw what, when, and on which basis.
 */

/** One stream per audited request: audit appends never contend with each other. */
export const accessStream = (auditId: string) => `access-${auditId}`;

export type ReadBasis =
  | { readonly category: DataCategory; readonly basis: 'consent'; readonly consentId: string }
  | { readonly category: DataCategory; readonly basis: 'lawful-basis'; readonly lawfulBasisId: string };

export type RecordAccessed = DomainEvent<
  'RecordAccessed',
  {
    readonly principalId: string;
    readonly agencyId: string;
    readonly agencyKind: AgencyKind;
    /** The case read, or absent for a listing. */
    readonly caseId?: string;
    readonly subjectId?: string;
    readonly view: string;
    readonly purpose?: Purpose;
    /** What was returned, category by category, and on which basis. */
    readonly categories: readonly ReadBasis[];
    /** For listings: the cases named in the answer. */
    readonly caseIds?: readonly string[];
    /** For a view of the past: the instant the data was shown as of. */
    readonly asOf?: string;
    readonly requestId: string;
    readonly accessedAt: string;
  }
>;

export const DENIAL_REASONS = [
  'not-a-party-or-unknown-case',
  'no-consent-or-lawful-basis',
  'purpose-missing-or-unknown',
  'role-not-allowed',
  'kind-not-allowed',
  'not-the-national-coordinator',
  'oversight-only',
  'break-glass-role-required',
  'break-glass-not-for-agency-kind',
  'access-report-not-for-role-or-kind',
  'as-of-invalid',
  'case-not-reported-as-of',
] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

export type AccessDenied = DomainEvent<
  'AccessDenied',
  {
    readonly principalId: string;
    readonly agencyId: string;
    readonly agencyKind: AgencyKind;
    /** As requested: it may name a case that does not exist. */
    readonly caseId?: string;
    /** As requested, for views by subject (access report, consent history). */
    readonly subjectId?: string;
    readonly view: string;
    readonly purpose?: Purpose;
    readonly reason: DenialReason;
    readonly requestId: string;
    readonly deniedAt: string;
  }
>;

export type AccessAuditEvent = RecordAccessed | AccessDenied;
export const ACCESS_AUDIT_EVENT_TYPES = [
  'RecordAccessed',
  'AccessDenied',
] as const satisfies readonly AccessAuditEvent['type'][];
