import type { Projection } from '../projection';
import { coordinatorCaseFacts } from './case-facts';

export { coordinatorCaseFacts, type CaseFactsRow } from './case-facts';
export * from './queries';

/** The coordinator's projections; the handoff board otherwise reads the case directory. */
export const COORDINATOR_PROJECTIONS: readonly Projection[] = [coordinatorCaseFacts];
