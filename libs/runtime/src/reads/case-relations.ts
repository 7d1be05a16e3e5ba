import { isInContact, isSeizedOf } from '@nrm/projections';
import type { ReadModel } from './read-model';

/**
 * Relations to a case that stand for more than being party to it, read from the case directory
 * (which the party check has already awaited).
 */

/**
 * Whether an agency is in direct contact with the person (rule 7): it reported the case, provides
 * support, or received the person through a completed handoff. Only such an agency records consent.
 */
export function inContact(readModel: ReadModel, caseId: string, agencyId: string): Promise<boolean> {
  return isInContact(readModel.store, caseId, agencyId);
}

/**
 * Whether a competent authority is seized of a case: the case was referred to it (and it neither
 * declined nor saw the referral withdrawn), it reported the case itself, or the national
 * coordinator designated it (`CompetentAuthorityDesignated`). A grounds decision posted by an
 * agency seized of nothing never counts: being seized comes before deciding.
 */
export function isSeized(readModel: ReadModel, caseId: string, agencyId: string): Promise<boolean> {
  return isSeizedOf(readModel.store, caseId, agencyId);
}
