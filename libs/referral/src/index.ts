export * from './commands';
export * from './events';
export * from './state';
export { referralDecider } from './decider';
export { referralStream } from './streams';
export * from './transitions';
export * from './standing';
export * from './application/referral-commands';
