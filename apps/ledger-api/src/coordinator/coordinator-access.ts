import type { Actor } from '@nrm/shared-kernel';

/**
 * The one place that decides who sees the coordinator's views: a principal with
 * the `coordinator` role, acting for the national coordinator. Either alone is
 * not enough (a caseworker of the coordinator's office, or a `coordinator` role
 * given by mistake to a principal of another agency).
 */
export function mayCoordinate(actor: Actor): boolean {
  return actor.agencyKind === 'national-coordinator' && actor.roles.includes('coordinator');
}

/** The reason recorded with an `AccessDenied` of a coordinator view. */
export const NOT_THE_COORDINATOR = 'not-the-national-coordinator';

export const COORDINATOR_VIEW_NAMES = ['handoff-board', 'statistics'] as const;
export type CoordinatorView = (typeof COORDINATOR_VIEW_NAMES)[number];
