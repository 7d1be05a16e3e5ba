import {
  AGENCY_KINDS,
  DATA_CATEGORIES,
  PURPOSES,
  SUPPORT_SERVICE_TYPES,
  basisAllowsSharing,
  isAbroad,
  conflict,
  forbidden,
  notFound,
  parseInstant,
  ruleBroken,
  type Actor,
  type DataCategory,
  type Decider,
  type DomainError,
} from '@nrm/shared-kernel';
import {
  DECLINE_REASONS,
  URGENCIES,
  WITHDRAW_REASONS,
  type AcceptReferral,
  type AcknowledgeReferral,
  type CompleteHandoff,
  type DeclineReferral,
  type EscalateReferral,
  type MakeReferral,
  type ReferralCommand,
  type WithdrawReferral,
} from './commands';
import type {
  HandoffCompleted,
  ReferralAccepted,
  ReferralAcknowledged,
  ReferralDeclined,
  ReferralEscalated,
  ReferralEvent,
  ReferralMade,
  ReferralWithdrawn,
} from './events';
import { initialReferralState, isAwaitingAnswer, type ExistingReferral, type ReferralState } from './state';
import { mayFollow } from './transitions';

// ---------------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------------

export function decide(command: ReferralCommand, state: ReferralState): readonly ReferralEvent[] {
  switch (command.type) {
    case 'MakeReferral':
      return [makeReferral(command, state)];
    case 'AcknowledgeReferral':
      return [acknowledgeReferral(command, state)];
    case 'AcceptReferral':
      return [acceptReferral(command, state)];
    case 'DeclineReferral':
      return [declineReferral(command, state)];
    case 'CompleteHandoff':
      return [completeHandoff(command, state)];
    case 'WithdrawReferral':
      return [withdrawReferral(command, state)];
    case 'EscalateReferral':
      return [escalateReferral(command, state)];
    default: {
      const unknownCommand: never = command;
      // Reached only when untyped input slips through; still answer with a DomainError.
      throw ruleBroken(
        'REFERRAL.UNKNOWN_COMMAND',
        `This request is not something a referral can do: ${String((unknownCommand as { type?: unknown }).type)}.`,
      );
    }
  }
}

/** Agencies that watch over the mechanism but do not hand people over themselves. */
const NON_REFERRING_AGENCY_KINDS = new Set(['oversight-body', 'national-coordinator']);

function makeReferral(command: MakeReferral, state: ReferralState): ReferralMade {
  const { data, metadata } = command;
  const { actor, now } = metadata;
  if (!mayFollow(state, 'ReferralMade')) {
    throw conflict('REFERRAL.ALREADY_MADE', 'This referral has already been made.', 'referralId');
  }
  if (NON_REFERRING_AGENCY_KINDS.has(actor.agencyKind)) {
    throw forbidden(
      'REFERRAL.AGENCY_CANNOT_REFER',
      'The national coordinator and the oversight body do not make referrals; a caseworker of an assisting agency does.',
    );
  }
  requireCaseworker(actor);

  requireText(data.referralId, 'referralId', 'a referral id');
  requireText(data.caseId, 'caseId', 'a case id');
  requireText(data.toAgencyId, 'toAgencyId', 'the receiving agency');
  requireOneOf(AGENCY_KINDS, data.toAgencyKind, 'toAgencyKind', 'the kind of the receiving agency');
  requireOneOf(PURPOSES, data.purpose, 'purpose', 'the purpose of the referral');
  requireOneOf(URGENCIES, data.urgency, 'urgency', 'the urgency');
  requireListOf(SUPPORT_SERVICE_TYPES, data.servicesRequested, 'servicesRequested', 'the services requested');
  requireListOf(DATA_CATEGORIES, data.sharedCategories, 'sharedCategories', 'the data categories shared');
  // The API passes coverage on from the consent context; refuse rather than crash if it is missing.
  if (!isList(data.coverage)) {
    throw ruleBroken(
      'REFERRAL.INVALID_VALUE',
      'The consent coverage for this referral is missing.',
      'coverage',
    );
  }

  if (data.toAgencyId === actor.agencyId) {
    throw ruleBroken('REFERRAL.SELF_REFERRAL', 'An agency cannot refer a person to itself.', 'toAgencyId');
  }
  if (NON_REFERRING_AGENCY_KINDS.has(data.toAgencyKind)) {
    // They coordinate and oversee; a person is referred to agencies that assist or protect.
    throw ruleBroken(
      'REFERRAL.AGENCY_CANNOT_RECEIVE',
      'The national coordinator and the oversight body do not receive referrals; refer the person to an agency that assists them.',
      'toAgencyId',
    );
  }

  const respondByMs = parseInstant(data.respondBy);
  if (respondByMs === undefined) {
    throw ruleBroken(
      'REFERRAL.INVALID_VALUE',
      'The respond-by time must be a date and time with a time zone, for example 2026-05-01T12:00:00Z.',
      'respondBy',
    );
  }
  if (!(respondByMs > Date.parse(now))) {
    throw ruleBroken(
      'REFERRAL.RESPOND_BY_IN_PAST',
      'The respond-by time must be in the future.',
      'respondBy',
    );
  }

  const seen = new Set<DataCategory>();
  for (const category of data.sharedCategories) {
    if (seen.has(category)) {
      throw ruleBroken(
        'REFERRAL.DUPLICATE_CATEGORY',
        `The data category "${category}" is listed more than once.`,
        'sharedCategories',
      );
    }
    seen.add(category);
  }

  const transnational = isAbroad(data.toAgencyKind);
  for (const category of data.sharedCategories) {
    const covering = data.coverage.filter((c) => c.category === category);
    if (covering.length === 0) {
      throw ruleBroken(
        'REFERRAL.NOT_COVERED',
        `The data category "${category}" cannot be shared with the receiving agency for this purpose: ` +
          'it needs the person’s consent or a recorded lawful basis.',
        'sharedCategories',
      );
    }
    // Sending data abroad rests on the person's own consent only (the shared kernel's rule).
    if (!covering.some((c) => basisAllowsSharing(c.basis, data.toAgencyKind))) {
      throw ruleBroken(
        'REFERRAL.TRANSNATIONAL_NEEDS_CONSENT',
        `The data category "${category}" can be sent to a contact point in another country only with the ` +
          'person’s consent; a lawful basis is not enough.',
        'sharedCategories',
      );
    }
  }

  return {
    type: 'ReferralMade',
    schemaVersion: 1,
    data: {
      referralId: data.referralId,
      caseId: data.caseId,
      fromAgencyId: actor.agencyId,
      fromAgencyKind: actor.agencyKind,
      toAgencyId: data.toAgencyId,
      toAgencyKind: data.toAgencyKind,
      transnational,
      purpose: data.purpose,
      servicesRequested: [...data.servicesRequested],
      urgency: data.urgency,
      // Stored in one canonical UTC form so that read models can compare and sort it as text.
      respondBy: new Date(respondByMs).toISOString(),
      sharedCategories: [...data.sharedCategories],
      madeByPrincipalId: actor.principalId,
      madeAt: now,
    },
  };
}

function acknowledgeReferral(command: AcknowledgeReferral, state: ReferralState): ReferralAcknowledged {
  const { referral, actor, now } = receiverAnswering(command, state);
  requireTransition(referral, 'ReferralAcknowledged', 'acknowledged');
  return {
    type: 'ReferralAcknowledged',
    schemaVersion: 1,
    data: { ...actedOn(referral, actor), acknowledgedAt: now },
  };
}

function acceptReferral(command: AcceptReferral, state: ReferralState): ReferralAccepted {
  const { referral, actor, now } = receiverAnswering(command, state);
  requireAcknowledgedForAnswer(referral, 'ReferralAccepted', 'accepted');
  return {
    type: 'ReferralAccepted',
    schemaVersion: 1,
    data: { ...actedOn(referral, actor), acceptedAt: now },
  };
}

function declineReferral(command: DeclineReferral, state: ReferralState): ReferralDeclined {
  const { referral, actor, now } = receiverAnswering(command, state);
  requireAcknowledgedForAnswer(referral, 'ReferralDeclined', 'declined');
  requireReason(DECLINE_REASONS, command.data.reason, 'Please give the reason for declining this referral.');
  return {
    type: 'ReferralDeclined',
    schemaVersion: 1,
    data: { ...actedOn(referral, actor), reason: command.data.reason, declinedAt: now },
  };
}

function completeHandoff(command: CompleteHandoff, state: ReferralState): HandoffCompleted {
  const referral = existingReferral(command.data.referralId, state);
  const { actor, now } = command.metadata;
  // Before acceptance, the only agency that could accept (and so complete) is the receiver.
  const acceptor =
    'acceptedByAgencyId' in referral && referral.acceptedByAgencyId !== undefined
      ? referral.acceptedByAgencyId
      : referral.toAgencyId;
  if (actor.agencyId !== acceptor) {
    throw forbidden(
      'REFERRAL.NOT_ACCEPTED_BY_YOU',
      'Only the agency that accepted this referral can record that the person has reached it.',
    );
  }
  requireCaseworker(actor);
  if (!mayFollow(referral, 'HandoffCompleted')) {
    throw conflict(
      'REFERRAL.WRONG_STATE',
      `The handoff can be completed only after the referral has been accepted; this referral is ${describe(referral)}.`,
    );
  }
  return {
    type: 'HandoffCompleted',
    schemaVersion: 1,
    data: { ...actedOn(referral, actor), completedAt: now },
  };
}

function withdrawReferral(command: WithdrawReferral, state: ReferralState): ReferralWithdrawn {
  const referral = existingReferral(command.data.referralId, state);
  const { actor, now } = command.metadata;
  if (actor.agencyId !== referral.fromAgencyId) {
    throw forbidden('REFERRAL.NOT_YOUR_REFERRAL', 'Only the agency that made this referral can withdraw it.');
  }
  requireCaseworker(actor);
  requireTransition(referral, 'ReferralWithdrawn', 'withdrawn');
  requireReason(
    WITHDRAW_REASONS,
    command.data.reason,
    'Please give the reason for withdrawing this referral.',
  );
  return {
    type: 'ReferralWithdrawn',
    schemaVersion: 1,
    data: { ...actedOn(referral, actor), reason: command.data.reason, withdrawnAt: now },
  };
}

function escalateReferral(command: EscalateReferral, state: ReferralState): ReferralEscalated {
  const referral = existingReferral(command.data.referralId, state);
  const { actor, now } = command.metadata;
  if (actor.agencyKind !== 'national-coordinator' || !actor.roles.includes('coordinator')) {
    throw forbidden(
      'REFERRAL.COORDINATOR_ONLY',
      'Only a coordinator of the national coordinator can escalate a referral.',
    );
  }
  // The table lets an escalation follow any status (it changes none, and evolve must accept one
  // recorded before a later answer); deciding one is narrower: only an unanswered referral is escalated.
  requireTransition(referral, 'ReferralEscalated', 'escalated');
  if (!isAwaitingAnswer(referral)) {
    throw wrongState(referral, 'escalated');
  }
  if (referral.escalated) {
    throw conflict('REFERRAL.ALREADY_ESCALATED', 'This referral has already been escalated.');
  }
  const overdueMs = Date.parse(now) - Date.parse(referral.respondBy);
  if (!(overdueMs > 0)) {
    throw ruleBroken(
      'REFERRAL.NOT_OVERDUE',
      'This referral can be escalated only after its respond-by time has passed without an answer.',
    );
  }
  return {
    type: 'ReferralEscalated',
    schemaVersion: 1,
    data: {
      ...actedOn(referral, actor),
      escalatedAt: now,
      overdueSeconds: Math.floor(overdueMs / 1000),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// checks shared by the commands
// ---------------------------------------------------------------------------------------------

/**
 * The one answer for a referral that does not exist and for a referral the acting agency has no
 * part in: the same code, words and field, so that no agency can tell the two apart.
 */
export function referralNotFound(): DomainError {
  return notFound('REFERRAL.NOT_FOUND', 'No referral with this id is known to your agency.', 'referralId');
}

function existingReferral(referralId: string, state: ReferralState): ExistingReferral {
  if (state.status === 'none') {
    throw referralNotFound();
  }
  if (referralId !== state.referralId) {
    throw ruleBroken(
      'REFERRAL.MISMATCH',
      'The referral id in the request does not match the referral being changed.',
      'referralId',
    );
  }
  return state;
}

/**
 * The referral an answer (acknowledge, accept, decline) is for, with who answers and when: only a
 * caseworker of the receiving agency answers a referral.
 */
function receiverAnswering(
  command: AcknowledgeReferral | AcceptReferral | DeclineReferral,
  state: ReferralState,
): { referral: ExistingReferral; actor: Actor; now: string } {
  const referral = existingReferral(command.data.referralId, state);
  const { actor, now } = command.metadata;
  requireReceiver(actor, referral);
  requireCaseworker(actor);
  return { referral, actor, now };
}

/** What every event on a made referral starts with: the referral, its case, and the acting agency. */
function actedOn(referral: ExistingReferral, actor: Actor) {
  return { referralId: referral.referralId, caseId: referral.caseId, byAgencyId: actor.agencyId };
}

function requireCaseworker(actor: Actor): void {
  if (!actor.roles.includes('caseworker')) {
    throw forbidden('REFERRAL.CASEWORKER_ONLY', 'Only a caseworker can do this for a referral.');
  }
}

function requireReceiver(actor: Actor, referral: ExistingReferral): void {
  if (actor.agencyId !== referral.toAgencyId) {
    throw forbidden(
      'REFERRAL.NOT_ADDRESSED_TO_YOU',
      'This referral is addressed to another agency; only the receiving agency can answer it.',
    );
  }
}

/**
 * The lifecycle table (transitions.ts) must allow the event this command records after the
 * referral's status; otherwise the referral is in the wrong state for it.
 */
function requireTransition(referral: ExistingReferral, type: ReferralEvent['type'], wanted: string): void {
  if (!mayFollow(referral, type)) throw wrongState(referral, wanted);
}

/**
 * Accepting and declining are answers, and an answer comes after the acknowledgement: a referral
 * still waiting for it gets that said, rather than the general wrong-state refusal.
 */
function requireAcknowledgedForAnswer(
  referral: ExistingReferral,
  type: 'ReferralAccepted' | 'ReferralDeclined',
  outcome: 'accepted' | 'declined',
): void {
  if (!mayFollow(referral, type) && mayFollow(referral, 'ReferralAcknowledged')) {
    throw conflict(
      'REFERRAL.NOT_ACKNOWLEDGED',
      `Please acknowledge the referral before it can be ${outcome}.`,
    );
  }
  requireTransition(referral, type, outcome);
}

function wrongState(referral: ExistingReferral, wanted: string): DomainError {
  return conflict(
    'REFERRAL.WRONG_STATE',
    `This referral is ${describe(referral)}, so it can no longer be ${wanted}.`,
  );
}

function describe(referral: ExistingReferral): string {
  switch (referral.status) {
    case 'made':
      return 'waiting to be acknowledged';
    case 'acknowledged':
      return 'acknowledged and waiting for an answer';
    case 'accepted':
      return 'accepted';
    case 'declined':
      return 'declined';
    case 'completed':
      return 'completed: the person has reached the receiving agency';
    case 'withdrawn':
      return 'withdrawn';
  }
}

function requireText(value: unknown, field: string, what: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw ruleBroken('REFERRAL.INVALID_VALUE', `Please give ${what}.`, field);
  }
}

function requireOneOf(allowed: readonly string[], value: unknown, field: string, what: string): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw ruleBroken('REFERRAL.INVALID_VALUE', `Please choose ${what} from the list.`, field);
  }
}

/** A plain boolean, not a type guard: narrowing a typed list to `any[]` would lose its element type. */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function requireListOf(allowed: readonly string[], value: unknown, field: string, what: string): void {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && allowed.includes(v))) {
    throw ruleBroken('REFERRAL.INVALID_VALUE', `Please choose ${what} from the list.`, field);
  }
}

function requireReason(allowed: readonly string[], value: unknown, message: string): void {
  if (value === undefined || value === null || value === '') {
    throw ruleBroken('REFERRAL.REASON_REQUIRED', message, 'reason');
  }
  requireOneOf(allowed, value, 'reason', 'a reason');
}

// ---------------------------------------------------------------------------------------------
// evolve
// ---------------------------------------------------------------------------------------------

/** Applies a recorded event; an event that does not fit the state (never produced by decide) is ignored. */
export function evolve(state: ReferralState, event: ReferralEvent): ReferralState {
  // Which events may follow which status is the lifecycle table's (transitions.ts): `mayFollow`.
  switch (event.type) {
    case 'ReferralMade':
      if (!mayFollow(state, event.type)) return state;
      return { status: 'made', ...event.data, escalated: false };
    case 'ReferralAcknowledged':
      if (!mayFollow(state, event.type)) return state;
      return { ...state, status: 'acknowledged', acknowledgedAt: event.data.acknowledgedAt };
    case 'ReferralAccepted':
      if (!mayFollow(state, event.type)) return state;
      return {
        ...state,
        status: 'accepted',
        acceptedAt: event.data.acceptedAt,
        acceptedByAgencyId: event.data.byAgencyId,
      };
    case 'ReferralDeclined':
      if (!mayFollow(state, event.type)) return state;
      return {
        ...state,
        status: 'declined',
        declinedAt: event.data.declinedAt,
        declineReason: event.data.reason,
      };
    case 'HandoffCompleted':
      if (!mayFollow(state, event.type)) return state;
      return { ...state, status: 'completed', completedAt: event.data.completedAt };
    case 'ReferralWithdrawn':
      if (!mayFollow(state, event.type)) return state;
      return {
        ...state,
        status: 'withdrawn',
        withdrawnAt: event.data.withdrawnAt,
        withdrawReason: event.data.reason,
      };
    case 'ReferralEscalated':
      if (!mayFollow(state, event.type)) return state;
      return { ...state, escalated: true, escalatedAt: event.data.escalatedAt };
    default: {
      const _unknownEvent: never = event;
      return state;
    }
  }
}

export const referralDecider: Decider<ReferralCommand, ReferralEvent, ReferralState> = {
  decide,
  evolve,
  initialState: initialReferralState,
};
