import type { SqliteProjection } from '../projection';

/** The oversight body's projections (access log, break-glass queue). */
export const OVERSIGHT_PROJECTIONS: readonly SqliteProjection[] = [];
