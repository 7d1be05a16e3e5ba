/**
 * The closed list of trafficking indicator codes a report (`indicators`) and an assessment
 * (`indicatorsConfirmed`) may record. A code is a fixed word from this list, never free text: a
 * value typed by a caseworker is stored in clear in `PotentialVictimReported` and
 * `IndicatorsAssessed`, outside the subject's key, so a name or an address spelled as a code would
 * outlive the erasure (outside-round4 finding).
 *
 * Grounded in the structure of the Palermo Protocol (UN Trafficking Protocol, art. 3: an act, by a
 * means, for the purpose of exploitation; for a child the means are not needed) and in the six
 * dimensions of the ILO / European Commission operational indicators of trafficking in human beings
 * (2009): deceptive recruitment, coercive recruitment, recruitment by abuse of vulnerability,
 * exploitative conditions, coercion at destination, abuse of vulnerability at destination. The
 * purpose itself is recorded apart, as `exploitationForms`; the indicators here are what was
 * observed of the act, the means and the conditions. The code names are this ledger's own.
 *
 * Versioned: `INDICATOR_LIST_VERSION` names this list. A later version only adds codes (each says
 * `since` which version); none is removed or renamed, because events recorded with it must still
 * read the same. Only new commands are checked against the list; events recorded before it (with a
 * code it lacks) still fold and replay.
 */

/** The version of the list (README, "Indicator codes"). */
export const INDICATOR_LIST_VERSION = '2026.1';

/** The ILO/EC dimension an indicator belongs to, plus the Palermo act for who moved the person. */
export const INDICATOR_DIMENSIONS = [
  'deceptive-recruitment',
  'coercive-recruitment',
  'recruitment-by-abuse-of-vulnerability',
  'movement-and-harbouring',
  'exploitative-conditions',
  'coercion-at-destination',
  'abuse-of-vulnerability-at-destination',
] as const;
export type IndicatorDimension = (typeof INDICATOR_DIMENSIONS)[number];

/** Which element of the Palermo definition an indicator points to. */
export type PalermoElement = 'act' | 'means' | 'exploitation';

export interface IndicatorDefinition {
  readonly code: string;
  readonly dimension: IndicatorDimension;
  readonly palermo: PalermoElement;
  /** The list version that added it. */
  readonly since: string;
}

const V1 = '2026.1';
const group = (dimension: IndicatorDimension, palermo: PalermoElement, codes: readonly string[]) =>
  codes.map((code): IndicatorDefinition => ({ code, dimension, palermo, since: V1 }));

/** Every indicator, grouped by dimension (the order a form shows them in). */
export const INDICATORS: readonly IndicatorDefinition[] = [
  // Deceived about the job, its conditions, pay, papers or travel (means: fraud, deception).
  ...group('deceptive-recruitment', 'means', [
    'deceived-about-job',
    'deceived-about-working-conditions',
    'deceived-about-contract',
    'deceived-about-wages',
    'deceived-about-housing',
    'deceived-about-documents',
    'deceived-about-travel',
    'deceived-about-family-reunification',
    'false-promise-of-marriage-or-adoption',
  ]),
  // Recruited by force, threat or payment (means: force, threat, abduction, payments to a person in control).
  ...group('coercive-recruitment', 'means', [
    'abducted',
    'forced-marriage-or-adoption',
    'sold-or-exchanged',
    'threatened-at-recruitment',
    'violence-at-recruitment',
    'recruitment-fees-charged',
  ]),
  // Recruited by abuse of a position of vulnerability (means).
  ...group('recruitment-by-abuse-of-vulnerability', 'means', [
    'irregular-migration-status',
    'language-barrier',
    'lack-of-information',
    'economic-hardship',
    'difficult-family-situation',
    'emotional-dependency',
    'false-information-about-authorities',
    'false-information-about-migration',
    'disability-or-illness',
    'homelessness',
    'substance-dependency',
    'unaccompanied-minor',
  ]),
  // Moved, transferred, harboured or received by others (the act).
  ...group('movement-and-harbouring', 'act', [
    'travel-arranged-by-others',
    'travel-documents-arranged-by-others',
    'irregular-border-crossing-facilitated',
    'transferred-between-exploiters',
    'housed-by-exploiters',
  ]),
  // Conditions of work and life far below what the law allows (pointing to exploitation).
  ...group('exploitative-conditions', 'exploitation', [
    'excessive-working-hours',
    'no-rest-days',
    'no-or-low-wages',
    'wage-deductions',
    'hazardous-work',
    'degrading-living-conditions',
    'accommodation-at-workplace',
    'no-labour-contract',
    'contract-not-respected',
    'no-access-to-earnings',
  ]),
  // Kept in it by force, threat, debt or control (means, at destination).
  ...group('coercion-at-destination', 'means', [
    'withheld-documents',
    'debt-bondage',
    'restricted-movement',
    'under-surveillance',
    'communication-controlled',
    'physical-violence',
    'sexual-violence',
    'threats-of-violence',
    'threats-against-family',
    'threat-of-denunciation',
    'threat-of-exposure',
    'withheld-wages',
    'forced-criminal-activity',
    'forced-tasks-or-clients',
    'forced-to-lie',
    'forced-drug-use',
    'no-access-to-medical-care',
  ]),
  // Unable to leave for lack of alternatives (means: abuse of vulnerability, at destination).
  ...group('abuse-of-vulnerability-at-destination', 'means', [
    'dependency-on-exploiters',
    'unable-to-leave-area',
    'does-not-know-address',
    'isolated-from-community',
    'fear-of-authorities',
    'fear-or-anxiety',
  ]),
];

/** Every code of the list, in the list's order. */
export const INDICATOR_CODES: readonly string[] = INDICATORS.map((i) => i.code);

const KNOWN: ReadonlySet<string> = new Set(INDICATOR_CODES);

/** Whether `value` is a code of the list (the current version: codes are never removed). */
export function isIndicatorCode(value: unknown): value is string {
  return typeof value === 'string' && KNOWN.has(value);
}
