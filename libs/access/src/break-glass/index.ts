export * from './events';
export { breakGlassDecider } from './decider';
export type { BreakGlassCommand, ReviewAccess, ReviewState } from './decider';
