export * from './commands';
export * from './events';
export * from './state';
export { referralDecider } from './decider';

/** One stream per referral. */
export const referralStream = (referralId: string) => `referral-${referralId}`;
export * from './transitions';
