import type { DataCategory } from '@nrm/shared-kernel';
import {
  CASE_REPORTED_V1,
  CONSENT_WITHDRAWN_V1,
  COORDINATOR_HANDOFF_V1,
  IDENTIFICATION_UPDATED_V1,
  REFERRAL_RECEIVED_V1,
  REFERRAL_STATUS_CHANGED_V1,
  SUPPORT_UPDATED_V1,
  type AgencyContractName,
  type AgencyContractPayloads,
  type AgencyIntegrationEvent,
  type ContractDefinition,
  type CoordinatorIntegrationEvent,
  type IdentificationUpdatedV1,
  type ReferralStatusChangedV1,
  type SupportUpdatedV1,
} from './contracts';
import { REFERRAL_TRANSITIONS } from '@nrm/referral';
import { redact } from './fields';
import type { SourceEvent } from './source-events';

/** Who a message is cut for: an agency, and the data categories it is entitled to at the moment of the event. */
export interface Audience {
  readonly agencyId: string;
  readonly entitled: ReadonlySet<DataCategory>;
}

export type ReferralStatus = 'made' | 'acknowledged' | 'accepted' | 'declined' | 'completed' | 'withdrawn';

/** A referral as known after its events so far: what later events, which name only its id, are mapped with. */
export interface ReferralFacts {
  readonly referralId: string;
  readonly caseId: string;
  readonly fromAgencyId: string;
  readonly fromAgencyKind: string;
  readonly toAgencyId: string;
  readonly toAgencyKind: string;
  readonly transnational: boolean;
  readonly purpose: string;
  readonly urgency: string;
  readonly respondBy: string;
  readonly madeAt: string;
  readonly status: ReferralStatus;
  readonly escalated: boolean;
  /** When it was accepted, if it was: what tells a withdrawal after acceptance from one before (`receiverStanding`). */
  readonly acceptedAt?: string;
}

/** What the mappers need beyond the event: the referrals made before it. */
export interface MappingContext {
  referral(referralId: string): ReferralFacts | undefined;
}

/**
 * - `mapped`: the message to send;
 * - `withheld`: the event has a contract but nothing in it the audience may receive: nothing is sent
 *   (not even the contract's name, which would tell what happened);
 * - `unmappable`: the event cannot be put in its contract; the relay parks it (never drops it);
 * - `not-published`: the event has no contract by design (a consent grant, a refusal, a lawful basis).
 */
export type Mapping<Message> =
  | { readonly kind: 'mapped'; readonly message: Message }
  | { readonly kind: 'withheld' }
  | { readonly kind: 'unmappable'; readonly reason: string }
  | { readonly kind: 'not-published' };

type ReferralLaterEvent = Exclude<
  Extract<SourceEvent, { data: { referralId: string } }>,
  { type: 'ReferralMade' }
>;

/**
 * The referral after one of its events: made, then moved on. Undefined for a later event of a
 * referral whose ReferralMade was not seen, or that belongs to another case.
 */
export function nextReferralFacts(
  previous: ReferralFacts | undefined,
  event: Extract<SourceEvent, { data: { referralId: string } }>,
): ReferralFacts | undefined {
  if (event.type === 'ReferralMade') {
    const d = event.data;
    return {
      referralId: d.referralId,
      caseId: d.caseId,
      fromAgencyId: d.fromAgencyId,
      fromAgencyKind: d.fromAgencyKind,
      toAgencyId: d.toAgencyId,
      toAgencyKind: d.toAgencyKind,
      transnational: d.transnational,
      purpose: d.purpose,
      urgency: d.urgency,
      respondBy: d.respondBy,
      madeAt: d.madeAt,
      status: 'made',
      escalated: false,
    };
  }
  if (!previous || previous.caseId !== event.data.caseId) return undefined;
  const change = laterChange(event);
  return {
    ...previous,
    status: change.status ?? previous.status,
    escalated: previous.escalated || event.type === 'ReferralEscalated',
    ...(event.type === 'ReferralAccepted' ? { acceptedAt: event.data.acceptedAt } : {}),
  };
}

interface LaterChange {
  readonly change: string;
  /** Undefined for an escalation, which leaves the status as it was. */
  readonly status: ReferralStatus | undefined;
  readonly at: string;
  readonly reason?: string;
  readonly overdueSeconds?: number;
}

/** The status a later event leads to, from the referral lifecycle table (undefined: it stays). */
const statusOf = (event: ReferralLaterEvent): ReferralStatus | undefined =>
  REFERRAL_TRANSITIONS[event.type].to;

function laterChange(event: ReferralLaterEvent): LaterChange {
  switch (event.type) {
    case 'ReferralAcknowledged':
      return { change: 'acknowledged', status: statusOf(event), at: event.data.acknowledgedAt };
    case 'ReferralAccepted':
      return { change: 'accepted', status: statusOf(event), at: event.data.acceptedAt };
    case 'ReferralDeclined':
      return {
        change: 'declined',
        status: statusOf(event),
        at: event.data.declinedAt,
        reason: event.data.reason,
      };
    case 'HandoffCompleted':
      return { change: 'completed', status: statusOf(event), at: event.data.completedAt };
    case 'ReferralWithdrawn':
      return {
        change: 'withdrawn',
        status: statusOf(event),
        at: event.data.withdrawnAt,
        reason: event.data.reason,
      };
    case 'ReferralEscalated':
      return {
        change: 'escalated',
        status: statusOf(event),
        at: event.data.escalatedAt,
        overdueSeconds: event.data.overdueSeconds,
      };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function message<Name extends AgencyContractName>(
  contract: ContractDefinition<Name, AgencyContractPayloads[Name]>,
  eventId: string,
  caseId: string,
  full: AgencyContractPayloads[Name],
  audience: Audience,
): Mapping<AgencyIntegrationEvent> {
  const cut = redact(full, contract.fields, audience.entitled);
  // Only non-personal fields left (or none): a message about the case would still tell that something happened.
  if (!cut.carriesCaseData && contract.name !== CONSENT_WITHDRAWN_V1.name) return { kind: 'withheld' };
  const built = {
    contract: contract.name,
    schemaVersion: contract.schemaVersion,
    eventId,
    caseId,
    categories: cut.categories,
    payload: cut.payload,
  };
  return { kind: 'mapped', message: built as AgencyIntegrationEvent };
}

/**
 * The message one agency receives for one event of a case it is party to, cut to what it is
 * entitled to at the moment of the event. Which agencies are addressed is the relay's decision;
 * this decides which contract and which fields.
 */
export function toAgencyEvent(
  eventId: string,
  event: SourceEvent,
  audience: Audience,
  context: MappingContext,
): Mapping<AgencyIntegrationEvent> {
  const caseId = event.data.caseId;
  switch (event.type) {
    case 'PotentialVictimReported': {
      const d = event.data;
      return message(
        CASE_REPORTED_V1,
        eventId,
        caseId,
        {
          subjectId: d.subjectId,
          reportedByAgencyId: d.reportedByAgencyId,
          reportedByAgencyKind: d.reportedByAgencyKind,
          reportedAt: d.reportedAt,
          region: d.region,
          minor: d.minor,
          indicators: d.indicators,
          exploitationForms: d.exploitationForms,
        },
        audience,
      );
    }
    case 'IndicatorsAssessed':
    case 'ReasonableGroundsDecided':
    case 'ConclusiveGroundsDecided':
    case 'IdentificationReconsidered':
      return message(IDENTIFICATION_UPDATED_V1, eventId, caseId, identificationUpdate(event), audience);
    case 'ReferralMade': {
      const d = event.data;
      if (audience.agencyId === d.toAgencyId) {
        return message(
          REFERRAL_RECEIVED_V1,
          eventId,
          caseId,
          {
            referralId: d.referralId,
            fromAgencyId: d.fromAgencyId,
            fromAgencyKind: d.fromAgencyKind,
            transnational: d.transnational,
            purpose: d.purpose,
            urgency: d.urgency,
            respondBy: d.respondBy,
            madeAt: d.madeAt,
            sharedCategories: d.sharedCategories,
            servicesRequested: d.servicesRequested,
          },
          audience,
        );
      }
      const made: ReferralStatusChangedV1 = {
        referralId: d.referralId,
        fromAgencyId: d.fromAgencyId,
        toAgencyId: d.toAgencyId,
        change: 'made',
        status: 'made',
        escalated: false,
        byAgencyId: d.fromAgencyId,
        at: d.madeAt,
        purpose: d.purpose,
        urgency: d.urgency,
        respondBy: d.respondBy,
        servicesRequested: d.servicesRequested,
      };
      return message(REFERRAL_STATUS_CHANGED_V1, eventId, caseId, made, audience);
    }
    case 'ReferralAcknowledged':
    case 'ReferralAccepted':
    case 'ReferralDeclined':
    case 'HandoffCompleted':
    case 'ReferralWithdrawn':
    case 'ReferralEscalated': {
      const referral = context.referral(event.data.referralId);
      const after = nextReferralFacts(referral, event);
      if (!referral || !after) return unknownReferral(event.type);
      const step = laterChange(event);
      const changed: ReferralStatusChangedV1 = {
        referralId: referral.referralId,
        fromAgencyId: referral.fromAgencyId,
        toAgencyId: referral.toAgencyId,
        change: step.change,
        status: after.status,
        escalated: after.escalated,
        byAgencyId: event.data.byAgencyId,
        at: step.at,
        reason: step.reason,
        overdueSeconds: step.overdueSeconds,
      };
      return message(REFERRAL_STATUS_CHANGED_V1, eventId, caseId, changed, audience);
    }
    case 'ReflectionPeriodStarted':
    case 'ReflectionPeriodExtended':
    case 'ReflectionPeriodEnded':
    case 'SupportPlanAgreed':
    case 'SupportServiceProvided':
    case 'SupportCaseClosed':
      return message(SUPPORT_UPDATED_V1, eventId, caseId, supportUpdate(event), audience);
    case 'ConsentWithdrawn': {
      const d = event.data;
      return message(
        CONSENT_WITHDRAWN_V1,
        eventId,
        caseId,
        {
          consentId: d.consentId,
          whole: d.whole,
          categories: d.categories,
          purposes: d.purposes,
          withdrawnAt: d.withdrawnAt,
          stillEntitledCategories: [...audience.entitled],
        },
        audience,
      );
    }
    // Who is seized of a case is the coordinator's and the authority's business, not a contract's:
    // a designation makes the authority a party, and it hears of the case's next events.
    case 'CompetentAuthorityDesignated':
    case 'ConsentGranted':
    case 'ConsentRefused':
    case 'LawfulBasisRecorded':
      return { kind: 'not-published' };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function identificationUpdate(
  event: Extract<
    SourceEvent,
    {
      type:
        | 'IndicatorsAssessed'
        | 'ReasonableGroundsDecided'
        | 'ConclusiveGroundsDecided'
        | 'IdentificationReconsidered';
    }
  >,
): IdentificationUpdatedV1 {
  switch (event.type) {
    case 'IndicatorsAssessed':
      return {
        change: 'indicators-assessed',
        identificationStatus: 'indicators-assessed',
        byAgencyId: event.data.assessedByAgencyId,
        at: event.data.assessedAt,
        indicatorsOutcome: event.data.outcome,
        indicatorsConfirmed: event.data.indicatorsConfirmed,
        exploitationForms: event.data.exploitationForms,
      };
    case 'ReasonableGroundsDecided':
      return {
        change: 'reasonable-grounds-decided',
        identificationStatus: `reasonable-grounds-${event.data.outcome}`,
        groundsOutcome: event.data.outcome,
        reflectionPeriodEntitled: event.data.reflectionPeriodEntitled,
        byAgencyId: event.data.decidedByAgencyId,
        at: event.data.decidedAt,
      };
    case 'ConclusiveGroundsDecided':
      return {
        change: 'conclusive-grounds-decided',
        identificationStatus: `conclusive-grounds-${event.data.outcome}`,
        groundsOutcome: event.data.outcome,
        byAgencyId: event.data.decidedByAgencyId,
        at: event.data.decidedAt,
      };
    case 'IdentificationReconsidered':
      // A reconsidered negative decision takes the case back to assessed indicators, as the case view shows.
      return {
        change: 'identification-reconsidered',
        identificationStatus: 'indicators-assessed',
        reconsiderationReason: event.data.reason,
        previousStatus: event.data.previousStatus,
        byAgencyId: event.data.reconsideredByAgencyId,
        at: event.data.reconsideredAt,
      };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function supportUpdate(
  event: Extract<
    SourceEvent,
    {
      type:
        | 'ReflectionPeriodStarted'
        | 'ReflectionPeriodExtended'
        | 'ReflectionPeriodEnded'
        | 'SupportPlanAgreed'
        | 'SupportServiceProvided'
        | 'SupportCaseClosed';
    }
  >,
): SupportUpdatedV1 {
  switch (event.type) {
    case 'ReflectionPeriodStarted':
      return {
        change: 'reflection-period-started',
        byAgencyId: event.data.startedByAgencyId,
        at: event.data.startedAt,
        reflectionStartsOn: event.data.startsOn,
        reflectionEndsOn: event.data.endsOn,
        reflectionDays: event.data.days,
      };
    case 'ReflectionPeriodExtended':
      return {
        change: 'reflection-period-extended',
        byAgencyId: event.data.extendedByAgencyId,
        at: event.data.extendedAt,
        reflectionEndsOn: event.data.endsOn,
        additionalDays: event.data.additionalDays,
      };
    case 'ReflectionPeriodEnded':
      return {
        change: 'reflection-period-ended',
        byAgencyId: event.data.endedByAgencyId,
        at: event.data.endedAt,
        reflectionEndedOn: event.data.endedOn,
        reflectionEndReason: event.data.reason,
      };
    case 'SupportPlanAgreed':
      return {
        change: 'support-plan-agreed',
        byAgencyId: event.data.agreedByAgencyId,
        at: event.data.agreedAt,
        planId: event.data.planId,
        services: event.data.services,
        reviewOn: event.data.reviewOn,
      };
    case 'SupportServiceProvided':
      return {
        change: 'support-service-provided',
        byAgencyId: event.data.providedByAgencyId,
        at: event.data.recordedAt,
        serviceType: event.data.serviceType,
        providedOn: event.data.providedOn,
      };
    case 'SupportCaseClosed':
      return {
        change: 'support-case-closed',
        byAgencyId: event.data.closedByAgencyId,
        at: event.data.closedAt,
        outcome: event.data.outcome,
      };
    default: {
      const _exhaustive: never = event;
      return _exhaustive;
    }
  }
}

function unknownReferral(type: string): { readonly kind: 'unmappable'; readonly reason: string } {
  return {
    kind: 'unmappable',
    reason: `${type} names a referral whose ReferralMade was not seen for this case`,
  };
}

/**
 * The coordinator's anonymised view of a referral event: the handoff between two agencies, with
 * no case id and nothing about the person. Other events have no coordinator contract.
 */
export function toCoordinatorHandoff(
  eventId: string,
  event: SourceEvent,
  context: MappingContext,
): Mapping<CoordinatorIntegrationEvent> {
  let facts: ReferralFacts | undefined;
  let step: { change: string; at: string; overdueSeconds?: number };
  switch (event.type) {
    case 'ReferralMade':
      facts = nextReferralFacts(undefined, event);
      step = { change: 'made', at: event.data.madeAt };
      break;
    case 'ReferralAcknowledged':
    case 'ReferralAccepted':
    case 'ReferralDeclined':
    case 'HandoffCompleted':
    case 'ReferralWithdrawn':
    case 'ReferralEscalated': {
      facts = nextReferralFacts(context.referral(event.data.referralId), event);
      const later = laterChange(event);
      step = { change: later.change, at: later.at, overdueSeconds: later.overdueSeconds };
      break;
    }
    default:
      return { kind: 'not-published' };
  }
  if (!facts) return unknownReferral(event.type);
  const full = {
    referralId: facts.referralId,
    fromAgencyId: facts.fromAgencyId,
    fromAgencyKind: facts.fromAgencyKind,
    toAgencyId: facts.toAgencyId,
    toAgencyKind: facts.toAgencyKind,
    transnational: facts.transnational,
    urgency: facts.urgency,
    change: step.change,
    status: facts.status,
    escalated: facts.escalated,
    at: step.at,
    madeAt: facts.madeAt,
    respondBy: facts.respondBy,
    overdueSeconds: step.overdueSeconds,
  };
  const cut = redact(full, COORDINATOR_HANDOFF_V1.fields, new Set());
  return {
    kind: 'mapped',
    message: {
      contract: COORDINATOR_HANDOFF_V1.name,
      schemaVersion: COORDINATOR_HANDOFF_V1.schemaVersion,
      eventId,
      payload: cut.payload,
    },
  };
}
