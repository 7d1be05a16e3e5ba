/** One stream per referral. */
export const referralStream = (referralId: string) => `referral-${referralId}`;
