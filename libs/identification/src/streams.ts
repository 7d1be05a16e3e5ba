/** One stream per case: the identification path of one subject. */
export const identificationStream = (caseId: string) => `identification-${caseId}`;
