import {
  conflict,
  EXPLOITATION_FORMS,
  forbidden,
  invalid,
  isAbroad,
  isInstant,
  isRegionCode,
  isSealedIdentity,
  caseNotFound,
  ruleBroken,
  type AgencyKind,
  type CommandMetadata,
  type Decider,
  type ExploitationForm,
} from '@nrm/shared-kernel';
import {
  DESIGNATION_REASONS,
  GROUNDS_OUTCOMES,
  INDICATORS_OUTCOMES,
  RECONSIDERATION_REASONS,
  type AssessIndicators,
  type DecideConclusiveGrounds,
  type DecideReasonableGrounds,
  type DesignateCompetentAuthority,
  type GroundsOutcome,
  type IdentificationCommand,
  type ReconsiderIdentification,
  type ReportPotentialVictim,
} from './commands';
import type {
  CompetentAuthorityDesignated,
  ConclusiveGroundsDecided,
  IdentificationEvent,
  IdentificationReconsidered,
  IndicatorsAssessed,
  PotentialVictimReported,
  ReasonableGroundsDecided,
} from './events';
import type { IdentificationState, ReportedCase } from './state';
import { INDICATOR_LIST_VERSION, isIndicatorCode } from './indicator-codes';

/** Which agency kinds may decide grounds; set per country. */
export interface IdentificationPolicy {
  readonly competentKinds: readonly AgencyKind[];
}

export const DEFAULT_IDENTIFICATION_POLICY: IdentificationPolicy = Object.freeze({
  competentKinds: Object.freeze(['law-enforcement', 'asylum-authority', 'national-coordinator'] as const),
});

export type IdentificationDecider = Decider<IdentificationCommand, IdentificationEvent, IdentificationState>;

export const MAX_INDICATORS = 50;

/**
 * Indicator values are codes, not prose (regions are the shared kernel's `isRegionCode`): a strict shape keeps free text
 * (and with it personal data) out of events that can never be changed. A code-shaped value must
 * also be on the closed list (`indicator-codes.ts`): a name spelled as a code is not one.
 */
const CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export const initialIdentificationState = (): IdentificationState => ({ status: 'none' });

export function identificationDecider(
  policy: IdentificationPolicy = DEFAULT_IDENTIFICATION_POLICY,
): IdentificationDecider {
  // Copied so that a caller mutating its policy later cannot change past behaviour of this decider.
  const competentKinds: ReadonlySet<AgencyKind> = new Set(policy.competentKinds);

  const requireCompetence = (metadata: CommandMetadata): void => {
    const { agencyKind, roles } = metadata.actor;
    if (!competentKinds.has(agencyKind) || !roles.includes('decision-maker')) {
      throw forbidden(
        'IDENTIFICATION.NOT_COMPETENT',
        'Only a decision-maker of an authority competent for identification can take or revisit this decision.',
      );
    }
  };

  const decide = (
    command: IdentificationCommand,
    state: IdentificationState,
  ): readonly IdentificationEvent[] => {
    requireValidTime(command.metadata.now);
    switch (command.type) {
      case 'ReportPotentialVictim':
        return [reportPotentialVictim(command, state)];
      case 'AssessIndicators':
        return [assessIndicators(command, state)];
      case 'DecideReasonableGrounds':
        requireCompetence(command.metadata);
        return [decideReasonableGrounds(command, state)];
      case 'DecideConclusiveGrounds':
        requireCompetence(command.metadata);
        return [decideConclusiveGrounds(command, state)];
      case 'ReconsiderIdentification':
        requireCompetence(command.metadata);
        return [reconsiderIdentification(command, state)];
      case 'DesignateCompetentAuthority':
        return designateCompetentAuthority(command, state, competentKinds);
      default: {
        const unknownCommand: never = command;
        throw ruleBroken(
          'IDENTIFICATION.UNKNOWN_COMMAND',
          `This request is not part of identification: ${(unknownCommand as { type: string }).type}.`,
        );
      }
    }
  };

  return { decide, evolve: evolveIdentification, initialState: initialIdentificationState };
}

// ---- commands -------------------------------------------------------------------------------------------

function reportPotentialVictim(
  command: ReportPotentialVictim,
  state: IdentificationState,
): PotentialVictimReported {
  const { data, metadata } = command;
  const { actor } = metadata;
  if (!actor.roles.includes('caseworker')) {
    throw forbidden('IDENTIFICATION.ROLE_REQUIRED', 'Only a caseworker can report a potential victim.');
  }
  // The oversight body checks the mechanism; it does not take part in casework.
  if (actor.agencyKind === 'oversight-body') {
    throw forbidden(
      'IDENTIFICATION.AGENCY_MAY_NOT_REPORT',
      'The oversight body cannot report a potential victim.',
    );
  }
  if (state.status !== 'none') {
    requireSameCase(state, data.caseId);
    throw conflict('IDENTIFICATION.ALREADY_REPORTED', 'This case has already been reported.');
  }
  if (!isNonEmptyString(data.caseId)) {
    throw ruleBroken('IDENTIFICATION.CASE_ID_REQUIRED', 'A case reference is needed.', 'caseId');
  }
  if (!isNonEmptyString(data.subjectId)) {
    throw ruleBroken('IDENTIFICATION.SUBJECT_ID_REQUIRED', 'A subject reference is needed.', 'subjectId');
  }
  if (data.indicators.length === 0) {
    throw ruleBroken(
      'IDENTIFICATION.INDICATORS_REQUIRED',
      'Record at least one indicator that was observed.',
      'indicators',
    );
  }
  requireIndicatorCodes(data.indicators, 'indicators');
  requireExploitationForms(data.exploitationForms);
  if (typeof data.minor !== 'boolean') {
    throw ruleBroken('IDENTIFICATION.MINOR_FLAG_REQUIRED', 'State whether the person is a child.', 'minor');
  }
  if (!isRegionCode(data.region)) {
    throw ruleBroken(
      'IDENTIFICATION.INVALID_REGION',
      'Give the region as a region code from the list, not as an address or place description.',
      'region',
    );
  }
  if (
    data.identity !== undefined &&
    !(isSealedIdentity(data.identity) && data.identity.keyId === data.subjectId)
  ) {
    throw ruleBroken(
      'IDENTIFICATION.IDENTITY_NOT_SEALED',
      "Identity data is recorded only sealed under the subject's own key.",
      'identity',
    );
  }
  return {
    type: 'PotentialVictimReported',
    schemaVersion: 1,
    data: {
      caseId: data.caseId,
      subjectId: data.subjectId,
      reportedByAgencyId: actor.agencyId,
      reportedByAgencyKind: actor.agencyKind,
      indicators: distinct(data.indicators),
      exploitationForms: distinct(data.exploitationForms),
      minor: data.minor,
      region: data.region,
      reportedAt: metadata.now,
      ...(data.identity !== undefined ? { identity: data.identity } : {}),
    },
  };
}

function assessIndicators(command: AssessIndicators, state: IdentificationState): IndicatorsAssessed {
  const { data, metadata } = command;
  const { roles } = metadata.actor;
  if (!roles.includes('caseworker') && !roles.includes('decision-maker')) {
    throw forbidden(
      'IDENTIFICATION.ROLE_REQUIRED',
      'Only a caseworker or a decision-maker can assess indicators.',
    );
  }
  const reported = requireReportedCase(state, data.caseId);
  if (reported.status !== 'reported' && reported.status !== 'indicators-assessed') {
    throw conflict(
      'IDENTIFICATION.GROUNDS_ALREADY_DECIDED',
      'Indicators can no longer be assessed: a grounds decision has been taken on this case.',
    );
  }
  if (!INDICATORS_OUTCOMES.includes(data.outcome)) {
    throw ruleBroken(
      'IDENTIFICATION.INVALID_OUTCOME',
      'Choose whether indicators are present or insufficient.',
      'outcome',
    );
  }
  if (data.outcome === 'indicators-present' && data.indicatorsConfirmed.length === 0) {
    throw ruleBroken(
      'IDENTIFICATION.INDICATORS_REQUIRED',
      'Record which indicators were confirmed when indicators are present.',
      'indicatorsConfirmed',
    );
  }
  requireIndicatorCodes(data.indicatorsConfirmed, 'indicatorsConfirmed');
  requireExploitationForms(data.exploitationForms);
  return {
    type: 'IndicatorsAssessed',
    schemaVersion: 1,
    data: {
      caseId: reported.caseId,
      outcome: data.outcome,
      indicatorsConfirmed: distinct(data.indicatorsConfirmed),
      exploitationForms: distinct(data.exploitationForms),
      assessedByAgencyId: metadata.actor.agencyId,
      assessedAt: metadata.now,
    },
  };
}

function decideReasonableGrounds(
  command: DecideReasonableGrounds,
  state: IdentificationState,
): ReasonableGroundsDecided {
  const { data, metadata } = command;
  const reported = requireReportedCase(state, data.caseId);
  if (reported.status === 'reported') {
    throw conflict(
      'IDENTIFICATION.INDICATORS_NOT_ASSESSED',
      'The indicators must be assessed before reasonable grounds can be decided.',
    );
  }
  if (reported.status !== 'indicators-assessed') {
    throw conflict(
      'IDENTIFICATION.REASONABLE_GROUNDS_ALREADY_DECIDED',
      'Reasonable grounds have already been decided for this case. A negative decision can be reconsidered.',
    );
  }
  requireGroundsOutcome(data.outcome);
  return {
    type: 'ReasonableGroundsDecided',
    schemaVersion: 1,
    data: {
      caseId: reported.caseId,
      outcome: data.outcome,
      decidedByAgencyId: metadata.actor.agencyId,
      decidedAt: metadata.now,
      reflectionPeriodEntitled: data.outcome === 'positive',
    },
  };
}

function decideConclusiveGrounds(
  command: DecideConclusiveGrounds,
  state: IdentificationState,
): ConclusiveGroundsDecided {
  const { data, metadata } = command;
  const reported = requireReportedCase(state, data.caseId);
  switch (reported.status) {
    case 'reported':
    case 'indicators-assessed':
      throw conflict(
        'IDENTIFICATION.REASONABLE_GROUNDS_NOT_DECIDED',
        'Conclusive grounds can only be decided after a positive reasonable-grounds decision.',
      );
    case 'reasonable-grounds-negative':
      throw conflict(
        'IDENTIFICATION.REASONABLE_GROUNDS_NEGATIVE',
        'Reasonable grounds were decided negative, so conclusive grounds cannot be decided. The decision can be reconsidered.',
      );
    case 'conclusive-grounds-positive':
    case 'conclusive-grounds-negative':
      throw conflict(
        'IDENTIFICATION.CONCLUSIVE_GROUNDS_ALREADY_DECIDED',
        'Conclusive grounds have already been decided for this case.',
      );
    case 'reasonable-grounds-positive':
      break;
  }
  requireGroundsOutcome(data.outcome);
  return {
    type: 'ConclusiveGroundsDecided',
    schemaVersion: 1,
    data: {
      caseId: reported.caseId,
      outcome: data.outcome,
      decidedByAgencyId: metadata.actor.agencyId,
      decidedAt: metadata.now,
    },
  };
}

function reconsiderIdentification(
  command: ReconsiderIdentification,
  state: IdentificationState,
): IdentificationReconsidered {
  const { data, metadata } = command;
  const reported = requireReportedCase(state, data.caseId);
  if (
    reported.status !== 'reasonable-grounds-negative' &&
    reported.status !== 'conclusive-grounds-negative'
  ) {
    throw conflict(
      'IDENTIFICATION.NO_NEGATIVE_DECISION',
      'Only a negative reasonable-grounds or conclusive-grounds decision can be reconsidered.',
    );
  }
  if (!RECONSIDERATION_REASONS.includes(data.reason)) {
    throw ruleBroken(
      'IDENTIFICATION.INVALID_REASON',
      'Choose why the decision is reconsidered: new evidence, a procedural error or an appeal.',
      'reason',
    );
  }
  return {
    type: 'IdentificationReconsidered',
    schemaVersion: 1,
    data: {
      caseId: reported.caseId,
      reason: data.reason,
      previousStatus: reported.status,
      reconsideredByAgencyId: metadata.actor.agencyId,
      reconsideredAt: metadata.now,
    },
  };
}

/**
 * The national coordinator's coordinator designates a competent authority of the ledger's own
 * country, registered and not switched off, for a case. Designating an authority already designated
 * records nothing (a retry or a second click is harmless). The coordinator cannot designate itself:
 * no agency makes itself seized, and with it party, by its own record.
 */
function designateCompetentAuthority(
  command: DesignateCompetentAuthority,
  state: IdentificationState,
  competentKinds: ReadonlySet<AgencyKind>,
): CompetentAuthorityDesignated[] {
  const { data, metadata } = command;
  const { actor } = metadata;
  if (actor.agencyKind !== 'national-coordinator' || !actor.roles.includes('coordinator')) {
    throw forbidden(
      'IDENTIFICATION.COORDINATOR_ONLY',
      'Only a coordinator of the national coordinator can designate a competent authority.',
    );
  }
  const reported = requireReportedCase(state, data.caseId);
  const authority = data.authority;
  if (!isNonEmptyString(data.authorityId) || authority === undefined) {
    throw ruleBroken('AGENCY.UNKNOWN', 'No agency is registered with this id.', 'authorityId');
  }
  if (isAbroad(authority.kind) || authority.country !== data.ownCountry) {
    throw ruleBroken(
      'IDENTIFICATION.AUTHORITY_FOREIGN',
      'Only an authority of this country can be designated; a contact point abroad is reached by a transnational referral.',
      'authorityId',
    );
  }
  if (!competentKinds.has(authority.kind)) {
    throw ruleBroken(
      'IDENTIFICATION.AUTHORITY_NOT_COMPETENT',
      'This agency is not of a kind competent to decide on identification.',
      'authorityId',
    );
  }
  if (authority.disabled) {
    throw ruleBroken(
      'IDENTIFICATION.AUTHORITY_DISABLED',
      'This agency is switched off in the registry and cannot be designated.',
      'authorityId',
    );
  }
  if (data.authorityId === actor.agencyId) {
    throw ruleBroken(
      'IDENTIFICATION.SELF_DESIGNATION',
      'The national coordinator cannot designate itself; designate another competent authority.',
      'authorityId',
    );
  }
  if (data.reason !== undefined && !DESIGNATION_REASONS.includes(data.reason)) {
    throw ruleBroken('IDENTIFICATION.INVALID_REASON', 'Choose a designation reason from the list.', 'reason');
  }
  if (reported.designatedAuthorityIds?.includes(data.authorityId)) return [];
  return [
    {
      type: 'CompetentAuthorityDesignated',
      schemaVersion: 1,
      data: {
        caseId: reported.caseId,
        authorityId: data.authorityId,
        authorityKind: authority.kind,
        ...(data.reason !== undefined ? { reason: data.reason } : {}),
        designatedByAgencyId: actor.agencyId,
        designatedByPrincipalId: actor.principalId,
        designatedAt: metadata.now,
      },
    },
  ];
}

// ---- evolve ---------------------------------------------------------------------------------------------

/**
 * Applies one recorded event. An event that does not fit the current status cannot come from
 * `decide`; it is ignored rather than allowed to rewrite the case's facts (the minor flag above all).
 */
export function evolveIdentification(
  state: IdentificationState,
  event: IdentificationEvent,
): IdentificationState {
  switch (event.type) {
    case 'PotentialVictimReported': {
      if (state.status !== 'none') return state;
      const { data } = event;
      return {
        status: 'reported',
        caseId: data.caseId,
        subjectId: data.subjectId,
        minor: data.minor,
        reportedByAgencyId: data.reportedByAgencyId,
        reportedByAgencyKind: data.reportedByAgencyKind,
        region: data.region,
        exploitationForms: data.exploitationForms,
        reportedAt: data.reportedAt,
      };
    }
    case 'IndicatorsAssessed': {
      if (state.status !== 'reported' && state.status !== 'indicators-assessed') return state;
      return {
        ...caseFacts(state),
        status: 'indicators-assessed',
        exploitationForms: event.data.exploitationForms,
        indicatorsOutcome: event.data.outcome,
        indicatorsAssessedAt: event.data.assessedAt,
      };
    }
    case 'ReasonableGroundsDecided': {
      if (state.status !== 'indicators-assessed') return state;
      return {
        ...state,
        status:
          event.data.outcome === 'positive' ? 'reasonable-grounds-positive' : 'reasonable-grounds-negative',
        reasonableGroundsDecidedAt: event.data.decidedAt,
      };
    }
    case 'ConclusiveGroundsDecided': {
      if (state.status !== 'reasonable-grounds-positive') return state;
      return {
        ...state,
        status:
          event.data.outcome === 'positive' ? 'conclusive-grounds-positive' : 'conclusive-grounds-negative',
        conclusiveGroundsDecidedAt: event.data.decidedAt,
      };
    }
    case 'IdentificationReconsidered': {
      if (state.status !== 'reasonable-grounds-negative' && state.status !== 'conclusive-grounds-negative') {
        return state;
      }
      // The reconsidered decisions no longer stand; a new reasonable-grounds decision is due.
      return {
        ...caseFacts(state),
        status: 'indicators-assessed',
        indicatorsOutcome: state.indicatorsOutcome,
        indicatorsAssessedAt: state.indicatorsAssessedAt,
        reconsideredAt: event.data.reconsideredAt,
      };
    }
    case 'CompetentAuthorityDesignated': {
      if (state.status === 'none') return state;
      const designated = state.designatedAuthorityIds ?? [];
      if (designated.includes(event.data.authorityId)) return state;
      return { ...state, designatedAuthorityIds: [...designated, event.data.authorityId] };
    }
    default: {
      const _unknown: never = event;
      return state;
    }
  }
}

// ---- shared rules ---------------------------------------------------------------------------------------

function requireValidTime(now: string): void {
  if (!isInstant(now)) {
    throw ruleBroken(
      'IDENTIFICATION.INVALID_TIME',
      'The time of this request could not be read; please try again.',
    );
  }
}

function requireReportedCase(state: IdentificationState, caseId: string): ReportedCase {
  if (state.status === 'none') {
    throw caseNotFound();
  }
  requireSameCase(state, caseId);
  return state;
}

function requireSameCase(state: ReportedCase, caseId: string): void {
  if (caseId !== state.caseId) {
    throw ruleBroken('IDENTIFICATION.CASE_MISMATCH', 'The request refers to a different case.', 'caseId');
  }
}

function requireIndicatorCodes(codes: readonly string[], field: 'indicators' | 'indicatorsConfirmed'): void {
  if (codes.length > MAX_INDICATORS) {
    throw ruleBroken(
      'IDENTIFICATION.TOO_MANY_INDICATORS',
      `Record at most ${MAX_INDICATORS} indicators.`,
      field,
    );
  }
  if (!codes.every((code) => typeof code === 'string' && CODE.test(code))) {
    throw ruleBroken(
      'IDENTIFICATION.INVALID_INDICATOR',
      'Each indicator must be an indicator code from the list, not a description.',
      field,
    );
  }
  // New commands only: events recorded before the list (with a code it lacks) still fold.
  const unknown = codes.findIndex((code) => !isIndicatorCode(code));
  if (unknown >= 0) {
    throw invalid(
      'IDENTIFICATION.UNKNOWN_INDICATOR',
      `${field}[${unknown}] must be a code from the list of indicators (version ${INDICATOR_LIST_VERSION}; the OpenAPI document lists them), not a name or a description.`,
      `${field}[${unknown}]`,
    );
  }
}

function requireExploitationForms(forms: readonly ExploitationForm[]): void {
  if (!forms.every((form) => EXPLOITATION_FORMS.includes(form))) {
    throw ruleBroken(
      'IDENTIFICATION.UNKNOWN_EXPLOITATION_FORM',
      'Each form of exploitation must be one from the list.',
      'exploitationForms',
    );
  }
}

function requireGroundsOutcome(outcome: GroundsOutcome): void {
  if (!GROUNDS_OUTCOMES.includes(outcome)) {
    throw ruleBroken(
      'IDENTIFICATION.INVALID_OUTCOME',
      'Choose a positive or a negative decision.',
      'outcome',
    );
  }
}

const isNonEmptyString = (value: unknown): value is string =>
  typeof value === 'string' && value.trim() !== '';

/** Repeats add nothing and would count twice in statistics. */
const distinct = <T>(values: readonly T[]): T[] => [...new Set(values)];

function caseFacts(state: ReportedCase) {
  return {
    caseId: state.caseId,
    subjectId: state.subjectId,
    minor: state.minor,
    reportedByAgencyId: state.reportedByAgencyId,
    reportedByAgencyKind: state.reportedByAgencyKind,
    region: state.region,
    exploitationForms: state.exploitationForms,
    reportedAt: state.reportedAt,
    ...(state.reconsideredAt !== undefined ? { reconsideredAt: state.reconsideredAt } : {}),
    ...(state.designatedAuthorityIds !== undefined
      ? { designatedAuthorityIds: state.designatedAuthorityIds }
      : {}),
  };
}
