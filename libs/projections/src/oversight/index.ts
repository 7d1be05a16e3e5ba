import type { Projection } from '../projection';
import { accessLog } from './access-log';

export {
  ACCESS_LOG_AUDIT_TYPES,
  ACCESS_LOG_EVENT_TYPES,
  accessLog,
  accessLogPage,
  breakGlassAccess,
  casesOfSubject,
  utcInstant,
} from './access-log';
export type {
  AccessLogEntry,
  AccessLogEventType,
  AccessLogFilter,
  AccessLogPage,
  AccessReviewedRead,
  BasisEntry,
  BreakGlassAccessUsedRead,
  ReviewStatus,
} from './access-log';

/** The oversight body's projections (access log, break-glass queue). */
export const OVERSIGHT_PROJECTIONS: readonly Projection[] = [accessLog];
