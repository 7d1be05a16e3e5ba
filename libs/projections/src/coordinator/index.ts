import type { Projection } from '../projection';
import { coordinatorAgencyKinds } from './agency-kinds';

export { coordinatorAgencyKinds } from './agency-kinds';

/** The coordinator's projections; the handoff board and statistics otherwise read the case directory. */
export const COORDINATOR_PROJECTIONS: readonly Projection[] = [coordinatorAgencyKinds];
