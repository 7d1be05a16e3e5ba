import type { EventStore } from '@nrm/event-store';
import { notFound, type Actor } from '@nrm/shared-kernel';
import { awaitReadModel, isParty, type ReadModel } from './read-model';

/**
 * Whether the acting agency is party to a case (reporter, referral sender or
 * receiver, decision-maker, support provider), checked before a command on the
 * case is decided. Absent for the operator's console, which acts for no agency.
 */
export type PartyCheck = (caseId: string, actor: Actor) => Promise<void>;

/**
 * Decided on the case directory once it has applied everything stored before the command. `member`
 * narrows who counts (e.g. a competent authority seized of the case); whoever fails it gets the
 * non-party answer.
 */
export function casePartyCheck(
  store: EventStore,
  readModel: ReadModel,
  member: (readModel: ReadModel, caseId: string, agencyId: string) => Promise<boolean> = isParty,
): PartyCheck {
  return async (caseId, actor) => {
    await awaitReadModel(store, readModel);
    // The same answer as for a case that does not exist: commands reveal no more than reads.
    if (!(await member(readModel, caseId, actor.agencyId)))
      throw notFound('CASE.NOT_FOUND', 'No case with this id is known to your agency.', 'caseId');
  };
}
