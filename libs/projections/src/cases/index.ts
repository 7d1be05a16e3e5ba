export {
  caseDirectory,
  CASE_DIRECTORY_EVENT_TYPES,
  evolveReferralDoc,
  referralDocOf,
} from './case-directory';
export type { CaseDoc, CaseRelation, ReferralDoc } from './case-directory';
export { caseDataByCategory, caseView, referralSummary } from './case-view';
export type { IdentityPart, OpenedIdentity } from './case-view';
export { caseAsOf } from './case-as-of';
export * from './queries';
export type { CaseAsOf } from './case-as-of';
