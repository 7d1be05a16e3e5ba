import {
  DATA_CATEGORIES,
  PURPOSES,
  conflict,
  forbidden,
  idListProblem,
  invalid,
  isAbroad,
  notFound,
  parseInstant,
  ruleBroken,
  type Actor,
  type AgencyKind,
  type DataCategory,
  type Decider,
  type Purpose,
  type Role,
} from '@nrm/shared-kernel';
import {
  LAWFUL_BASES,
  type ConsentCapture,
  type ConsentCommand,
  type GrantConsent,
  type RecordContext,
  type RecordLawfulBasis,
  type RefuseConsent,
  type WithdrawConsent,
} from './commands';
import type {
  ConsentEvent,
  ConsentGranted,
  ConsentRefused,
  ConsentWithdrawn,
  LawfulBasisRecorded,
  RecordedCapture,
} from './events';
import { coveredUntil } from './coverage';
import { grantHolds, ownEntry, type ConsentState, type GrantState, type Withdrawal } from './state';

/** A grant names at most this many agencies, so that a consent stays something a person can follow. */
export const MAX_AGENCIES_PER_GRANT = 50;
/** A lawful basis must say why in a sentence, not a word. */
export const MIN_JUSTIFICATION_LENGTH = 20;

/**
 * Special categories of personal data (GDPR art. 9 and the person's safety): they go abroad only on
 * the person's explicit consent, never on a domestic lawful basis.
 */
export const SENSITIVE_CATEGORIES: readonly DataCategory[] = [
  'identity',
  'contact',
  'health',
  'exploitation',
  'immigration-status',
];

/**
 * Agencies that are never in direct contact with the person inside this mechanism, so they record
 * no consent: a foreign contact point (consent there is taken under its own country's mechanism),
 * the national coordinator and the oversight body.
 */
export const NO_CONTACT_KINDS: readonly AgencyKind[] = [
  'foreign-nrm',
  'national-coordinator',
  'oversight-body',
];
/** Agencies that record no lawful basis in this ledger: foreign law is not ours; oversight does no casework. */
const NO_LAWFUL_BASIS_KINDS: readonly AgencyKind[] = ['foreign-nrm', 'oversight-body'];
/** Consent to send special categories abroad must be explicit: written, or through a guardian. */
const EXPLICIT_CAPTURE: readonly string[] = ['written', 'guardian'];

const CAPTURE_METHODS: readonly string[] = ['written', 'verbal-with-witness', 'guardian'];
// A language tag such as 'en', 'ro', 'vi' or 'pt-BR'.
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

type ScopeField = 'agencyIds' | 'categories' | 'purposes';
const SCOPE_WORDS: Record<ScopeField, string> = {
  agencyIds: 'agencies',
  categories: 'data categories',
  purposes: 'purposes',
};

export const initialState = (): ConsentState => ({ status: 'empty' });

export function decide(command: ConsentCommand, state: ConsentState): readonly ConsentEvent[] {
  switch (command.type) {
    case 'GrantConsent':
      return [grantConsent(command, state)];
    case 'WithdrawConsent':
      return [withdrawConsent(command, state)];
    case 'RefuseConsent':
      return [refuseConsent(command, state)];
    case 'RecordLawfulBasis':
      return [recordLawfulBasis(command, state)];
    default: {
      const unknown: never = command;
      throw ruleBroken(
        'CONSENT.UNKNOWN_COMMAND',
        `This consent request is not recognised (${(unknown as { type: string }).type}).`,
      );
    }
  }
}

function grantConsent(command: GrantConsent, state: ConsentState): ConsentGranted {
  const { data, metadata } = command;
  requireRole(metadata.actor, ['caseworker'], 'Only a caseworker can record a consent.');
  requireSameCase(state, data.caseId);
  requireId(data.consentId, 'consentId');
  if (state.status === 'recorded' && ownEntry(state.consents, data.consentId)) {
    throw conflict(
      'CONSENT.ALREADY_RECORDED',
      'A consent with this reference is already recorded for this case.',
      'consentId',
    );
  }
  requireContact(metadata.actor.agencyKind, data.recorderInContact, 'consent');
  const agencyIds = requireAgencies(data.agencyIds, 'agencyIds');
  const categories = requireValues(data.categories, DATA_CATEGORIES, 'categories');
  const purposes = requireValues(data.purposes, PURPOSES, 'purposes');
  const kinds = requireKnownAgencies(agencyIds, data.agencyKinds);
  const now = clock(metadata.now);
  requireFutureExpiry(data.expiresAt, now, 'A consent must end in the future.');
  const capture = requireCapture(data.capture, data.subjectIsMinor);
  requireOwnWitness(capture, data.witnessAgencyId, metadata.actor);
  const sensitive = categories.filter((category) => SENSITIVE_CATEGORIES.includes(category));
  const foreign = kinds.findIndex(isAbroad);
  if (foreign >= 0 && sensitive.length > 0 && !EXPLICIT_CAPTURE.includes(capture.method)) {
    throw ruleBroken(
      'CONSENT.FOREIGN_NEEDS_WRITTEN',
      `Sending ${sensitive.join(', ')} abroad needs the person's explicit consent: written, or through a guardian.`,
      `agencyIds[${foreign}]`,
    );
  }
  requireNoSelfWidening(
    state,
    metadata.actor,
    agencyIds,
    categories,
    purposes,
    metadata.now,
    Date.parse(data.expiresAt),
  );

  // Sealed by the handler (schema 2), the guardian's reference is never recorded in clear.
  const { guardianReference, ...captured } = capture;
  const sealed = guardianReference !== undefined && data.sealedGuardianReference !== undefined;
  const recorded: RecordedCapture = sealed
    ? { ...captured, sealedGuardianReference: data.sealedGuardianReference ?? null }
    : capture;
  return {
    type: 'ConsentGranted',
    ...(sealed ? { schemaVersion: 2 as const } : { schemaVersion: 1 as const }),
    data: {
      caseId: data.caseId,
      consentId: data.consentId,
      recordedByAgencyId: metadata.actor.agencyId,
      recordedByPrincipalId: metadata.actor.principalId,
      agencyIds,
      categories,
      purposes,
      expiresAt: data.expiresAt,
      capture: recorded,
      grantedAt: metadata.now,
    },
  };
}

/**
 * The witness of a consent is a principal the registry holds for the recording agency: an id the
 * ledger made or its operator chose, never text a caller makes up (a name shaped as an id would
 * stay in the event for good), and the agency answers for its own staff only (it cannot name
 * another agency's principal as having heard the person). One answer for an unknown principal and
 * another agency's, so that the check tells nothing of other agencies' registrations.
 */
function requireOwnWitness(capture: ConsentCapture, witnessAgencyId: string | undefined, actor: Actor): void {
  if (capture.witnessPrincipalId === undefined) return;
  if (witnessAgencyId === undefined || witnessAgencyId !== actor.agencyId) {
    throw invalid(
      'CONSENT.WITNESS_UNKNOWN',
      'The witness must be a principal registered for your agency: give their principal id.',
      'capture.witnessPrincipalId',
    );
  }
}

/**
 * Rule 7: consent is given by the person to the agency in contact with them, which records it; so
 * are its withdrawal and a refusal, the person's decisions too. A party without contact (a foreign
 * contact point addressed by a referral, a decision-maker) neither grants nor revokes for them.
 */
function requireContact(kind: AgencyKind, inContact: boolean, what: string): void {
  if (NO_CONTACT_KINDS.includes(kind) || inContact !== true) {
    throw forbidden(
      'CONSENT.NO_CONTACT',
      `Only an agency in direct contact with the person (it reported the case, supports the person, or received them through a completed handoff) can record their ${what}.`,
    );
  }
}

function withdrawConsent(command: WithdrawConsent, state: ConsentState): ConsentWithdrawn {
  const { data, metadata } = command;
  requireRole(metadata.actor, ['caseworker'], 'Only a caseworker can record a withdrawal of consent.');
  requireSameCase(state, data.caseId);
  requireContact(metadata.actor.agencyKind, data.recorderInContact, 'withdrawal of consent');
  const grant = state.status === 'recorded' ? ownEntry(state.consents, data.consentId) : undefined;
  if (!grant) {
    throw notFound(
      'CONSENT.NOT_FOUND',
      'No consent with this reference is recorded for this case.',
      'consentId',
    );
  }
  if (grant.withdrawn) {
    throw conflict(
      'CONSENT.ALREADY_WITHDRAWN',
      'This consent has already been withdrawn in full.',
      'consentId',
    );
  }
  clock(metadata.now);
  // Expired consents may still be withdrawn: recording the person's wish is harmless.
  const agencyIds = withdrawnValues(data.agencyIds, grant.agencyIds, 'agencyIds');
  const categories = withdrawnValues(data.categories, grant.categories, 'categories');
  const purposes = withdrawnValues(data.purposes, grant.purposes, 'purposes');

  const partial = agencyIds !== undefined || categories !== undefined || purposes !== undefined;
  let endsWhole = !partial;
  if (partial) {
    // Exactly the named triples leave the grant; it must still hold at least one of them.
    const withdrawal = withdrawalOf({ agencyIds, categories, purposes });
    const left = { ...grant, withdrawals: [...grant.withdrawals, withdrawal] };
    if (countHeld(left) === countHeld(grant)) {
      throw conflict(
        'CONSENT.ALREADY_WITHDRAWN',
        'What this withdrawal names has already been withdrawn from this consent.',
        agencyIds ? 'agencyIds' : categories ? 'categories' : 'purposes',
      );
    }
    // A grant that holds nothing any more has ended as a whole.
    endsWhole = countHeld(left) === 0;
  }

  return {
    type: 'ConsentWithdrawn',
    schemaVersion: 1,
    data: {
      caseId: data.caseId,
      consentId: data.consentId,
      whole: endsWhole,
      ...(agencyIds ? { agencyIds } : {}),
      ...(categories ? { categories } : {}),
      ...(purposes ? { purposes } : {}),
      withdrawnByAgencyId: metadata.actor.agencyId,
      withdrawnAt: metadata.now,
    },
  };
}

function refuseConsent(command: RefuseConsent, state: ConsentState): ConsentRefused {
  const { data, metadata } = command;
  requireRole(metadata.actor, ['caseworker'], 'Only a caseworker can record a refusal of consent.');
  requireSameCase(state, data.caseId);
  requireContact(metadata.actor.agencyKind, data.recorderInContact, 'refusal of consent');
  clock(metadata.now);
  // A refusal is a fact and is always recorded; the lists only say what was refused.
  const agencyIds = listed(data.agencyIds);
  const categories = listed(data.categories);
  const purposes = listed(data.purposes);
  return {
    type: 'ConsentRefused',
    schemaVersion: 1,
    data: {
      caseId: data.caseId,
      ...(agencyIds ? { agencyIds } : {}),
      ...(categories ? { categories } : {}),
      ...(purposes ? { purposes } : {}),
      recordedByAgencyId: metadata.actor.agencyId,
      refusedAt: metadata.now,
    },
  };
}

// A lawful basis has no withdrawal command: it ends when it expires (or, for one without an
// expiry, when a new basis or consent supersedes it by other means), never by the person's wish.
function recordLawfulBasis(command: RecordLawfulBasis, state: ConsentState): LawfulBasisRecorded {
  const { data, metadata } = command;
  requireRole(
    metadata.actor,
    ['caseworker', 'decision-maker'],
    'Only a caseworker or a decision-maker can record a lawful basis.',
  );
  requireSameCase(state, data.caseId);
  requireId(data.lawfulBasisId, 'lawfulBasisId');
  if (state.status === 'recorded' && ownEntry(state.lawfulBases, data.lawfulBasisId)) {
    throw conflict(
      'CONSENT.ALREADY_RECORDED',
      'A lawful basis with this reference is already recorded for this case.',
      'lawfulBasisId',
    );
  }
  if (NO_LAWFUL_BASIS_KINDS.includes(metadata.actor.agencyKind)) {
    throw forbidden(
      'CONSENT.NO_STANDING',
      'A foreign contact point or the oversight body cannot record a lawful basis in this mechanism.',
    );
  }
  if (!(LAWFUL_BASES as readonly string[]).includes(data.basis)) {
    throw ruleBroken('CONSENT.BASIS_UNKNOWN', 'Choose one of the recognised lawful bases.', 'basis');
  }
  // The justification is the legal reason (e.g. which court order and what it requires), kept
  // for oversight; it is not a place for notes about the person.
  const justification = typeof data.justification === 'string' ? data.justification.trim() : '';
  if (justification.length < MIN_JUSTIFICATION_LENGTH) {
    throw ruleBroken(
      'CONSENT.JUSTIFICATION_REQUIRED',
      `Explain the legal reason for processing without consent in at least ${MIN_JUSTIFICATION_LENGTH} characters.`,
      'justification',
    );
  }
  const agencyIds = requireAgencies(data.agencyIds, 'agencyIds');
  const categories = requireValues(data.categories, DATA_CATEGORIES, 'categories');
  const purposes = requireValues(data.purposes, PURPOSES, 'purposes');
  const kinds = requireKnownAgencies(agencyIds, data.agencyKinds);
  const now = clock(metadata.now);
  if (data.expiresAt !== undefined) {
    requireFutureExpiry(data.expiresAt, now, 'A lawful basis must end in the future.');
  }
  // A domestic legal ground does not reach a foreign contact point: special categories go abroad
  // on the person's explicit consent only.
  const foreign = kinds.findIndex(isAbroad);
  if (foreign >= 0 && categories.some((category) => SENSITIVE_CATEGORIES.includes(category))) {
    throw ruleBroken(
      'CONSENT.FOREIGN_LAWFUL_BASIS',
      "A lawful basis cannot send identity, contact, health, exploitation or immigration data abroad; that needs the person's consent.",
      `agencyIds[${foreign}]`,
    );
  }
  requireNoSelfWidening(
    state,
    metadata.actor,
    agencyIds,
    categories,
    purposes,
    metadata.now,
    data.expiresAt === undefined ? Infinity : Date.parse(data.expiresAt),
  );

  return {
    type: 'LawfulBasisRecorded',
    // Sealed by the handler (schema 2), the text is never recorded in clear.
    ...(data.sealedJustification !== undefined
      ? { schemaVersion: 2 as const }
      : { schemaVersion: 1 as const }),
    data: {
      caseId: data.caseId,
      lawfulBasisId: data.lawfulBasisId,
      basis: data.basis,
      ...(data.sealedJustification !== undefined
        ? { sealedJustification: data.sealedJustification }
        : { justification }),
      agencyIds,
      categories,
      purposes,
      ...(data.expiresAt !== undefined ? { expiresAt: data.expiresAt } : {}),
      recordedByAgencyId: metadata.actor.agencyId,
      recordedByPrincipalId: metadata.actor.principalId,
      recordedAt: metadata.now,
    },
  };
}

export function evolve(state: ConsentState, event: ConsentEvent): ConsentState {
  const recorded =
    state.status === 'recorded'
      ? state
      : {
          status: 'recorded' as const,
          caseId: event.data.caseId,
          consents: {},
          lawfulBases: {},
          refusals: 0,
        };
  switch (event.type) {
    case 'ConsentGranted': {
      const { data } = event;
      const grant: GrantState = {
        agencyIds: [...data.agencyIds],
        categories: [...data.categories],
        purposes: [...data.purposes],
        withdrawals: [],
        recordedByAgencyId: data.recordedByAgencyId,
        expiresAt: data.expiresAt,
        grantedAt: data.grantedAt,
        withdrawn: false,
      };
      // A computed key defines an own property even for '__proto__'.
      return { ...recorded, consents: { ...recorded.consents, [data.consentId]: grant } };
    }
    case 'ConsentWithdrawn': {
      const { data } = event;
      const grant = ownEntry(recorded.consents, data.consentId);
      if (!grant) return state;
      // On a whole withdrawal the scope is kept as it last was, to show what ended.
      const next: GrantState = data.whole
        ? { ...grant, withdrawn: true }
        : { ...grant, withdrawals: [...grant.withdrawals, withdrawalOf(data)] };
      return { ...recorded, consents: { ...recorded.consents, [data.consentId]: next } };
    }
    case 'ConsentRefused':
      return { ...recorded, refusals: recorded.refusals + 1 };
    case 'LawfulBasisRecorded': {
      const { data } = event;
      return {
        ...recorded,
        lawfulBases: {
          ...recorded.lawfulBases,
          [data.lawfulBasisId]: {
            basis: data.basis,
            agencyIds: [...data.agencyIds],
            categories: [...data.categories],
            purposes: [...data.purposes],
            ...(data.expiresAt !== undefined ? { expiresAt: data.expiresAt } : {}),
            recordedAt: data.recordedAt,
            recordedByAgencyId: data.recordedByAgencyId,
          },
        },
      };
    }
    default: {
      const _unknown: never = event;
      return state;
    }
  }
}

export const consentDecider: Decider<ConsentCommand, ConsentEvent, ConsentState> = {
  decide,
  evolve,
  initialState,
};

// --- guards -----------------------------------------------------------------------------------

function requireRole(actor: Actor, roles: readonly Role[], message: string): void {
  if (!actor.roles.some((role) => roles.includes(role))) throw forbidden('CONSENT.ROLE_REQUIRED', message);
}

/** The stream belongs to one case; a command for another case was routed to the wrong stream. */
function requireSameCase(state: ConsentState, caseId: string): void {
  if (typeof caseId !== 'string' || caseId.trim() === '') {
    throw ruleBroken('CONSENT.CASE_REQUIRED', 'Say which case this is about.', 'caseId');
  }
  if (state.status === 'recorded' && state.caseId !== caseId) {
    throw ruleBroken('CONSENT.WRONG_CASE', 'This request is about a different case.', 'caseId');
  }
}

function requireId(id: string, field: 'consentId' | 'lawfulBasisId'): void {
  if (typeof id !== 'string' || id.trim() === '') {
    throw ruleBroken('CONSENT.ID_REQUIRED', 'Give the record a reference.', field);
  }
}

function clock(now: string): number {
  const ms = parseInstant(now);
  if (ms === undefined) {
    throw ruleBroken('CONSENT.TIME_INVALID', 'The time of this request could not be read.');
  }
  return ms;
}

function requireFutureExpiry(expiresAt: string, now: number, message: string): void {
  const expires = parseInstant(expiresAt);
  if (expires === undefined) {
    throw ruleBroken(
      'CONSENT.EXPIRY_INVALID',
      'Give the end date as a full date and time with its time zone.',
      'expiresAt',
    );
  }
  if (expires <= now) throw ruleBroken('CONSENT.EXPIRY_IN_PAST', message, 'expiresAt');
}

function requireAgencies(agencyIds: readonly string[], field: ScopeField): readonly string[] {
  // The shared kernel's id-list rule: 1 to MAX_AGENCIES_PER_GRANT distinct, well-formed ids.
  const problem = idListProblem(agencyIds, { min: 1, max: MAX_AGENCIES_PER_GRANT }, field);
  if (problem !== undefined) {
    throw ruleBroken(
      'CONSENT.SCOPE_INVALID',
      `Name between 1 and ${MAX_AGENCIES_PER_GRANT} agencies, each once, by its reference: ${problem}.`,
      field,
    );
  }
  return [...agencyIds];
}

function requireValues<T extends string>(
  values: readonly T[],
  known: readonly T[],
  field: ScopeField,
): readonly T[] {
  if (!isList(values) || values.length === 0) {
    throw ruleBroken('CONSENT.SCOPE_INVALID', `Name at least one of the ${SCOPE_WORDS[field]}.`, field);
  }
  if (values.some((value) => !known.includes(value))) {
    throw ruleBroken('CONSENT.SCOPE_INVALID', `Only recognised ${SCOPE_WORDS[field]} can be named.`, field);
  }
  requireUnique(values, field);
  return [...values];
}

function requireUnique(values: readonly string[], field: ScopeField): void {
  if (new Set(values).size !== values.length) {
    throw ruleBroken(
      'CONSENT.SCOPE_INVALID',
      `Each of the ${SCOPE_WORDS[field]} may be named only once.`,
      field,
    );
  }
}

function requireCapture(capture: ConsentCapture, subjectIsMinor: boolean): ConsentCapture {
  if (typeof capture !== 'object' || capture === null || !CAPTURE_METHODS.includes(capture.method)) {
    throw ruleBroken(
      'CONSENT.CAPTURE_INVALID',
      'Say how the consent was given: written, verbal with a witness, or through a guardian.',
      'capture.method',
    );
  }
  if (typeof capture.language !== 'string' || !LANGUAGE_TAG.test(capture.language)) {
    throw ruleBroken(
      'CONSENT.LANGUAGE_REQUIRED',
      "Give the language the person was informed in as a language code, such as 'en'.",
      'capture.language',
    );
  }
  const guardianReference = present(capture.guardianReference);
  const witnessPrincipalId = present(capture.witnessPrincipalId);
  // A child cannot consent alone: the guardian gives consent on their behalf.
  if (subjectIsMinor && (capture.method !== 'guardian' || guardianReference === undefined)) {
    throw ruleBroken(
      'CONSENT.MINOR_NEEDS_GUARDIAN',
      "A child's consent must be given through their guardian; record the guardian's reference.",
      'capture.guardianReference',
    );
  }
  if (capture.method === 'guardian' && guardianReference === undefined) {
    throw ruleBroken(
      'CONSENT.MINOR_NEEDS_GUARDIAN',
      "Consent given through a guardian needs the guardian's reference.",
      'capture.guardianReference',
    );
  }
  if (capture.method === 'verbal-with-witness' && witnessPrincipalId === undefined) {
    throw ruleBroken(
      'CONSENT.WITNESS_REQUIRED',
      'A verbal consent needs the witness who heard it.',
      'capture.witnessPrincipalId',
    );
  }
  return {
    method: capture.method,
    language: capture.language,
    interpreterUsed: capture.interpreterUsed === true,
    ...(witnessPrincipalId !== undefined ? { witnessPrincipalId } : {}),
    ...(guardianReference !== undefined ? { guardianReference } : {}),
  };
}

/** The values a withdrawal names, each of which must still be in the grant. */
function withdrawnValues<T extends string>(
  values: readonly T[] | undefined,
  granted: readonly T[],
  field: ScopeField,
): readonly T[] | undefined {
  if (values === undefined) return undefined;
  if (!isList(values) || values.length === 0) {
    // An empty list is most likely a mistake; reading it as "withdraw everything" would surprise.
    throw ruleBroken(
      'CONSENT.SCOPE_INVALID',
      `Name the ${SCOPE_WORDS[field]} to withdraw, or leave the list out to withdraw the whole consent.`,
      field,
    );
  }
  if (values.some((value) => !granted.includes(value))) {
    throw ruleBroken(
      'CONSENT.NOT_GRANTED',
      `Some of the ${SCOPE_WORDS[field]} named are not part of this consent.`,
      field,
    );
  }
  return [...new Set(values)];
}

function withdrawalOf(lists: Withdrawal): Withdrawal {
  return {
    ...(lists.agencyIds ? { agencyIds: [...lists.agencyIds] } : {}),
    ...(lists.categories ? { categories: [...lists.categories] } : {}),
    ...(lists.purposes ? { purposes: [...lists.purposes] } : {}),
  };
}

/** How many (agency, category, purpose) triples a grant still holds: at most 50 × 7 × 5. */
function countHeld(grant: GrantState): number {
  let held = 0;
  for (const agencyId of grant.agencyIds)
    for (const category of grant.categories)
      for (const purpose of grant.purposes) if (grantHolds(grant, agencyId, category, purpose)) held++;
  return held;
}

/** The kind of each named agency, in order; an agency the registry does not know is refused. */
function requireKnownAgencies(
  agencyIds: readonly string[],
  agencyKinds: RecordContext['agencyKinds'] | undefined,
): AgencyKind[] {
  const known = typeof agencyKinds === 'object' && agencyKinds !== null ? agencyKinds : {};
  return agencyIds.map((agencyId, i) => {
    const kind = ownEntry(known, agencyId);
    if (typeof kind !== 'string')
      throw ruleBroken('AGENCY.UNKNOWN', `No agency is registered with id "${agencyId}".`, `agencyIds[${i}]`);
    return kind;
  });
}

/**
 * Rule 7: no agency widens its own access by a record it alone makes. A record may name the agency
 * that makes it only for what that agency already holds through others' records, for at least as
 * long; coverage never counts a record for its own recorder anyway.
 */
function requireNoSelfWidening(
  state: ConsentState,
  actor: Actor,
  agencyIds: readonly string[],
  categories: readonly DataCategory[],
  purposes: readonly Purpose[],
  now: string,
  until: number,
): void {
  const self = agencyIds.indexOf(actor.agencyId);
  if (self < 0) return;
  for (const category of categories)
    for (const purpose of purposes) {
      const held = coveredUntil(state, { agencyId: actor.agencyId, category, purpose, at: now });
      if (held === undefined || held < until)
        throw ruleBroken(
          'CONSENT.SELF_GRANT',
          'A record cannot give your own agency access it does not already hold: another agency in contact with the person must record it.',
          `agencyIds[${self}]`,
        );
    }
}

// Array.isArray narrows to any[]; this keeps the element type.
function isList<T>(values: readonly T[] | undefined): values is readonly T[] {
  return Array.isArray(values);
}

function listed<T>(values: readonly T[] | undefined): readonly T[] | undefined {
  return isList(values) && values.length > 0 ? [...new Set(values)] : undefined;
}

function present(value: string | undefined): string | undefined {
  const trimmed = typeof value === 'string' ? value.trim() : '';
  return trimmed === '' ? undefined : trimmed;
}
