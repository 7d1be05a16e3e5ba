export * from './commands';
export * from './events';
export type { BasisState, ConsentState, GrantState, Withdrawal } from './state';
export { grantHolds } from './state';
export {
  consentDecider,
  decide,
  evolve,
  initialState,
  MAX_AGENCIES_PER_GRANT,
  MIN_JUSTIFICATION_LENGTH,
  NO_CONTACT_KINDS,
  SENSITIVE_CATEGORIES,
} from './decider';
export { consentCovers, coveredCategories, coveredUntil } from './coverage';
export type { CategoriesQuery, Coverage, CoverageQuery, CoveredCategory } from './coverage';
export { consentStream } from './streams';
export * from './application/consent-commands';
