import type { AccessDenied, AccessReviewed, BreakGlassAccessUsed, RecordAccessed } from '@nrm/access';
import type { RecordedEvent } from '@nrm/event-store';
import type { PotentialVictimReported } from '@nrm/identification';
import type { SealedText } from '@nrm/shared-kernel';
import type { Projection } from '../projection';
import type { SqlRunner, SqlValue } from '../store/read-model-store';

/**
 * What the access log reads of a `BreakGlassAccessUsed` payload. The event type
 * itself is owned by the break-glass context (libs/access); the checks below
 * fail to compile if its payload no longer has this shape.
 */
export interface BreakGlassAccessUsedRead {
  readonly principalId: string;
  readonly agencyId: string;
  readonly agencyKind: string;
  readonly caseId: string;
  readonly subjectId: string;
  readonly view: string;
  readonly purpose: string;
  /** Schema 1: in clear. */
  readonly justification?: string;
  /** Schema 2: sealed under the subject's key (null: recorded after the subject's erasure). */
  readonly sealedJustification?: SealedText | null;
  readonly categories: readonly string[];
  readonly requestId: string;
}

/** What the access log reads of an `AccessReviewed` payload (see `BreakGlassAccessUsedRead`). */
export interface AccessReviewedRead {
  readonly accessEventId: string;
  readonly caseId: string;
  readonly subjectId: string;
  readonly finding: string;
  /** Schema 1: in clear. */
  readonly note?: string;
  /** Schema 2: sealed under the subject's key (null: recorded after the subject's erasure). */
  readonly sealedNote?: SealedText | null;
  readonly principalId: string;
  readonly agencyId: string;
  readonly agencyKind: string;
  readonly requestId: string;
  readonly reviewedAt: string;
}

// The access log reads the break-glass context's payloads by shape; these fail to compile if they drift apart.
const _breakGlassFitsProjection = (d: BreakGlassAccessUsed['data']): BreakGlassAccessUsedRead => d;
const _reviewFitsProjection = (d: AccessReviewed['data']): AccessReviewedRead => d;

export const ACCESS_LOG_AUDIT_TYPES = [
  'RecordAccessed',
  'AccessDenied',
  'BreakGlassAccessUsed',
  'AccessReviewed',
] as const;
export type AccessLogEventType = (typeof ACCESS_LOG_AUDIT_TYPES)[number];

/** The audit events, plus the reports that tie a case to its subject. */
export const ACCESS_LOG_EVENT_TYPES = [
  ...ACCESS_LOG_AUDIT_TYPES,
  'PotentialVictimReported',
] as const satisfies readonly string[];

/** On which basis data was returned, category by category. */
export interface BasisEntry {
  readonly category: string;
  readonly basis: string;
  readonly consentId?: string;
  readonly lawfulBasisId?: string;
}

export type ReviewStatus = 'pending' | 'reviewed';

/** One audit event, as the oversight body and the subject access report see it. */
export interface AccessLogEntry {
  readonly position: number;
  readonly eventId: string;
  readonly type: AccessLogEventType;
  readonly at: string;
  readonly principalId?: string;
  readonly agencyId?: string;
  readonly agencyKind?: string;
  readonly caseId?: string;
  readonly subjectId?: string;
  /** A listing: the cases named in its answer. */
  readonly caseIds?: readonly string[];
  readonly view?: string;
  readonly purpose?: string;
  readonly basis?: readonly BasisEntry[];
  /** Denials: why. */
  readonly reason?: string;
  /** Denials of an operation on a referral or a consent: its id, as requested. */
  readonly referralId?: string;
  readonly consentId?: string;
  /** Denials recorded by the refusal audit: the answer's status and problem code. */
  readonly status?: number;
  readonly code?: string;
  /**
   * Break-glass: the written justification, as recorded: in clear (schema 1) or sealed under the
   * subject's key (schema 2; null when recorded after the subject's erasure). Readers open it
   * (libs/privacy `openTextFor`) before it is shown.
   */
  readonly justification?: string | SealedText | null;
  /** Break-glass: pending until an `AccessReviewed` names it. */
  readonly review?: {
    readonly status: ReviewStatus;
    readonly finding?: string;
    /** As recorded, like the justification: in clear (schema 1) or sealed (schema 2); readers open it. */
    readonly note?: string | SealedText | null;
    readonly reviewedAt?: string;
    readonly reviewedByPrincipalId?: string;
    readonly reviewedByAgencyId?: string;
  };
  /** AccessReviewed: the break-glass access it reviews, and the finding. */
  readonly reviewsEventId?: string;
  readonly finding?: string;
  readonly note?: string | SealedText | null;
  readonly requestId?: string;
}

/**
 * The access log: one row per audit event (reads, denials, break-glass
 * accesses, reviews), for the oversight body and the subject access report.
 * A small map from case to subject, built from the reports, lets a denial that
 * names only a case be found under its subject.
 */
export const accessLog: Projection = {
  name: 'access-log',
  // 2: denials keep the referral or consent id, and the answer's status and code.
  // 3: a break-glass justification is kept as recorded, sealed (schema 2) or in clear (schema 1).
  // 4: a review note too (AccessReviewed schema 2 seals it).
  version: 4,
  eventTypes: ACCESS_LOG_EVENT_TYPES,

  async setUp(tx) {
    await tx.exec(`
      CREATE TABLE access_log (
        position BIGINT PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        principal_id TEXT, agency_id TEXT, agency_kind TEXT,
        case_id TEXT, subject_id TEXT, case_ids TEXT,
        view TEXT, purpose TEXT, basis TEXT,
        reason TEXT, justification TEXT, justification_sealed TEXT,
        referral_id TEXT, consent_id TEXT, status INTEGER, code TEXT,
        review_status TEXT, finding TEXT, review_note TEXT, review_note_sealed TEXT, reviewed_at TEXT,
        reviewed_by_principal TEXT, reviewed_by_agency TEXT,
        reviews_event_id TEXT,
        request_id TEXT);
      CREATE INDEX access_log_by_subject ON access_log (subject_id, position);
      CREATE INDEX access_log_by_case ON access_log (case_id, position);
      CREATE INDEX access_log_by_agency ON access_log (agency_id, position);
      CREATE INDEX access_log_by_at ON access_log (at);
      CREATE INDEX access_log_by_type ON access_log (type, position);
      CREATE TABLE access_log_subject_cases (case_id TEXT PRIMARY KEY, subject_id TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX access_log_subject_cases_by_subject ON access_log_subject_cases (subject_id);
    `);
  },

  async tearDown(tx) {
    await tx.exec('DROP TABLE IF EXISTS access_log; DROP TABLE IF EXISTS access_log_subject_cases;');
  },

  async apply(db, recorded) {
    switch (recorded.type) {
      case 'PotentialVictimReported': {
        const d = recorded.data as unknown as PotentialVictimReported['data'];
        await db.run(
          `INSERT INTO access_log_subject_cases (case_id, subject_id) VALUES (?, ?)
           ON CONFLICT (case_id) DO NOTHING`,
          [d.caseId, d.subjectId],
        );
        return;
      }
      case 'RecordAccessed': {
        const d = recorded.data as unknown as RecordAccessed['data'];
        await insert(db, recorded, {
          principal_id: d.principalId,
          agency_id: d.agencyId,
          agency_kind: d.agencyKind,
          case_id: d.caseId ?? null,
          subject_id: d.subjectId ?? (await subjectOf(db, d.caseId)),
          case_ids: d.caseIds ? JSON.stringify(d.caseIds) : null,
          view: d.view,
          purpose: d.purpose ?? null,
          basis: JSON.stringify(d.categories),
          request_id: d.requestId,
        });
        return;
      }
      case 'AccessDenied': {
        // Denials of a subject's report name the subject, not a case.
        const d = recorded.data as unknown as AccessDenied['data'];
        await insert(db, recorded, {
          principal_id: d.principalId,
          agency_id: d.agencyId,
          agency_kind: d.agencyKind,
          case_id: d.caseId ?? null,
          subject_id: d.subjectId ?? (await subjectOf(db, d.caseId)),
          view: d.view,
          purpose: d.purpose ?? null,
          reason: d.reason,
          referral_id: d.referralId ?? null,
          consent_id: d.consentId ?? null,
          status: typeof d.status === 'number' ? d.status : null,
          code: d.code ?? null,
          request_id: d.requestId,
        });
        return;
      }
      case 'BreakGlassAccessUsed': {
        const d = recorded.data as unknown as BreakGlassAccessUsedRead;
        await insert(db, recorded, {
          principal_id: d.principalId,
          agency_id: d.agencyId,
          agency_kind: d.agencyKind,
          case_id: d.caseId,
          subject_id: d.subjectId,
          view: d.view,
          purpose: d.purpose,
          basis: JSON.stringify(d.categories.map((category) => ({ category, basis: 'break-glass' }))),
          ...(d.sealedJustification !== undefined
            ? { justification_sealed: JSON.stringify(d.sealedJustification) }
            : { justification: d.justification ?? null }),
          review_status: 'pending',
          request_id: d.requestId,
        });
        return;
      }
      case 'AccessReviewed': {
        const d = recorded.data as unknown as AccessReviewedRead;
        await insert(db, recorded, {
          principal_id: d.principalId,
          agency_id: d.agencyId,
          agency_kind: d.agencyKind,
          case_id: d.caseId,
          subject_id: d.subjectId,
          finding: d.finding,
          ...noteColumns(d),
          reviews_event_id: d.accessEventId,
          request_id: d.requestId,
        });
        await db.run(
          `UPDATE access_log SET review_status = 'reviewed', finding = ?, review_note = ?, review_note_sealed = ?,
                  reviewed_at = ?, reviewed_by_principal = ?, reviewed_by_agency = ?
            WHERE event_id = ? AND type = 'BreakGlassAccessUsed'`,
          [
            d.finding,
            noteColumns(d).review_note ?? null,
            noteColumns(d).review_note_sealed ?? null,
            utcInstant(d.reviewedAt),
            d.principalId,
            d.agencyId,
            d.accessEventId,
          ],
        );
        return;
      }
      default:
        return;
    }
  },
};

/** A review note as recorded: sealed (schema 2, JSON; `null` after the erasure) or in clear (schema 1). */
function noteColumns(d: AccessReviewedRead): { review_note?: string | null; review_note_sealed?: string } {
  return d.sealedNote !== undefined
    ? { review_note_sealed: JSON.stringify(d.sealedNote) }
    : { review_note: d.note ?? null };
}

const COLUMNS = [
  'principal_id',
  'agency_id',
  'agency_kind',
  'case_id',
  'subject_id',
  'case_ids',
  'view',
  'purpose',
  'basis',
  'reason',
  'justification',
  'justification_sealed',
  'referral_id',
  'consent_id',
  'status',
  'code',
  'review_status',
  'finding',
  'review_note',
  'review_note_sealed',
  'reviews_event_id',
  'request_id',
] as const;
type Column = (typeof COLUMNS)[number];

const INSERT_SQL = `INSERT INTO access_log (position, event_id, type, at, ${COLUMNS.join(', ')})
  VALUES (?, ?, ?, ?, ${COLUMNS.map(() => '?').join(', ')})
  ON CONFLICT DO NOTHING`;

async function insert(
  db: SqlRunner,
  recorded: RecordedEvent,
  values: Partial<Record<Column, string | number | null>>,
): Promise<void> {
  await db.run(INSERT_SQL, [
    recorded.position,
    recorded.id,
    recorded.type,
    utcInstant(recorded.metadata.occurredAt),
    ...COLUMNS.map((c) => values[c] ?? null),
  ]);
}

async function subjectOf(db: SqlRunner, caseId: string | undefined): Promise<string | null> {
  if (caseId === undefined) return null;
  const row = await db.get<{ subject_id: string }>(
    'SELECT subject_id FROM access_log_subject_cases WHERE case_id = ?',
    [caseId],
  );
  return row?.subject_id ?? null;
}

/**
 * Instants are stored in UTC ('…Z') so that comparing strings compares times.
 * A value that is not an instant is kept as it is: it must not stop the projector.
 */
export function utcInstant(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

// ---- queries ---------------------------------------------------------------------------------

export interface AccessLogFilter {
  readonly types: readonly AccessLogEventType[];
  readonly subjectId?: string;
  readonly caseId?: string;
  readonly agencyId?: string;
  /** Inclusive, a UTC instant as `utcInstant()` writes it. */
  readonly from?: string;
  /** Exclusive, a UTC instant as `utcInstant()` writes it. */
  readonly to?: string;
  /** Break-glass accesses only. */
  readonly reviewStatus?: ReviewStatus;
}

export interface AccessLogPage {
  readonly entries: AccessLogEntry[];
  /** The cursor of the next page, when there may be one. */
  readonly nextCursor?: number;
}

interface Row {
  position: number;
  event_id: string;
  type: AccessLogEventType;
  at: string;
  principal_id: string | null;
  agency_id: string | null;
  agency_kind: string | null;
  case_id: string | null;
  subject_id: string | null;
  case_ids: string | null;
  view: string | null;
  purpose: string | null;
  basis: string | null;
  reason: string | null;
  justification: string | null;
  /** JSON: the sealed text, or null (recorded after the subject's erasure). */
  justification_sealed: string | null;
  referral_id: string | null;
  consent_id: string | null;
  status: number | string | null;
  code: string | null;
  review_status: ReviewStatus | null;
  finding: string | null;
  review_note: string | null;
  /** JSON: the sealed note, or null (recorded after the subject's erasure). */
  review_note_sealed: string | null;
  reviewed_at: string | null;
  reviewed_by_principal: string | null;
  reviewed_by_agency: string | null;
  reviews_event_id: string | null;
  request_id: string | null;
}

/**
 * One page of the access log, by store position: newest first (cursor: the
 * position to continue below) or oldest first (continue above).
 */
export async function accessLogPage(
  db: SqlRunner,
  filter: AccessLogFilter,
  page: { readonly limit: number; readonly cursor?: number; readonly order: 'newest-first' | 'oldest-first' },
): Promise<AccessLogPage> {
  if (filter.types.length === 0) return { entries: [] };
  const where: string[] = [`type IN (${filter.types.map(() => '?').join(', ')})`];
  const params: SqlValue[] = [...filter.types];
  const add = (clause: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  add('subject_id = ?', filter.subjectId);
  add('case_id = ?', filter.caseId);
  add('agency_id = ?', filter.agencyId);
  add('at >= ?', filter.from);
  add('at < ?', filter.to);
  add('review_status = ?', filter.reviewStatus);
  const newestFirst = page.order === 'newest-first';
  add(newestFirst ? 'position < ?' : 'position > ?', page.cursor);
  const rows = await db.all<Row>(
    `SELECT * FROM access_log WHERE ${where.join(' AND ')}
      ORDER BY position ${newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
    [...params, page.limit + 1],
  );
  const more = rows.length > page.limit;
  const entries = rows.slice(0, page.limit).map(toEntry);
  const last = entries[entries.length - 1];
  return { entries, ...(more && last ? { nextCursor: last.position } : {}) };
}

/** The cases of a subject known to the access log (from the reports), oldest first. */
export async function casesOfSubject(db: SqlRunner, subjectId: string): Promise<string[]> {
  const rows = await db.all<{ case_id: string }>(
    'SELECT case_id FROM access_log_subject_cases WHERE subject_id = ? ORDER BY case_id',
    [subjectId],
  );
  return rows.map((r) => r.case_id);
}

/** One break-glass access, or undefined. */
export async function breakGlassAccess(db: SqlRunner, eventId: string): Promise<AccessLogEntry | undefined> {
  const row = await db.get<Row>(
    `SELECT * FROM access_log WHERE event_id = ? AND type = 'BreakGlassAccessUsed'`,
    [eventId],
  );
  return row ? toEntry(row) : undefined;
}

function toEntry(row: Row): AccessLogEntry {
  const optional = <K extends string, V>(key: K, value: V | null): { [P in K]?: V } =>
    (value === null ? {} : { [key]: value }) as { [P in K]?: V };
  return {
    position: row.position,
    eventId: row.event_id,
    type: row.type,
    at: row.at,
    ...optional('principalId', row.principal_id),
    ...optional('agencyId', row.agency_id),
    ...optional('agencyKind', row.agency_kind),
    ...optional('caseId', row.case_id),
    ...optional('subjectId', row.subject_id),
    ...optional('caseIds', row.case_ids === null ? null : (JSON.parse(row.case_ids) as string[])),
    ...optional('view', row.view),
    ...optional('purpose', row.purpose),
    ...optional('basis', row.basis === null ? null : (JSON.parse(row.basis) as BasisEntry[])),
    ...optional('reason', row.reason),
    ...optional('referralId', row.referral_id),
    ...optional('consentId', row.consent_id),
    ...optional('status', row.status === null ? null : Number(row.status)),
    ...optional('code', row.code),
    ...optional('justification', row.justification),
    ...(row.justification_sealed === null
      ? {}
      : { justification: JSON.parse(row.justification_sealed) as SealedText | null }),
    ...(row.review_status === null
      ? {}
      : {
          review: {
            status: row.review_status,
            ...optional('finding', row.finding),
            ...recordedNote(row),
            ...optional('reviewedAt', row.reviewed_at),
            ...optional('reviewedByPrincipalId', row.reviewed_by_principal),
            ...optional('reviewedByAgencyId', row.reviewed_by_agency),
          },
        }),
    ...(row.type === 'AccessReviewed'
      ? {
          ...optional('reviewsEventId', row.reviews_event_id),
          ...optional('finding', row.finding),
          ...recordedNote(row),
        }
      : {}),
    ...optional('requestId', row.request_id),
  };
}

/** The review note of a row as recorded: in clear, sealed (opened by readers), or none. */
function recordedNote(row: Row): { note?: string | SealedText | null } {
  if (row.review_note_sealed !== null)
    return { note: JSON.parse(row.review_note_sealed) as SealedText | null };
  return row.review_note === null ? {} : { note: row.review_note };
}
