/**
 * What every nrm-ledger process shares at run time: its configuration, the configured event
 * store, read-model store and key store, and the life cycle of a background service.
 */
export { ConfigError, LedgerConfig, loadConfig, LOG_LEVELS, type LogLevel } from './config';
export { eventStoreFile, openEventStore, type ForeignRecordLog } from './event-store';
export { openReadModelStore, PROJECTIONS, readModelFile } from './read-models';
export { serviceMain } from './service-main';
export {
  ERASURE_REGISTER_NAME,
  erasureRegisterFile,
  keyStoreFile,
  openSubjectKeys,
  SUBJECT_KEYS,
} from './subject-keys';
export {
  INSTRUMENTATIONS,
  MESSAGE_TRACEPARENT,
  startTracing,
  tracer,
  tracingEnabled,
  TRACING_VARIABLES,
  TracingConfigError,
  tracingConfigProblems,
  type Tracing,
} from './tracing';
export { exportableStatement, exportedView, PrivacySpanProcessor } from './span-privacy';
export { CaseRecords } from './case-records';
export { ConsentStateCache, CONSENT_CACHE_CASES } from './consent-state-cache';
export * from './commands';
export {
  AUDIT_DEFAULTS,
  auditKeys,
  auditLeaseFile,
  auditLogFile,
  auditLogPlacement,
  cosignaturesFile,
  openCosignatures,
  witnessVerifiers,
  type AuditConfig,
} from './audit-files';
export * from './reads';
