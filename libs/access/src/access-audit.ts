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
  // Refusals of any operation on an id, as the refusal audit records them (the answer's status class):
  'not-a-party-or-unknown-referral',
  'not-a-party-or-unknown-subject',
  'not-found',
  'not-allowed',
  'invalid-request',
  'purpose-not-in-header',
  'not-possible-in-state',
  'rule-broken',
  // A valid credential of a principal, or of an agency, that the registry has switched off.
  'principal-disabled',
  'agency-disabled',
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
    /** As requested, for operations on a referral or a consent. */
    readonly referralId?: string;
    readonly consentId?: string;
    /** Any other id in the request's path, as requested (e.g. `accessEventId`). */
    readonly otherIds?: Readonly<Record<string, string>>;
    /** The view read, or the operation attempted (`POST /referrals/:referralId/acceptance`). */
    readonly view: string;
    readonly purpose?: Purpose;
    readonly reason: DenialReason;
    /** The answer's status and problem code, when the refusal audit recorded it. */
    readonly status?: number;
    readonly code?: string;
    readonly requestId: string;
    readonly deniedAt: string;
  }
>;

export type AccessAuditEvent = RecordAccessed | AccessDenied;
export const ACCESS_AUDIT_EVENT_TYPES = [
  'RecordAccessed',
  'AccessDenied',
] as const satisfies readonly AccessAuditEvent['type'][];

/**
 * Why the verifiable log was exported. An export holds every event of its range,
 * so it is itself audited: who, which range, why, and which file.
 */
export const LOG_EXPORT_PURPOSES = [
  'oversight-review',
  'legal-proceedings',
  'subject-access-request',
  'integrity-check',
] as const;
export type LogExportPurpose = (typeof LOG_EXPORT_PURPOSES)[number];

/**
 * The reason of an export is a reference (a file number, a court case number),
 * never prose: the event is immutable and must hold no personal data.
 */
export const LOG_EXPORT_REASON = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

export type LogExported = DomainEvent<
  'LogExported',
  {
    readonly exportId: string;
    /** Who exported: the operator's console (its OS account), or a principal through the API. */
    readonly exportedBy:
      | { readonly via: 'console'; readonly osUser: string; readonly host: string }
      | { readonly via: 'api'; readonly principalId: string; readonly agencyId: string };
    readonly fromPosition: number;
    readonly toPosition: number;
    readonly events: number;
    /** The latest checkpoint in the export. */
    readonly treeSize: number;
    readonly rootHash: string;
    readonly purpose: LogExportPurpose;
    /** A reference, e.g. `DPA-2026-0117` (see `LOG_EXPORT_REASON`). */
    readonly reason: string;
    /** SHA-256 of the export file, so that the file can be matched to this event. */
    readonly fileSha256: string;
    readonly requestId: string;
    readonly exportedAt: string;
  }
>;
