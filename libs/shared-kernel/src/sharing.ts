import type { AgencyKind } from './vocabulary';

/** What makes sharing a category lawful: the person's consent, or a recorded lawful basis. */
export type SharingBasis = 'consent' | 'lawful-basis';

/** Whether an agency of this kind is abroad: a foreign NRM, the contact point of another country. */
export function isAbroad(kind: AgencyKind): boolean {
  return kind === 'foreign-nrm';
}

/**
 * Whether data may go to an agency of `receiverKind` on `basis` (DOMAIN.md, transnational
 * referral): data goes abroad (a foreign NRM) on the person's consent only, never on a lawful
 * basis alone, and so does data for an agency whose kind is not known (`undefined`). At home, a
 * recorded lawful basis counts as consent does. The one statement of the rule: the referral
 * decider, case reads and the relay all ask it.
 */
export function basisAllowsSharing(basis: SharingBasis, receiverKind: AgencyKind | undefined): boolean {
  return basis === 'consent' || (receiverKind !== undefined && !isAbroad(receiverKind));
}
