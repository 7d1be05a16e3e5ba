/** One stream per case holds its consents, refusals and lawful bases. */
export const consentStream = (caseId: string) => `consent-${caseId}`;
