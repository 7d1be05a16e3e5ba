import type { ReferralDoc } from '../cases/case-directory';
import type { SqlRunner } from '../store/read-model-store';
import type { CaseFactsRow } from './case-facts';

/**
 * The coordinator's named queries, beside the projections they read: the live handoff board's
 * referrals (case directory) and the statistics' case facts (`coordinator_case_facts`).
 */

/** What the handoff board narrows in SQL: each given condition holds (instants in stored form). */
export interface ReferralFilter {
  readonly from?: string | null;
  readonly to?: string | null;
  readonly status?: string;
  readonly fromAgencyId?: string;
  readonly toAgencyId?: string;
}

/** The referrals of the case directory that match the filter, in no particular order. */
export async function referralsMatching(db: SqlRunner, filter: ReferralFilter): Promise<ReferralDoc[]> {
  const where: string[] = [];
  const params: string[] = [];
  const add = (clause: string, value: string | null | undefined): void => {
    if (value === undefined || value === null) return;
    where.push(clause);
    params.push(value);
  };
  add('made_at >= ?', filter.from);
  add('made_at < ?', filter.to);
  add('status = ?', filter.status);
  add('from_agency = ?', filter.fromAgencyId);
  add('to_agency = ?', filter.toAgencyId);
  const rows = await db.all<{ doc: string }>(
    `SELECT doc FROM referral_docs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}`,
    params,
  );
  return rows.map((row) => JSON.parse(row.doc) as ReferralDoc);
}

/** The facts of the cases reported from month `first` to `last` (YYYY-MM), as reported: no case or subject id. */
export async function caseFactsOfMonths(
  db: SqlRunner,
  first: string,
  last: string,
): Promise<Array<{ month: string; region: string; agencyKind: string; exploitationForms: string[] }>> {
  const rows = await db.all<CaseFactsRow>(
    `SELECT month, region, agency_kind AS "agencyKind", forms FROM coordinator_case_facts
     WHERE month >= ? AND month <= ?`,
    [first, last],
  );
  return rows.map((row) => ({
    month: row.month,
    region: row.region,
    agencyKind: row.agencyKind,
    exploitationForms: JSON.parse(row.forms) as string[],
  }));
}
