export * from './commands';
export * from './events';
export type { BasisState, ConsentState, GrantState } from './state';
export {
  consentDecider,
  decide,
  evolve,
  initialState,
  MAX_AGENCIES_PER_GRANT,
  MIN_JUSTIFICATION_LENGTH,
} from './decider';
export { consentCovers, coveredCategories } from './coverage';
export type { CategoriesQuery, Coverage, CoverageQuery, CoveredCategory } from './coverage';

/** One stream per case holds its consents, refusals and lawful bases. */
export const consentStream = (caseId: string) => `consent-${caseId}`;
