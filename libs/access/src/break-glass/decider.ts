import {
  conflict,
  forbidden,
  notFound,
  type CommandMetadata,
  type Decider,
  type DomainCommand,
  type SealedText,
} from '@nrm/shared-kernel';
import { mayOverseeAccess } from '../read-decision/who-may';
import type { AccessReviewed, BreakGlassAccessUsed, ReviewFinding } from './events';

/**
 * Break-glass and its review, as a context: a break-glass read is recorded (`BreakGlassAccessUsed`,
 * appended by the read itself before its answer leaves, see `decideRead` with mode `break-glass`),
 * and the oversight body records one finding on it (`AccessReviewed`), on the review's own stream
 * (`accessReviewStream`). The decider rules the review.
 */

/** Record the oversight body's finding on one break-glass access. */
export type ReviewAccess = DomainCommand<
  'ReviewAccess',
  {
    readonly accessEventId: string;
    /** The access reviewed, as read from its stream at its latest revision; undefined when there is none. */
    readonly access: BreakGlassAccessUsed['data'] | undefined;
    readonly finding: ReviewFinding;
    /** The note, already sealed under the subject's key (libs/privacy `sealTextFor`); null after the erasure. */
    readonly sealedNote?: SealedText | null;
  },
  CommandMetadata & { readonly requestId: string }
>;

export type BreakGlassCommand = ReviewAccess;

export type ReviewState =
  | { readonly status: 'unreviewed' }
  | { readonly status: 'reviewed'; readonly finding: ReviewFinding; readonly reviewedAt: string };

export const initialState = (): ReviewState => ({ status: 'unreviewed' });

export function decide(command: BreakGlassCommand, state: ReviewState): readonly AccessReviewed[] {
  switch (command.type) {
    case 'ReviewAccess':
      return [reviewAccess(command, state)];
  }
}

/** One review per break-glass access, by the oversight body, of an access that exists. */
function reviewAccess(command: ReviewAccess, state: ReviewState): AccessReviewed {
  const { actor, now, requestId } = command.metadata;
  const decision = mayOverseeAccess(actor);
  if (!decision.allowed) throw forbidden(decision.code, decision.detail);
  const { access } = command.data;
  if (access === undefined)
    throw notFound(
      'OVERSIGHT.BREAK_GLASS_NOT_FOUND',
      'No break-glass access is recorded with this id.',
      'accessEventId',
    );
  if (state.status === 'reviewed')
    throw conflict(
      'OVERSIGHT.ALREADY_REVIEWED',
      `This break-glass access was already reviewed (${state.finding}, ${state.reviewedAt}); a finding is not changed.`,
      'accessEventId',
    );
  return {
    type: 'AccessReviewed',
    schemaVersion: 2,
    data: {
      accessEventId: command.data.accessEventId,
      caseId: access.caseId,
      subjectId: access.subjectId,
      finding: command.data.finding,
      ...(command.data.sealedNote !== undefined ? { sealedNote: command.data.sealedNote } : {}),
      principalId: actor.principalId,
      agencyId: actor.agencyId,
      agencyKind: actor.agencyKind,
      requestId,
      reviewedAt: now,
    },
  };
}

export function evolve(_state: ReviewState, event: AccessReviewed): ReviewState {
  return { status: 'reviewed', finding: event.data.finding, reviewedAt: event.data.reviewedAt };
}

export const breakGlassDecider: Decider<BreakGlassCommand, AccessReviewed, ReviewState> = {
  decide,
  evolve,
  initialState,
};
