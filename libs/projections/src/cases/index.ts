export {
  caseDirectory,
  CASE_DIRECTORY_EVENT_TYPES,
  evolveReferralDoc,
  referralDocOf,
} from './case-directory';
export type { CaseDoc, CaseRelation, ReferralDoc } from './case-directory';
export { caseDataByCategory, caseView } from './case-view';
