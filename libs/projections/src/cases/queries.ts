import { receiverStanding } from '@nrm/referral';
import type { SqlRunner } from '../store/read-model-store';
import type { CaseDoc, ReferralDoc } from './case-directory';

/**
 * The case directory's named queries: every read of its tables (`case_docs`, `case_parties`,
 * `referral_docs`) that the API makes, beside the projection that writes them. No app writes SQL
 * against these tables. `caseAsOf` runs the first ones on its scratch directory too.
 */

/** A case's document from a case directory. */
export async function caseDocOf(db: SqlRunner, caseId: string): Promise<CaseDoc | undefined> {
  const row = await db.get<{ doc: string }>('SELECT doc FROM case_docs WHERE case_id = ?', [caseId]);
  return row ? (JSON.parse(row.doc) as CaseDoc) : undefined;
}

/** A case's referrals in a case directory, oldest first. */
export async function referralsOfCase(db: SqlRunner, caseId: string): Promise<ReferralDoc[]> {
  const rows = await db.all<{ doc: string }>(
    'SELECT doc FROM referral_docs WHERE case_id = ? ORDER BY made_at, referral_id',
    [caseId],
  );
  return rows.map((r) => JSON.parse(r.doc) as ReferralDoc);
}

/** The ids of a case's referrals in a case directory. */
export async function referralIdsOfCase(db: SqlRunner, caseId: string): Promise<string[]> {
  const rows = await db.all<{ referral_id: string }>(
    'SELECT referral_id FROM referral_docs WHERE case_id = ?',
    [caseId],
  );
  return rows.map((r) => r.referral_id);
}

/** The case a referral belongs to, or undefined for a referral not in the directory. */
export async function caseOfReferral(db: SqlRunner, referralId: string): Promise<string | undefined> {
  const row = await db.get<{ caseId: string }>(
    'SELECT case_id AS "caseId" FROM referral_docs WHERE referral_id = ?',
    [referralId],
  );
  return row?.caseId;
}

/** Whether any case of the directory is about this subject. */
export async function isKnownSubject(db: SqlRunner, subjectId: string): Promise<boolean> {
  const row = await db.get('SELECT 1 AS known FROM case_docs WHERE subject_id = ? LIMIT 1', [subjectId]);
  return row !== undefined;
}

/**
 * Whether an agency is party to a case, in any relation: the one check of reads, listing,
 * break-glass and commands. A referral declined, or withdrawn before it was accepted, leaves its
 * receiver no relation (the directory drops it, `receiverStanding`, libs/referral).
 */
export async function isPartyTo(db: SqlRunner, caseId: string, agencyId: string): Promise<boolean> {
  const row = await db.get(
    'SELECT 1 AS party FROM case_parties WHERE case_id = ? AND agency_id = ? LIMIT 1',
    [caseId, agencyId],
  );
  return row !== undefined;
}

/**
 * Whether an agency is in direct contact with the person: it reported the case, provides support,
 * or received the person through a completed handoff.
 */
export async function isInContact(db: SqlRunner, caseId: string, agencyId: string): Promise<boolean> {
  const row = await db.get(
    `SELECT 1 AS contact FROM case_parties
       WHERE case_id = ? AND agency_id = ? AND relation IN ('reporter', 'support-provider')
     UNION ALL
     SELECT 1 FROM referral_docs WHERE case_id = ? AND to_agency = ? AND status = 'completed'
     LIMIT 1`,
    [caseId, agencyId, caseId, agencyId],
  );
  return row !== undefined;
}

/**
 * Whether a competent authority is seized of a case: reported by it, designated by the national
 * coordinator, or referred to it by a referral that still seizes it (`receiverStanding`,
 * libs/referral: open or carried out, neither declined nor withdrawn). The same rule that decides
 * which receivers keep their party row in the directory.
 */
export async function isSeizedOf(db: SqlRunner, caseId: string, agencyId: string): Promise<boolean> {
  const row = await db.get(
    `SELECT 1 AS seized FROM case_parties
       WHERE case_id = ? AND agency_id = ? AND relation IN ('reporter', 'designated-authority') LIMIT 1`,
    [caseId, agencyId],
  );
  if (row !== undefined) return true;
  const referrals = await db.all<{ doc: string }>(
    'SELECT doc FROM referral_docs WHERE case_id = ? AND to_agency = ?',
    [caseId, agencyId],
  );
  return referrals.some((r) => receiverStanding(JSON.parse(r.doc) as ReferralDoc) === 'seized');
}

/** The two ends of a referral, or undefined for a referral not in the directory. */
export function referralEnds(
  db: SqlRunner,
  referralId: string,
): Promise<{ fromAgency: string; toAgency: string } | undefined> {
  return db.get<{ fromAgency: string; toAgency: string }>(
    'SELECT from_agency AS "fromAgency", to_agency AS "toAgency" FROM referral_docs WHERE referral_id = ?',
    [referralId],
  );
}

/** A keyset page position: the time and id of the last row of the previous page. */
export interface PageAfter {
  readonly time: string;
  readonly id: string;
}

/** The instant and id inside a cursor: the forms the read models store. */
const PAGE_AFTER = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z)~([A-Za-z0-9][A-Za-z0-9._-]{0,79})$/;
const CURSOR_PREFIX = 'p1~';

/**
 * The opaque cursor of a page that ends at `after`: base64url, so clients treat it as a token and
 * the ledger may change what it holds. It only positions within the caller's own list: every page
 * query filters by the caller's agency before the keyset applies, so a cursor made from another
 * agency's row (or forged) shows nothing but the caller's own rows after that position.
 */
export function pageCursor(after: PageAfter): string {
  return Buffer.from(`${CURSOR_PREFIX}${after.time}~${after.id}`, 'utf8').toString('base64url');
}

/** Matches a cursor's shape (what the HTTP layer validates): base64url, or the earlier plain `<time>~<id>`. */
export const PAGE_CURSOR_PATTERN =
  /^(?:[A-Za-z0-9_-]{1,200}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z~[A-Za-z0-9][A-Za-z0-9._-]{0,79})$/;

/**
 * The position a cursor stands for, or undefined for a string no page of the ledger gave. Cursors
 * of the earlier plain `<time>~<id>` form are still taken, so a client paging across an upgrade goes on.
 */
export function parsePageCursor(cursor: string): PageAfter | undefined {
  let plain = cursor;
  if (!cursor.includes('~')) {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
    const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
    if (!decoded.startsWith(CURSOR_PREFIX)) return undefined;
    plain = decoded.slice(CURSOR_PREFIX.length);
  }
  const match = PAGE_AFTER.exec(plain);
  return match ? { time: match[1]!, id: match[2]! } : undefined;
}

/**
 * The cases an agency is party to, newest reported first, with its relations to each (comma-joined).
 * A range of the index `case_parties_by_agency` (agency, reported_at DESC, case_id), read in its own
 * order and stopped after `limit` cases: no sort of the agency's cases, whatever their number.
 */
export function casesOfAgency(
  db: SqlRunner,
  agencyId: string,
  page: { readonly limit: number; readonly after?: PageAfter },
): Promise<Array<{ caseId: string; relations: string; reportedAt: string }>> {
  const relations = db.dialect === 'postgres' ? "string_agg(relation, ',')" : 'group_concat(relation)';
  const after = page.after;
  // reported_at is '' for a party to a case never reported: not listed, as before (no case document).
  // The cursor bounds the index range (`reported_at <= ?`): a deep page seeks, it does not skip rows.
  return db.all<{ caseId: string; relations: string; reportedAt: string }>(
    `SELECT case_id AS "caseId", ${relations} AS relations, reported_at AS "reportedAt"
       FROM case_parties
      WHERE agency_id = ? AND reported_at > ''
        ${after ? 'AND reported_at <= ? AND (reported_at < ? OR case_id > ?)' : ''}
      GROUP BY reported_at, case_id ORDER BY reported_at DESC, case_id LIMIT ?`,
    [agencyId, ...(after ? [after.time, after.time, after.id] : []), page.limit],
  );
}

/** The referrals an agency receives (`in`) or sends (`out`), newest first; `pending`: still open. */
export async function referralsOfAgency(
  db: SqlRunner,
  agencyId: string,
  query: {
    readonly direction: 'in' | 'out';
    readonly pending: boolean;
    readonly limit: number;
    readonly after?: PageAfter;
  },
): Promise<Array<{ doc: ReferralDoc; madeAt: string }>> {
  const column = query.direction === 'in' ? 'to_agency' : 'from_agency';
  const after = query.after;
  const rows = await db.all<{ doc: string; madeAt: string }>(
    `SELECT doc, made_at AS "madeAt" FROM referral_docs
      WHERE ${column} = ?
        ${query.pending ? "AND status IN ('made', 'acknowledged', 'accepted')" : ''}
        ${after ? 'AND made_at <= ? AND (made_at < ? OR referral_id > ?)' : ''}
      ORDER BY made_at DESC, referral_id LIMIT ?`,
    [agencyId, ...(after ? [after.time, after.time, after.id] : []), query.limit],
  );
  return rows.map((row) => ({ doc: JSON.parse(row.doc) as ReferralDoc, madeAt: row.madeAt }));
}

/** Of the given relations, those an agency holds to any of the given cases (distinct). */
export async function relationsToCases(
  db: SqlRunner,
  caseIds: readonly string[],
  agencyId: string,
  relations: readonly string[],
): Promise<string[]> {
  if (caseIds.length === 0) return [];
  const rows = await db.all<{ relation: string }>(
    `SELECT DISTINCT relation FROM case_parties
      WHERE agency_id = ? AND case_id IN (${caseIds.map(() => '?').join(', ')})
        AND relation IN (${relations.map(() => '?').join(', ')})`,
    [agencyId, ...caseIds, ...relations],
  );
  return rows.map((r) => r.relation);
}
