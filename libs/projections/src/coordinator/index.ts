import type { SqliteProjection } from '../projection';

/** The coordinator's projections (handoff board, statistics). */
export const COORDINATOR_PROJECTIONS: readonly SqliteProjection[] = [];
