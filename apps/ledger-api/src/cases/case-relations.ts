import type { ReadModel } from './read-model';

/**
 * Relations to a case that stand for more than being party to it, read from the case directory
 * (which the party check has already awaited).
 */

/**
 * Whether an agency is in direct contact with the person (rule 7): it reported the case, provides
 * support, or received the person through a completed handoff. Only such an agency records consent.
 */
export async function inContact(readModel: ReadModel, caseId: string, agencyId: string): Promise<boolean> {
  const row = await readModel.store.get(
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
 * Whether a competent authority is seized of a case: the case was referred to it (and it neither
 * declined nor saw the referral withdrawn), it reported the case itself, or the national
 * coordinator designated it (`CompetentAuthorityDesignated`). A grounds decision posted by an
 * agency seized of nothing never counts: being seized comes before deciding.
 */
export async function isSeized(readModel: ReadModel, caseId: string, agencyId: string): Promise<boolean> {
  const row = await readModel.store.get(
    `SELECT 1 AS seized FROM case_parties
       WHERE case_id = ? AND agency_id = ? AND relation IN ('reporter', 'designated-authority')
     UNION ALL
     SELECT 1 FROM referral_docs
       WHERE case_id = ? AND to_agency = ? AND status NOT IN ('declined', 'withdrawn')
     LIMIT 1`,
    [caseId, agencyId, caseId, agencyId],
  );
  return row !== undefined;
}
