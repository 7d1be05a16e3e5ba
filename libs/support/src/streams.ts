/** One stream per support case. */
export const supportStream = (caseId: string) => `support-${caseId}`;
