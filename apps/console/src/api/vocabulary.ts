/**
 * The ledger's vocabulary as its API document declares it: lists generated from the enums of
 * docs/openapi/openapi.json (npm run console:api), never retyped here, so that a value the API adds,
 * renames or drops changes the console's lists and its build. Labels come from the i18n catalogues;
 * vocabulary.unit.spec.ts checks that every value has one in every language.
 */
import {
  declineReferralDtoReasonValues,
  eraseSubjectDtoGroundValues,
  grantConsentDtoCategoriesValues,
  pathsCasesCaseIdGetParametersHeaderXPurposeValues,
  pathsCoordinatorHandoffBoardGetParametersQueryStatusValues,
  pathsOversightAccessAttemptsGetParametersQueryOutcomeValues,
  recordServiceProvidedDtoServiceTypeValues,
  registerAgencyDtoKindValues,
  reviewAccessDtoFindingValues,
  makeReferralDtoUrgencyValues,
} from './openapi.gen';

/** Data categories: consent and access are decided per category. */
export const CATEGORIES = grantConsentDtoCategoriesValues;
/** Purposes a read or a consent names (`X-Purpose`). */
export const PURPOSES = pathsCasesCaseIdGetParametersHeaderXPurposeValues;
/** A referral's status, as the handoff board filters it. */
export const REFERRAL_STATUSES = pathsCoordinatorHandoffBoardGetParametersQueryStatusValues;
export const URGENCIES = makeReferralDtoUrgencyValues;
export const DECLINE_REASONS = declineReferralDtoReasonValues;
export const SERVICE_TYPES = recordServiceProvidedDtoServiceTypeValues;
export const AGENCY_KINDS = registerAgencyDtoKindValues;
export const FINDINGS = reviewAccessDtoFindingValues;
export const ACCESS_OUTCOMES = pathsOversightAccessAttemptsGetParametersQueryOutcomeValues;
/** The legal grounds an erasure records (GDPR Art. 17(1), a court's or the DPA's order). */
export const ERASURE_GROUNDS = eraseSubjectDtoGroundValues;

/**
 * Each list with the message-key prefix its labels use (`category.health`, `purpose.assistance`…).
 * Every list the console shows a label for is named here, so that the label test covers it.
 */
export const VOCABULARY = {
  category: CATEGORIES,
  purpose: PURPOSES,
  status: REFERRAL_STATUSES,
  urgency: URGENCIES,
  reason: DECLINE_REASONS,
  service: SERVICE_TYPES,
  agencyKind: AGENCY_KINDS,
  finding: FINDINGS,
  ground: ERASURE_GROUNDS,
  // The access log's outcome labels are `log.granted` and `log.refused`.
  log: ACCESS_OUTCOMES,
} as const satisfies Readonly<Record<string, readonly string[]>>;
