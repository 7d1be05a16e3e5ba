/** Who sees the coordinator's views: the access context's rule. */
export { mayCoordinate } from '@nrm/access';

/** The reason recorded with an `AccessDenied` of a coordinator view. */
export const NOT_THE_COORDINATOR = 'not-the-national-coordinator';

export const COORDINATOR_VIEW_NAMES = ['handoff-board', 'statistics'] as const;
export type CoordinatorView = (typeof COORDINATOR_VIEW_NAMES)[number];
