import type { JsonValue, RecordedEvent } from '@nrm/event-store';
import {
  LAWFUL_BASES,
  type ConsentCaptureMethod,
  type ConsentEvent,
  type ConsentGranted,
} from '@nrm/consent';
import {
  DESIGNATION_REASONS,
  GROUNDS_OUTCOMES,
  INDICATORS_OUTCOMES,
  RECONSIDERATION_REASONS,
  type IdentificationEvent,
} from '@nrm/identification';
import { DECLINE_REASONS, URGENCIES, WITHDRAW_REASONS, type ReferralEvent } from '@nrm/referral';
import {
  AGENCY_KINDS,
  DATA_CATEGORIES,
  EXPLOITATION_FORMS,
  isSealedIdentity,
  PURPOSES,
  SUPPORT_SERVICE_TYPES,
} from '@nrm/shared-kernel';
import { REFLECTION_END_REASONS, SUPPORT_CASE_OUTCOMES, type SupportEvent } from '@nrm/support';

/** The domain events of a case that contracts are made from, or that decide who may receive them. */
export type SourceEvent = IdentificationEvent | ConsentEvent | ReferralEvent | SupportEvent;

/**
 * A stored event, read for the relay:
 * - `event`: a case's domain event whose shape was checked field by field;
 * - `unmappable`: an event of a case stream the relay does not understand (an unknown type, an
 *   unknown schema version, a field missing or of the wrong kind); the relay parks it. The reason
 *   names the type and field, never a value;
 * - `other`: not a case's domain event (registry, access audit, erasure, …): nothing to publish.
 */
export type SourceReading =
  | { readonly kind: 'event'; readonly event: SourceEvent }
  | { readonly kind: 'unmappable'; readonly reason: string }
  | { readonly kind: 'other' };

/** The streams whose events belong to a case: each holds only the domain events of one context. */
export const CASE_STREAM_PREFIXES = ['identification-', 'consent-', 'referral-', 'support-'] as const;

type Check = (value: JsonValue | undefined) => boolean;

const text: Check = (v) => typeof v === 'string' && v.length > 0;
const flag: Check = (v) => typeof v === 'boolean';
const count: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const texts: Check = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string');
const oneOf =
  (values: readonly string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v);
const listOf =
  (values: readonly string[]): Check =>
  (v) =>
    Array.isArray(v) && v.every((x) => typeof x === 'string' && values.includes(x));
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined || check(v);

const CAPTURE_METHODS: readonly ConsentCaptureMethod[] = ['written', 'verbal-with-witness', 'guardian'];
type CaptureSpec = { readonly [K in keyof ConsentGranted['data']['capture']]-?: Check };
const CAPTURE: CaptureSpec = {
  method: oneOf(CAPTURE_METHODS),
  language: text,
  interpreterUsed: flag,
  witnessPrincipalId: optional(text),
  // Schema 1 kept it in clear; schema 2 seals it under the subject's key (null: after the erasure).
  guardianReference: optional(text),
  sealedGuardianReference: optional((v) => v === null || isSealedIdentity(v)),
};
const capture: Check = (v) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && fieldProblem(v, CAPTURE) === undefined;

/** Checks for every field of every source event's data: a field added to a domain event must be added here. */
type Spec<Data> = { readonly [K in keyof Data]-?: Check };
type Specs = { readonly [Type in SourceEvent['type']]: Spec<Extract<SourceEvent, { type: Type }>['data']> };

const categories = listOf(DATA_CATEGORIES);
const purposes = listOf(PURPOSES);

const SPECS: Specs = {
  PotentialVictimReported: {
    caseId: text,
    subjectId: text,
    reportedByAgencyId: text,
    reportedByAgencyKind: oneOf(AGENCY_KINDS),
    indicators: texts,
    exploitationForms: listOf(EXPLOITATION_FORMS),
    minor: flag,
    region: text,
    reportedAt: text,
    // Sealed identity data is checked for its shape only; no contract ever carries it.
    identity: optional((v) => isSealedIdentity(v)),
  },
  IndicatorsAssessed: {
    caseId: text,
    outcome: oneOf(INDICATORS_OUTCOMES),
    indicatorsConfirmed: texts,
    exploitationForms: listOf(EXPLOITATION_FORMS),
    assessedByAgencyId: text,
    assessedAt: text,
  },
  ReasonableGroundsDecided: {
    caseId: text,
    outcome: oneOf(GROUNDS_OUTCOMES),
    decidedByAgencyId: text,
    decidedAt: text,
    reflectionPeriodEntitled: flag,
  },
  ConclusiveGroundsDecided: {
    caseId: text,
    outcome: oneOf(GROUNDS_OUTCOMES),
    decidedByAgencyId: text,
    decidedAt: text,
  },
  IdentificationReconsidered: {
    caseId: text,
    reason: oneOf(RECONSIDERATION_REASONS),
    previousStatus: oneOf(['reasonable-grounds-negative', 'conclusive-grounds-negative']),
    reconsideredByAgencyId: text,
    reconsideredAt: text,
  },
  CompetentAuthorityDesignated: {
    caseId: text,
    authorityId: text,
    authorityKind: oneOf(AGENCY_KINDS),
    reason: optional(oneOf(DESIGNATION_REASONS)),
    designatedByAgencyId: text,
    designatedByPrincipalId: text,
    designatedAt: text,
  },
  ConsentGranted: {
    caseId: text,
    consentId: text,
    recordedByAgencyId: text,
    recordedByPrincipalId: text,
    agencyIds: texts,
    categories,
    purposes,
    expiresAt: text,
    capture,
    grantedAt: text,
  },
  ConsentWithdrawn: {
    caseId: text,
    consentId: text,
    whole: flag,
    agencyIds: optional(texts),
    categories: optional(categories),
    purposes: optional(purposes),
    withdrawnByAgencyId: text,
    withdrawnAt: text,
  },
  ConsentRefused: {
    caseId: text,
    agencyIds: optional(texts),
    categories: optional(categories),
    purposes: optional(purposes),
    recordedByAgencyId: text,
    refusedAt: text,
  },
  LawfulBasisRecorded: {
    caseId: text,
    lawfulBasisId: text,
    basis: oneOf(LAWFUL_BASES),
    // Schema 1 kept it in clear; schema 2 seals it under the subject's key (null: after the erasure).
    justification: optional(text),
    sealedJustification: optional((v) => v === null || isSealedIdentity(v)),
    agencyIds: texts,
    categories,
    purposes,
    expiresAt: optional(text),
    recordedByAgencyId: text,
    recordedByPrincipalId: text,
    recordedAt: text,
  },
  ReferralMade: {
    referralId: text,
    caseId: text,
    fromAgencyId: text,
    fromAgencyKind: oneOf(AGENCY_KINDS),
    toAgencyId: text,
    toAgencyKind: oneOf(AGENCY_KINDS),
    transnational: flag,
    purpose: oneOf(PURPOSES),
    servicesRequested: listOf(SUPPORT_SERVICE_TYPES),
    urgency: oneOf(URGENCIES),
    respondBy: text,
    sharedCategories: categories,
    madeByPrincipalId: text,
    madeAt: text,
  },
  ReferralAcknowledged: { referralId: text, caseId: text, byAgencyId: text, acknowledgedAt: text },
  ReferralAccepted: { referralId: text, caseId: text, byAgencyId: text, acceptedAt: text },
  ReferralDeclined: {
    referralId: text,
    caseId: text,
    byAgencyId: text,
    reason: oneOf(DECLINE_REASONS),
    declinedAt: text,
  },
  HandoffCompleted: { referralId: text, caseId: text, byAgencyId: text, completedAt: text },
  ReferralWithdrawn: {
    referralId: text,
    caseId: text,
    byAgencyId: text,
    reason: oneOf(WITHDRAW_REASONS),
    withdrawnAt: text,
  },
  ReferralEscalated: {
    referralId: text,
    caseId: text,
    byAgencyId: text,
    escalatedAt: text,
    overdueSeconds: count,
  },
  ReflectionPeriodStarted: {
    caseId: text,
    startsOn: text,
    endsOn: text,
    days: count,
    startedByAgencyId: text,
    startedAt: text,
  },
  ReflectionPeriodExtended: {
    caseId: text,
    additionalDays: count,
    previousEndsOn: text,
    endsOn: text,
    extendedByAgencyId: text,
    extendedAt: text,
  },
  ReflectionPeriodEnded: {
    caseId: text,
    reason: oneOf(REFLECTION_END_REASONS),
    endedOn: text,
    endedByAgencyId: text,
    endedAt: text,
  },
  SupportPlanAgreed: {
    caseId: text,
    planId: text,
    services: listOf(SUPPORT_SERVICE_TYPES),
    reviewOn: text,
    agreedByAgencyId: text,
    agreedAt: text,
  },
  SupportServiceProvided: {
    caseId: text,
    serviceType: oneOf(SUPPORT_SERVICE_TYPES),
    providedOn: text,
    providedByAgencyId: text,
    recordedAt: text,
  },
  SupportCaseClosed: {
    caseId: text,
    outcome: oneOf(SUPPORT_CASE_OUTCOMES),
    closedByAgencyId: text,
    closedAt: text,
  },
};

/** The schema versions of each source event type that the mappers understand: 1 unless listed. */
const UNDERSTOOD_VERSIONS: { readonly [Type in SourceEvent['type']]?: readonly number[] } = {
  // 2: the justification sealed under the subject's key (sealedJustification); no mapper reads it.
  LawfulBasisRecorded: [1, 2],
  // 2: the guardian's reference sealed under the subject's key; no mapper reads the capture.
  ConsentGranted: [1, 2],
};

function fieldProblem(
  data: { readonly [key: string]: JsonValue },
  spec: { [key: string]: Check },
): string | undefined {
  for (const [field, check] of Object.entries(spec)) {
    if (!check(Object.hasOwn(data, field) ? data[field] : undefined)) return field;
  }
  return undefined;
}

function isSourceType(type: string): type is SourceEvent['type'] {
  return Object.hasOwn(SPECS, type);
}

/** Reads a stored event as a case's domain event, checking every field the mappers rely on. */
export function readSourceEvent(recorded: RecordedEvent): SourceReading {
  const caseStream = CASE_STREAM_PREFIXES.some((prefix) => recorded.stream.startsWith(prefix));
  if (!isSourceType(recorded.type)) {
    return caseStream
      ? { kind: 'unmappable', reason: `unknown event type ${recorded.type} in a case stream` }
      : { kind: 'other' };
  }
  const understood = UNDERSTOOD_VERSIONS[recorded.type] ?? [1];
  if (!understood.includes(recorded.schemaVersion)) {
    return {
      kind: 'unmappable',
      reason: `${recorded.type} schema version ${recorded.schemaVersion} is not understood (only ${understood.join(', ')})`,
    };
  }
  const field = fieldProblem(recorded.data, SPECS[recorded.type]);
  if (field !== undefined) {
    return { kind: 'unmappable', reason: `${recorded.type}: field '${field}' is missing or not valid` };
  }
  // Every field of the type's data was checked above.
  const event = { type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data };
  return { kind: 'event', event: event as unknown as SourceEvent };
}

/** The case a source event belongs to. */
export function caseIdOf(event: SourceEvent): string {
  return event.data.caseId;
}
