/**
 * The read side every process shares: the read-model gate (`awaitReadModel`), the party checks of
 * commands decided on the case directory, and the case reads (load, decide with `decideRead`,
 * view, audit). All refusals are `DomainError`s; the API maps them to problem+json.
 */
export {
  awaitReadModel,
  CASE_DIRECTORY_USED,
  isParty,
  type ReadModel,
  type ReadModelHealth,
  type ReadModelsUsed,
} from './read-model';
export type { ReadModelCheck, ReadModelFinding, ReadModelIntegrity } from './read-model-integrity';
export { casePartyCheck, designatorCheck, referralPartyCheck, type ReferralPartyCheck } from './case-parties';
export { inContact, isSeized } from './case-relations';
export { CaseReads, CURSOR_PATTERN } from './case-reads';
