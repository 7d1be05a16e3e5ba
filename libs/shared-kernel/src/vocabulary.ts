/**
 * The words of a national referral mechanism (../shared/design/DOMAIN.md), shared
 * by every bounded context. Only words live here: no behaviour of any context.
 */

export const AGENCY_KINDS = [
  'law-enforcement',
  'health',
  'ngo',
  'shelter',
  'asylum-authority',
  'labour-inspectorate',
  'social-services',
  'national-coordinator',
  'oversight-body',
  'foreign-nrm',
] as const;
export type AgencyKind = (typeof AGENCY_KINDS)[number];

export const DATA_CATEGORIES = [
  'identity',
  'contact',
  'health',
  'exploitation',
  'immigration-status',
  'support-needs',
  'case-status',
] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

export const PURPOSES = ['assistance', 'referral', 'protection', 'investigation', 'statistics'] as const;
export type Purpose = (typeof PURPOSES)[number];
/**
 * The purposes an emergency can have, the only ones a break-glass read may declare: consent is
 * overridden to protect or assist the person now. Statistics are made from events without
 * personal data, and a referral or an investigation waits for consent or a lawful basis.
 */
export const BREAK_GLASS_PURPOSES = ['protection', 'assistance'] as const satisfies readonly Purpose[];
export type BreakGlassPurpose = (typeof BREAK_GLASS_PURPOSES)[number];

/**
 * What a principal may do for its agency:
 * - `caseworker`: report, record consent, refer, record support;
 * - `decision-maker`: decide reasonable and conclusive grounds (in a competent agency);
 * - `coordinator`: escalate overdue referrals (in the national coordinator);
 * - `oversight`: review accesses (in the oversight body);
 * - `break-glass`: read beyond consent with a written justification;
 * - `registry-admin`: register agencies and principals, issue keys.
 */
export const ROLES = [
  'caseworker',
  'decision-maker',
  'coordinator',
  'oversight',
  'break-glass',
  'registry-admin',
] as const;
export type Role = (typeof ROLES)[number];

export const EXPLOITATION_FORMS = [
  'sexual',
  'labour',
  'domestic-servitude',
  'forced-criminality',
  'forced-begging',
  'forced-marriage',
  'organ-removal',
  'other',
] as const;
export type ExploitationForm = (typeof EXPLOITATION_FORMS)[number];

export const SUPPORT_SERVICE_TYPES = [
  'accommodation',
  'medical',
  'psychological',
  'legal',
  'interpretation',
  'language-training',
  'education',
  'employment-counselling',
  'internship',
  'financial',
  'return-assistance',
] as const;
export type SupportServiceType = (typeof SUPPORT_SERVICE_TYPES)[number];

/** The principal a command is recorded for, as authenticated by the API. */
export interface Actor {
  readonly principalId: string;
  readonly agencyId: string;
  readonly agencyKind: AgencyKind;
  readonly roles: readonly Role[];
}

/** Every command carries who acts and when; the domain never reads a clock. */
export interface CommandMetadata {
  readonly actor: Actor;
  /** ISO-8601 instant at which the command is decided. */
  readonly now: string;
}
