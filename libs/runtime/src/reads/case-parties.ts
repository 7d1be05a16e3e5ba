import type { EventStore } from '@nrm/event-store';
import { referralEnds } from '@nrm/projections';
import { referralNotFound } from '@nrm/referral';
import { mayCoordinate } from '@nrm/access';
import type { PartyCheck } from '../commands';
import { caseNotFound } from '@nrm/shared-kernel';
import { awaitReadModel, CASE_DIRECTORY_USED, isParty, type ReadModel } from './read-model';

/**
 * The party checks of commands (`PartyCheck`, libs/runtime/src/commands), decided on the case
 * directory: whether the acting agency is party to a case (reporter, referral sender or receiver,
 * decision-maker, support provider), checked before anything else about the case. A case of which
 * the agency is no party answers exactly like a case that does not exist (`caseNotFound`), so that
 * a non-party cannot tell the two apart.
 */
export type { PartyCheck };

/** The one answer for a case that does not exist and for a case the agency has no part in (the shared kernel's). */
export { caseNotFound } from '@nrm/shared-kernel';

/** The one answer for a referral that does not exist and for a referral the agency has no part in (the referral context's). */
export { referralNotFound } from '@nrm/referral';

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
    await awaitReadModel(store, readModel, CASE_DIRECTORY_USED);
    if (!(await member(readModel, caseId, actor.agencyId))) throw caseNotFound();
  };
}

/**
 * Who may designate a competent authority for a case: the national coordinator's coordinator
 * (`mayCoordinate`), which is party to no case. Anyone else, a party of the case included, gets the
 * answer of an unknown case, decided like the party check (after the read model has caught up,
 * before the case's stream is read), so that the answer does not depend on the case.
 */
export function designatorCheck(store: EventStore, readModel: ReadModel): PartyCheck {
  return async (_caseId, actor) => {
    await awaitReadModel(store, readModel, CASE_DIRECTORY_USED);
    if (!mayCoordinate(actor)) throw caseNotFound();
  };
}

/**
 * Whether the acting agency may know of a referral: the agency that made it, the
 * agency it is addressed to, and the national coordinator, which watches over
 * every handoff (and escalates the overdue ones). Anyone else, other parties of
 * the same case included, gets `referralNotFound`, as for a referral never made.
 */
export type ReferralPartyCheck = PartyCheck;

export function referralPartyCheck(store: EventStore, readModel: ReadModel): ReferralPartyCheck {
  return async (referralId, actor) => {
    await awaitReadModel(store, readModel, CASE_DIRECTORY_USED);
    const row = await referralEnds(readModel.store, referralId);
    const party =
      row !== undefined &&
      (row.fromAgency === actor.agencyId ||
        row.toAgency === actor.agencyId ||
        actor.agencyKind === 'national-coordinator');
    if (!party) throw referralNotFound();
  };
}
