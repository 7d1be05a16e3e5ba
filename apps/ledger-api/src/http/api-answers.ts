/**
 * Which problems each operation of the HTTP API can answer: the one declarative source the OpenAPI
 * document's error responses are generated from (see openapi.ts).
 *
 * - PROBLEM_CODES: every stable `code` the ledger sends, with the HTTP status it is sent with. A unit
 *   test (api-answers.unit.spec.ts) reads the source of the code that throws them and fails on a code
 *   thrown but not listed here, listed but thrown nowhere, or listed with another status.
 * - OPERATION_ANSWERS: per operation (its operationId, `Controller_method`), the groups of problems
 *   it can answer. A code family such as `'REFERRAL.'` stands for every listed code that starts so.
 *   The fuzz run and the e2e suites check that no operation answers a (status, code) outside its
 *   declaration, and name the operation when one does: add the code to the operation here.
 */

/** HTTP status of each problem code. Framework codes (`HTTP.*`) are the ones Fastify and Nest raise. */
export const PROBLEM_CODES: Readonly<Record<string, number>> = {
  // The request itself.
  'HTTP.FST_ERR_BAD_URL': 400,
  'HTTP.FST_ERR_MAX_PARAM_LENGTH': 414,
  'HTTP.MALFORMED_REQUEST': 400,
  'HTTP.HEADERS_TOO_LARGE': 431,
  'HTTP.BAD_REQUEST': 400,
  'HTTP.FST_ERR_CTP_INVALID_JSON_BODY': 400,
  'HTTP.FST_ERR_CTP_EMPTY_JSON_BODY': 400,
  'HTTP.FST_ERR_CTP_INVALID_CONTENT_LENGTH': 400,
  'HTTP.FST_ERR_CTP_BODY_TOO_LARGE': 413,
  'HTTP.PAYLOAD_TOO_LARGE': 413,
  'HTTP.FST_ERR_CTP_INVALID_MEDIA_TYPE': 415,
  'HTTP.UNSUPPORTED_MEDIA_TYPE': 415,
  'HTTP.NOT_FOUND': 404,
  'HTTP.SERVICE_UNAVAILABLE': 503,
  'REQUEST.INVALID': 400,
  'REQUEST.DUPLICATE_KEY': 400,
  'REQUEST.FORBIDDEN_KEY': 400,
  'REQUEST.INVALID_ID': 400,
  'REQUEST.PURPOSE_REQUIRED': 400,
  'EVENT_STORE.INVALID_INPUT': 400,
  // Credentials.
  'AUTH.UNAUTHENTICATED': 401,
  'AUTH.AMBIGUOUS_CREDENTIALS': 400,
  'AUTH.PRINCIPAL_DISABLED': 403,
  'AUTH.AGENCY_DISABLED': 403,
  'AUTH.IDENTITY_PROVIDER_UNAVAILABLE': 503,
  // Rate limits: per principal, per address without a credential, failed authentications per address.
  'RATE_LIMIT.EXCEEDED': 429,
  // Availability.
  'AUDIT.UNAVAILABLE': 503,
  // The event store diverged from the audit log: every append (commands, and the audit of reads) is refused.
  'AUDIT.INTEGRITY_HALT': 503,
  'EVENT_STORE.UNAVAILABLE': 503,
  // A command sent to the event store without an answer: it may be recorded. Sent again with the same
  // Idempotency-Key, it is recorded at most once.
  'EVENT_STORE.OUTCOME_UNKNOWN': 503,
  'EVENT_STORE.CLOSED': 503,
  'EVENT_STORE.SCHEMA': 503,
  'READ_MODEL.BEHIND': 503,
  // Commands.
  'COMMAND.CONFLICT': 409,
  'EVENT_STORE.WRONG_EXPECTED_REVISION': 409,
  'EVENT_STORE.DUPLICATE_EVENT_ID': 409,
  'IDEMPOTENCY.KEY_REUSED': 422,
  // Reads.
  'ACCESS.NOT_COVERED': 403,
  'ACCESS.ROLE_NOT_ALLOWED': 403,
  'ACCESS.BREAK_GLASS_ROLE_REQUIRED': 403,
  'ACCESS.BREAK_GLASS_NOT_FOR_AGENCY_KIND': 403,
  'ACCESS.REPORT_CASEWORKER_ONLY': 403,
  'AGENCY.UNKNOWN': 422,
  'CASE.NOT_FOUND': 404,
  'CASE.NOT_REPORTED_AS_OF': 404,
  'COORDINATOR.ONLY': 403,
  'OVERSIGHT.ONLY': 403,
  'OVERSIGHT.ALREADY_REVIEWED': 409,
  'OVERSIGHT.BREAK_GLASS_NOT_FOUND': 404,
  'SUBJECT.NOT_FOUND': 404,
  'SUBJECT.ERASED': 409,
  'SUBJECT.ALREADY_ERASED': 409,
  'ERASURE.NOT_ALLOWED': 403,
  'ERASURE.REASON_DEPRECATED': 422,
  'ERASURE.REASON_NOT_A_CODE': 422,
  'ERASURE.GROUND_REQUIRED': 422,
  'ERASURE.GROUND_UNKNOWN': 422,
  'ERASURE.REFERENCE_NOT_A_CODE': 422,
  // The audit log.
  'AUDIT.BEYOND_CHECKPOINT': 422,
  'AUDIT.NO_CHECKPOINT': 404,
  'AUDIT.MALFORMED_CHECKPOINT': 422,
  'AUDIT.UNKNOWN_CHECKPOINT': 422,
  'AUDIT.BAD_COSIGNATURE': 422,
  'AUDIT.UNKNOWN_WITNESS': 422,
  // The registry of agencies and principals.
  'REGISTRY.ADMIN_ONLY': 403,
  'REGISTRY.ADMIN_OR_OVERSIGHT_ONLY': 403,
  'REGISTRY.COORDINATOR_ONLY': 403,
  'REGISTRY.OWN_AGENCY_ONLY': 403,
  'REGISTRY.OPERATOR_ONLY': 403,
  'REGISTRY.NOT_OWN_AGENCY': 422,
  'REGISTRY.NOT_YOURSELF': 422,
  'REGISTRY.AGENCY_EXISTS': 409,
  'REGISTRY.PRINCIPAL_EXISTS': 409,
  'REGISTRY.KEY_EXISTS': 409,
  'REGISTRY.KEY_NOT_ACTIVE': 409,
  'REGISTRY.AGENCY_NOT_FOUND': 404,
  'REGISTRY.PRINCIPAL_NOT_FOUND': 404,
  'REGISTRY.REASON': 422,
  'REGISTRY.ROLES': 422,
  'REGISTRY.UNKNOWN_KIND': 422,
  // Identification.
  'IDENTIFICATION.AGENCY_MAY_NOT_REPORT': 403,
  'IDENTIFICATION.NOT_COMPETENT': 403,
  'IDENTIFICATION.ROLE_REQUIRED': 403,
  'IDENTIFICATION.COORDINATOR_ONLY': 403,
  'IDENTIFICATION.AUTHORITY_DISABLED': 422,
  'IDENTIFICATION.AUTHORITY_FOREIGN': 422,
  'IDENTIFICATION.AUTHORITY_NOT_COMPETENT': 422,
  'IDENTIFICATION.SELF_DESIGNATION': 422,
  'IDENTIFICATION.ALREADY_REPORTED': 409,
  'IDENTIFICATION.CONCLUSIVE_GROUNDS_ALREADY_DECIDED': 409,
  'IDENTIFICATION.GROUNDS_ALREADY_DECIDED': 409,
  'IDENTIFICATION.REASONABLE_GROUNDS_ALREADY_DECIDED': 409,
  'IDENTIFICATION.REASONABLE_GROUNDS_NEGATIVE': 409,
  'IDENTIFICATION.REASONABLE_GROUNDS_NOT_DECIDED': 409,
  'IDENTIFICATION.INDICATORS_NOT_ASSESSED': 409,
  'IDENTIFICATION.NO_NEGATIVE_DECISION': 409,
  'IDENTIFICATION.CASE_ID_REQUIRED': 422,
  'IDENTIFICATION.CASE_MISMATCH': 422,
  'IDENTIFICATION.IDENTITY_NOT_SEALED': 422,
  'IDENTIFICATION.INDICATORS_REQUIRED': 422,
  'IDENTIFICATION.INVALID_INDICATOR': 422,
  // A code-shaped indicator not on the closed list (field `indicators[i]` / `indicatorsConfirmed[i]`).
  'IDENTIFICATION.UNKNOWN_INDICATOR': 400,
  'IDENTIFICATION.INVALID_OUTCOME': 422,
  'IDENTIFICATION.INVALID_REASON': 422,
  'IDENTIFICATION.INVALID_REGION': 422,
  'IDENTIFICATION.INVALID_TIME': 422,
  'IDENTIFICATION.MINOR_FLAG_REQUIRED': 422,
  'IDENTIFICATION.SUBJECT_ID_REQUIRED': 422,
  'IDENTIFICATION.TOO_MANY_INDICATORS': 422,
  'IDENTIFICATION.UNKNOWN_COMMAND': 422,
  'IDENTIFICATION.UNKNOWN_EXPLOITATION_FORM': 422,
  // Consent.
  'CONSENT.ROLE_REQUIRED': 403,
  'CONSENT.NO_CONTACT': 403,
  'CONSENT.NO_STANDING': 403,
  'CONSENT.SELF_GRANT': 422,
  'CONSENT.FOREIGN_NEEDS_WRITTEN': 422,
  'CONSENT.FOREIGN_LAWFUL_BASIS': 422,
  'CONSENT.ALREADY_RECORDED': 409,
  'CONSENT.ALREADY_WITHDRAWN': 409,
  'CONSENT.NOT_GRANTED': 422,
  'CONSENT.NOT_FOUND': 404,
  'CONSENT.BASIS_UNKNOWN': 422,
  'CONSENT.CAPTURE_INVALID': 422,
  'CONSENT.CASE_REQUIRED': 422,
  'CONSENT.EXPIRY_INVALID': 422,
  'CONSENT.EXPIRY_IN_PAST': 422,
  'CONSENT.ID_REQUIRED': 422,
  'CONSENT.JUSTIFICATION_REQUIRED': 422,
  'CONSENT.LANGUAGE_REQUIRED': 422,
  'CONSENT.MINOR_NEEDS_GUARDIAN': 422,
  'CONSENT.SCOPE_INVALID': 422,
  'CONSENT.TIME_INVALID': 422,
  'CONSENT.UNKNOWN_COMMAND': 422,
  'CONSENT.WITNESS_REQUIRED': 422,
  // The witness named is not a principal registered for the recording agency (unknown or another agency's: one answer).
  'CONSENT.WITNESS_UNKNOWN': 400,
  'CONSENT.WRONG_CASE': 422,
  // Referral.
  'REFERRAL.AGENCY_CANNOT_RECEIVE': 422,
  'REFERRAL.AGENCY_CANNOT_REFER': 403,
  'REFERRAL.CASEWORKER_ONLY': 403,
  'REFERRAL.COORDINATOR_ONLY': 403,
  'REFERRAL.NOT_ACCEPTED_BY_YOU': 403,
  'REFERRAL.NOT_ADDRESSED_TO_YOU': 403,
  'REFERRAL.NOT_YOUR_REFERRAL': 403,
  'REFERRAL.ALREADY_ESCALATED': 409,
  'REFERRAL.ALREADY_MADE': 409,
  'REFERRAL.NOT_ACKNOWLEDGED': 409,
  'REFERRAL.NOT_OVERDUE': 422,
  'REFERRAL.WRONG_STATE': 409,
  'REFERRAL.NOT_FOUND': 404,
  'REFERRAL.DUPLICATE_CATEGORY': 422,
  'REFERRAL.INVALID_VALUE': 422,
  'REFERRAL.MISMATCH': 422,
  'REFERRAL.NOT_COVERED': 422,
  'REFERRAL.REASON_REQUIRED': 422,
  'REFERRAL.RESPOND_BY_IN_PAST': 422,
  'REFERRAL.SELF_REFERRAL': 422,
  'REFERRAL.TRANSNATIONAL_NEEDS_CONSENT': 422,
  'REFERRAL.UNKNOWN_COMMAND': 422,
  // Support.
  'SUPPORT.NOT_A_CASEWORKER': 403,
  'SUPPORT.OVERSIGHT_CANNOT_RECORD': 403,
  'SUPPORT.CASE_CLOSED': 409,
  'SUPPORT.NO_ACTIVE_REFLECTION': 409,
  'SUPPORT.PLAN_ALREADY_AGREED': 409,
  'SUPPORT.REFLECTION_ACTIVE': 409,
  'SUPPORT.REFLECTION_ALREADY_STARTED': 409,
  'SUPPORT.NO_REFLECTION_ENTITLEMENT': 422,
  'SUPPORT.REFLECTION_NOT_ELAPSED': 422,
  'SUPPORT.DUPLICATE_SERVICE': 422,
  'SUPPORT.EARLY_END_NOT_ALLOWED': 422,
  'SUPPORT.END_DATE_OUT_OF_RANGE': 422,
  'SUPPORT.INVALID_CASE_ID': 422,
  'SUPPORT.INVALID_DATE': 422,
  'SUPPORT.INVALID_END_REASON': 422,
  'SUPPORT.INVALID_EXTENSION': 422,
  'SUPPORT.INVALID_OUTCOME': 422,
  'SUPPORT.INVALID_PLAN_ID': 422,
  'SUPPORT.NO_SERVICES': 422,
  'SUPPORT.REFLECTION_TOO_SHORT': 422,
  'SUPPORT.REVIEW_IN_PAST': 422,
  'SUPPORT.SERVICE_IN_FUTURE': 422,
  'SUPPORT.START_BEFORE_ENTITLEMENT': 422,
  'SUPPORT.START_IN_FUTURE': 422,
  'SUPPORT.START_TOO_EARLY': 422,
  'SUPPORT.UNKNOWN_SERVICE_TYPE': 422,
};

/**
 * Problems any request can meet before it reaches its operation: a path that does not decode or
 * route as sent, a request Node cannot parse, headers over the size limit.
 */
const ROUTING = [
  // Fastify parses a body sent with any method (a GET included) before the route runs; a body
  // shorter or longer than its Content-Length is a plain 400 (seen by the fuzz run on a GET).
  'HTTP.BAD_REQUEST',
  'HTTP.FST_ERR_CTP_INVALID_JSON_BODY',
  'HTTP.FST_ERR_CTP_EMPTY_JSON_BODY',
  'HTTP.FST_ERR_CTP_INVALID_CONTENT_LENGTH',
  'HTTP.FST_ERR_CTP_BODY_TOO_LARGE',
  'HTTP.FST_ERR_CTP_INVALID_MEDIA_TYPE',
  // A duplicate or prototype key anywhere in a JSON body (http/json-body.ts).
  'REQUEST.DUPLICATE_KEY',
  'REQUEST.FORBIDDEN_KEY',
  'HTTP.FST_ERR_BAD_URL',
  'HTTP.FST_ERR_MAX_PARAM_LENGTH',
  'HTTP.NOT_FOUND',
  'HTTP.MALFORMED_REQUEST',
  'HTTP.HEADERS_TOO_LARGE',
];
/**
 * Problems of an authenticated request (and of the audit of its refusal). Every operation that needs a
 * credential is rate limited (the auth guard counts it); the public ones (health, metrics) are not.
 */
const AUTHENTICATED = [
  'AUTH.',
  'RATE_LIMIT.EXCEEDED',
  'AUDIT.UNAVAILABLE',
  'AUDIT.INTEGRITY_HALT',
  'EVENT_STORE.UNAVAILABLE',
  'EVENT_STORE.CLOSED',
  'EVENT_STORE.SCHEMA',
];
/** A request with a body (any POST: the media type and size are checked before the handler). */
const BODY = [
  'HTTP.FST_ERR_CTP_INVALID_JSON_BODY',
  'HTTP.FST_ERR_CTP_EMPTY_JSON_BODY',
  'HTTP.FST_ERR_CTP_INVALID_CONTENT_LENGTH',
  'HTTP.FST_ERR_CTP_BODY_TOO_LARGE',
  'HTTP.PAYLOAD_TOO_LARGE',
  'HTTP.FST_ERR_CTP_INVALID_MEDIA_TYPE',
  'HTTP.UNSUPPORTED_MEDIA_TYPE',
  'HTTP.BAD_REQUEST',
  'REQUEST.INVALID',
];
/** A command recorded through the command executor. */
const COMMAND = [
  ...AUTHENTICATED,
  ...BODY,
  'REQUEST.INVALID_ID',
  'COMMAND.CONFLICT',
  'EVENT_STORE.WRONG_EXPECTED_REVISION',
  'EVENT_STORE.DUPLICATE_EVENT_ID',
  'EVENT_STORE.INVALID_INPUT',
  'EVENT_STORE.OUTCOME_UNKNOWN',
  'IDEMPOTENCY.KEY_REUSED',
  // The party check of a command waits for the read model to catch up first.
  'READ_MODEL.BEHIND',
];
/** Reads of a case by id: the parties' check answers 404 alike for "absent" and "not yours". */
const CASE_READ = [...AUTHENTICATED, 'REQUEST.', 'ACCESS.NOT_COVERED', 'CASE.NOT_FOUND', 'READ_MODEL.BEHIND'];
const CASE_COMMAND = [...COMMAND, 'CASE.NOT_FOUND', 'SUBJECT.ERASED', 'AGENCY.UNKNOWN'];
const REGISTRY_COMMAND = [...COMMAND, 'REGISTRY.'];
const OVERSIGHT_READ = [...AUTHENTICATED, 'REQUEST.', 'OVERSIGHT.ONLY', 'READ_MODEL.BEHIND'];
const AUDIT_READ = [...AUTHENTICATED, 'REQUEST.INVALID', 'AUDIT.NO_CHECKPOINT', 'AUDIT.BEYOND_CHECKPOINT'];

/** The problems each operation can answer, by operationId. Public operations list none of AUTHENTICATED. */
export const OPERATION_ANSWERS: Readonly<Record<string, readonly string[]>> = {
  RegistryController_agencies: [...AUTHENTICATED, 'REQUEST.INVALID'],
  RegistryController_registerAgency: REGISTRY_COMMAND,
  RegistryController_registerPrincipal: REGISTRY_COMMAND,
  RegistryController_issueApiKey: REGISTRY_COMMAND,
  RegistryController_revokeApiKey: REGISTRY_COMMAND,
  RegistryController_disableAgency: REGISTRY_COMMAND,
  RegistryController_enableAgency: REGISTRY_COMMAND,
  RegistryController_disablePrincipal: REGISTRY_COMMAND,
  RegistryController_enablePrincipal: REGISTRY_COMMAND,
  RegistryController_disabled: [...AUTHENTICATED, 'REGISTRY.ADMIN_OR_OVERSIGHT_ONLY'],
  HealthController_check: ['EVENT_STORE.UNAVAILABLE', 'HTTP.SERVICE_UNAVAILABLE'],
  IdentificationController_report: [...COMMAND, 'IDENTIFICATION.', 'SUBJECT.ERASED', 'AGENCY.UNKNOWN'],
  CaseReadsController_myCases: [...AUTHENTICATED, 'REQUEST.', 'ACCESS.ROLE_NOT_ALLOWED', 'READ_MODEL.BEHIND'],
  IdentificationController_assess: [...CASE_COMMAND, 'IDENTIFICATION.'],
  IdentificationController_reasonableGrounds: [...CASE_COMMAND, 'IDENTIFICATION.'],
  IdentificationController_conclusiveGrounds: [...CASE_COMMAND, 'IDENTIFICATION.'],
  IdentificationController_reconsider: [...CASE_COMMAND, 'IDENTIFICATION.'],
  IdentificationController_designate: [...CASE_COMMAND, 'IDENTIFICATION.'],
  ConsentController_grant: [...CASE_COMMAND, 'CONSENT.'],
  ConsentController_withdraw: [...CASE_COMMAND, 'CONSENT.'],
  ConsentController_refuse: [...CASE_COMMAND, 'CONSENT.'],
  ConsentController_lawfulBasis: [...CASE_COMMAND, 'CONSENT.'],
  ReferralController_make: [...CASE_COMMAND, 'REFERRAL.', 'AGENCY.UNKNOWN'],
  ReferralController_acknowledge: [...COMMAND, 'REFERRAL.'],
  ReferralController_accept: [...COMMAND, 'REFERRAL.'],
  ReferralController_decline: [...COMMAND, 'REFERRAL.'],
  ReferralController_handoff: [...COMMAND, 'REFERRAL.'],
  ReferralController_withdraw: [...COMMAND, 'REFERRAL.'],
  ReferralController_escalate: [...COMMAND, 'REFERRAL.'],
  SupportController_start: [...CASE_COMMAND, 'SUPPORT.'],
  SupportController_extend: [...CASE_COMMAND, 'SUPPORT.'],
  SupportController_end: [...CASE_COMMAND, 'SUPPORT.'],
  SupportController_plan: [...CASE_COMMAND, 'SUPPORT.'],
  SupportController_service: [...CASE_COMMAND, 'SUPPORT.'],
  SupportController_close: [...CASE_COMMAND, 'SUPPORT.'],
  CaseReadsController_caseView: [...CASE_READ, 'CASE.NOT_REPORTED_AS_OF', 'ACCESS.ROLE_NOT_ALLOWED'],
  ReferralReadsController_myReferrals: [
    ...AUTHENTICATED,
    'REQUEST.',
    'ACCESS.ROLE_NOT_ALLOWED',
    'READ_MODEL.BEHIND',
  ],
  ErasureController_erase: [...COMMAND, 'SUBJECT.', 'ERASURE.'],
  CoordinatorController_handoffBoard: [...AUTHENTICATED, 'REQUEST.', 'COORDINATOR.ONLY', 'READ_MODEL.BEHIND'],
  CoordinatorController_statistics: [...AUTHENTICATED, 'REQUEST.', 'COORDINATOR.ONLY', 'READ_MODEL.BEHIND'],
  OversightController_accessLog: OVERSIGHT_READ,
  OversightController_accessAttempts: OVERSIGHT_READ,
  OversightController_denials: OVERSIGHT_READ,
  OversightController_breakGlassQueue: OVERSIGHT_READ,
  OversightController_review: [...COMMAND, 'OVERSIGHT.'],
  OversightController_consentHistory: [...OVERSIGHT_READ, 'SUBJECT.NOT_FOUND'],
  BreakGlassController_read: [
    ...AUTHENTICATED,
    ...BODY,
    'REQUEST.',
    'ACCESS.NOT_COVERED',
    'ACCESS.BREAK_GLASS_ROLE_REQUIRED',
    'ACCESS.BREAK_GLASS_NOT_FOR_AGENCY_KIND',
    'CASE.NOT_FOUND',
    'READ_MODEL.BEHIND',
  ],
  AccessReportController_report: [
    ...AUTHENTICATED,
    'REQUEST.',
    'ACCESS.REPORT_CASEWORKER_ONLY',
    'SUBJECT.NOT_FOUND',
    'READ_MODEL.BEHIND',
  ],
  AuditController_publicKey: [...AUTHENTICATED],
  AuditController_latest: [...AUTHENTICATED, 'AUDIT.NO_CHECKPOINT'],
  AuditController_cosign: [
    ...AUTHENTICATED,
    ...BODY,
    'OVERSIGHT.ONLY',
    'AUDIT.MALFORMED_CHECKPOINT',
    'AUDIT.UNKNOWN_CHECKPOINT',
    'AUDIT.BAD_COSIGNATURE',
    'AUDIT.UNKNOWN_WITNESS',
  ],
  AuditController_checkpoints: [...AUTHENTICATED, 'REQUEST.INVALID'],
  AuditController_inclusion: [...AUDIT_READ, 'OVERSIGHT.ONLY'],
  AuditController_consistency: [...AUDIT_READ, 'OVERSIGHT.ONLY'],
  // The scrape credential (METRICS_TOKEN), not an agency's: 401 without it, 404 when /metrics is off.
  MetricsController_scrape: ['AUTH.UNAUTHENTICATED'],
  MetricsController_live: [],
};

/** Problems any routed request can answer, whatever its operation. */
export const ANY_OPERATION = ROUTING;

/** The (code → status) an operation can answer, its families expanded; throws on an unknown entry. */
export function answersOf(operationId: string): ReadonlyMap<string, number> {
  const entries = OPERATION_ANSWERS[operationId];
  if (entries === undefined) throw new Error(`no problems declared for operation ${operationId}`);
  const answers = new Map<string, number>();
  for (const entry of [...ANY_OPERATION, ...entries]) {
    const codes = entry.endsWith('.')
      ? Object.keys(PROBLEM_CODES).filter((code) => code.startsWith(entry))
      : [entry];
    if (codes.length === 0 || codes.some((code) => PROBLEM_CODES[code] === undefined))
      throw new Error(`operation ${operationId} declares ${entry}, which names no code in PROBLEM_CODES`);
    for (const code of codes) answers.set(code, PROBLEM_CODES[code]!);
  }
  return answers;
}

/** Whether an operation declares a (status, code) answer. */
export function declares(operationId: string, status: number, code: string): boolean {
  return answersOf(operationId).get(code) === status;
}
