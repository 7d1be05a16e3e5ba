export * from './commands';
export * from './events';
export * from './state';
export * from './decider';
export { identificationStream } from './streams';
export * from './indicator-codes';
export * from './application/identification-commands';
