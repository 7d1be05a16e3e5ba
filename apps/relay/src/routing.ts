import { decideRead } from '@nrm/access';
import {
  evolve as evolveConsent,
  initialState as initialConsent,
  type ConsentState,
  type ConsentWithdrawn,
} from '@nrm/consent';
import {
  nextReferralFacts,
  readSourceEvent,
  toAgencyEvent,
  toCoordinatorHandoff,
  type AgencyIntegrationEvent,
  type CoordinatorIntegrationEvent,
  type MappingContext,
  type ReferralFacts,
  type SourceEvent,
} from '@nrm/contracts';
import type { RecordedEvent } from '@nrm/event-store';
import { receiverStanding } from '@nrm/referral';
import { AGENCY_KINDS, type AgencyKind, type DataCategory, type Purpose } from '@nrm/shared-kernel';

/** How an agency is party to a case, derived from the case's events as the case directory derives it. */
export type CaseRelation =
  | 'reporter'
  | 'decision-maker'
  | 'referral-sender'
  | 'referral-receiver'
  | 'support-provider'
  | 'designated-authority';

/**
 * The purposes for which the relay pushes a case's data to a party: the purpose of each referral
 * it sends or receives, and for the other relations the purpose of the work they stand for. An
 * agency receives a category when consent (or, at home, a lawful basis) covers it for one of these.
 */
export const RELATION_PURPOSE: Readonly<
  Record<'reporter' | 'decision-maker' | 'support-provider' | 'designated-authority', Purpose>
> = {
  reporter: 'referral',
  'decision-maker': 'protection',
  'support-provider': 'assistance',
  // Designated to decide on identification: the decision-maker's purpose.
  'designated-authority': 'protection',
};

export interface Party {
  readonly relations: readonly CaseRelation[];
  readonly purposes: readonly Purpose[];
  /** The referrals of the case this agency sent, by id: their purposes. */
  readonly sent?: Readonly<Record<string, Purpose>>;
  /**
   * The referrals of the case to this agency that still give it standing (`receiverStanding` is not
   * `none`), by id: their purposes. When the last one ends at `none`, the agency is no longer a
   * `referral-receiver`, and no longer party at all unless it is by another relation (as the case
   * directory drops its `referral-receiver` row).
   */
  readonly received?: Readonly<Record<string, Purpose>>;
}

/** What the relay keeps per case: the consent stream folded so far, and who is party to the case. */
export interface CaseState {
  readonly consent: ConsentState;
  readonly parties: Readonly<Record<string, Party>>;
}

/** The relay's state as of the event being routed (committed state plus the batch so far). */
export interface RelayStateView {
  caseState(caseId: string): CaseState | undefined;
  referral(referralId: string): ReferralFacts | undefined;
  agencyKind(agencyId: string): AgencyKind | undefined;
}

/** The state one routed event leaves behind; applied only when the event is not parked. */
export interface StateChange {
  readonly cases?: ReadonlyArray<readonly [string, CaseState]>;
  readonly referral?: ReferralFacts;
  readonly agencies?: ReadonlyArray<readonly [string, AgencyKind]>;
}

export interface TopicNames {
  agency(agencyId: string): string;
  readonly coordinator: string;
}

/** Kafka's own rule for topic names. */
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

export function topicNames(prefix: string): TopicNames {
  return { agency: (agencyId) => `${prefix}nrm.agency.${agencyId}`, coordinator: `${prefix}nrm.coordinator` };
}

export interface OutgoingMessage {
  readonly topic: string;
  /** The case id on agency topics (order per case); the referral id on the coordinator's. */
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type Routing =
  | {
      readonly kind: 'publish';
      readonly messages: readonly OutgoingMessage[];
      /** Parties addressed that were entitled to nothing in the event: nothing sent to them. */
      readonly withheld: number;
      readonly change: StateChange;
    }
  | { readonly kind: 'park'; readonly reason: string };

const NO_CHANGE: StateChange = {};

/**
 * Decides what one stored event becomes: folds it into the relay's view of its case (consent and
 * parties), then cuts one message per addressed agency to what that agency is entitled to at the
 * moment of the event, plus the coordinator's anonymised handoff for referral events. Entitlement is
 * computed after the event itself is folded: a withdrawal stops the data it covered from that
 * event on, and a referral's receiver is addressed by the referral that makes it a party.
 * Deterministic: the same event on the same state gives the same messages, which is what lets a
 * restarted relay resend a batch it could not confirm.
 */
export function route(recorded: RecordedEvent, state: RelayStateView, topics: TopicNames): Routing {
  const reading = readSourceEvent(recorded);
  if (reading.kind === 'unmappable') return { kind: 'park', reason: reading.reason };
  if (reading.kind === 'other') {
    const agency = registeredAgency(recorded);
    return {
      kind: 'publish',
      messages: [],
      withheld: 0,
      change: agency ? { agencies: [agency] } : NO_CHANGE,
    };
  }
  const event = reading.event;
  const caseId = event.data.caseId;
  const stored = state.caseState(caseId);
  const before = stored ?? { consent: initialConsent(), parties: {} };

  let referral: ReferralFacts | undefined;
  if ('referralId' in event.data) {
    referral = nextReferralFacts(state.referral(event.data.referralId), event as ReferralSourceEvent);
  }
  const after = foldCase(before, event, referral);
  // Kinds the event itself states count already for this event (a referral abroad is consent-only at once).
  const kinds = agencyKindsOf(event);
  const newKinds = kinds.filter(([id, kind]) => state.agencyKind(id) !== kind);
  const kindOf = (agencyId: string) =>
    kinds.find(([id]) => id === agencyId)?.[1] ?? state.agencyKind(agencyId);
  // The mappers see the referral as it was before this event: they apply the event's step themselves.
  const context: MappingContext = { referral: (id) => state.referral(id) };
  const at = recorded.metadata.occurredAt;

  const messages: OutgoingMessage[] = [];
  let withheld = 0;
  for (const agencyId of recipients(event, before, after)) {
    const topic = topics.agency(agencyId);
    if (!TOPIC_NAME.test(topic))
      return { kind: 'park', reason: 'an addressed agency id cannot name a Kafka topic' };
    const audience = { agencyId, entitled: entitledCategories(after, agencyId, kindOf(agencyId), at) };
    const mapping = toAgencyEvent(recorded.id, event, audience, context);
    if (mapping.kind === 'unmappable') return { kind: 'park', reason: mapping.reason };
    if (mapping.kind === 'withheld') withheld++;
    if (mapping.kind === 'mapped') messages.push(outgoing(topic, caseId, mapping.message, recorded));
  }
  const handoff = toCoordinatorHandoff(recorded.id, event, context);
  if (handoff.kind === 'unmappable') return { kind: 'park', reason: handoff.reason };
  if (handoff.kind === 'mapped' && referral) {
    messages.push(outgoing(topics.coordinator, referral.referralId, handoff.message, recorded));
  }

  return {
    kind: 'publish',
    messages,
    withheld,
    // Only what changed is written when the batch is committed: most steps change neither consent nor parties.
    change: {
      ...(after !== stored ? { cases: [[caseId, after]] } : {}),
      ...(referral ? { referral } : {}),
      ...(newKinds.length > 0 ? { agencies: newKinds } : {}),
    },
  };
}

type ReferralSourceEvent = Extract<SourceEvent, { data: { referralId: string } }>;

function outgoing(
  topic: string,
  key: string,
  message: AgencyIntegrationEvent | CoordinatorIntegrationEvent,
  recorded: RecordedEvent,
): OutgoingMessage {
  const correlationId: unknown = recorded.metadata.correlationId;
  return {
    topic,
    key,
    value: JSON.stringify(message),
    headers: {
      'event-id': recorded.id,
      type: message.contract,
      'schema-version': String(message.schemaVersion),
      ...(typeof correlationId === 'string' ? { 'correlation-id': correlationId } : {}),
    },
  };
}

/** Adds a relation (and its purpose) to the parties, keeping both lists free of repeats. */
function withParty(
  parties: CaseState['parties'],
  agencyId: string,
  relation: CaseRelation,
  purpose: Purpose,
  referral?: { readonly role: 'sent' | 'received'; readonly referralId: string },
) {
  const party = Object.hasOwn(parties, agencyId) ? parties[agencyId] : undefined;
  const relations = party?.relations ?? [];
  const purposes = party?.purposes ?? [];
  const noted = referral ? party?.[referral.role] : undefined;
  const known = !referral || (noted !== undefined && Object.hasOwn(noted, referral.referralId));
  if (relations.includes(relation) && purposes.includes(purpose) && known) return parties;
  return {
    ...parties,
    [agencyId]: {
      ...party,
      relations: relations.includes(relation) ? relations : [...relations, relation],
      purposes: purposes.includes(purpose) ? purposes : [...purposes, purpose],
      ...(referral ? { [referral.role]: { ...noted, [referral.referralId]: purpose } } : {}),
    },
  };
}

/**
 * The parties after a referral ended at `none` for its receiver (`receiverStanding`: declined, or
 * withdrawn before it was accepted): the referral no longer counts for the receiver; with no other
 * referral to it giving standing, its `referral-receiver` relation goes, and the purposes only
 * that relation stood for; with no relation left, the agency is no party at all.
 */
function withoutReceived(parties: CaseState['parties'], referral: ReferralFacts): CaseState['parties'] {
  const agencyId = referral.toAgencyId;
  const party = Object.hasOwn(parties, agencyId) ? parties[agencyId] : undefined;
  if (!party?.received || !Object.hasOwn(party.received, referral.referralId)) return parties;
  const received = Object.fromEntries(
    Object.entries(party.received).filter(([id]) => id !== referral.referralId),
  );
  const live = Object.keys(received).length > 0;
  const relations = live ? party.relations : party.relations.filter((r) => r !== 'referral-receiver');
  if (relations.length === 0) {
    const rest = { ...parties };
    delete rest[agencyId];
    return rest;
  }
  // A purpose stays while a relation left still stands for it (the order kept: the same state a rebuild gives).
  const standing = new Set<string>([
    ...Object.values(party.sent ?? {}),
    ...Object.values(received),
    ...relations.flatMap((r) =>
      r in RELATION_PURPOSE ? [RELATION_PURPOSE[r as keyof typeof RELATION_PURPOSE]] : [],
    ),
  ]);
  return {
    ...parties,
    [agencyId]: {
      ...party,
      relations,
      purposes: party.purposes.filter((p) => standing.has(p)),
      received,
    },
  };
}

/**
 * The case after one of its events: consent folded with the consent decider's own `evolve`, parties
 * added, and a receiver left with no standing removed (`referral`: the referral's facts after the
 * event, for a referral event). The same object when the event changes neither (most steps), so
 * that nothing is rewritten.
 */
export function foldCase(state: CaseState, event: SourceEvent, referral?: ReferralFacts): CaseState {
  const withParties = (parties: CaseState['parties']): CaseState =>
    parties === state.parties ? state : { ...state, parties };
  const { parties } = state;
  switch (event.type) {
    case 'PotentialVictimReported':
      return withParties(
        withParty(parties, event.data.reportedByAgencyId, 'reporter', RELATION_PURPOSE.reporter),
      );
    case 'ReasonableGroundsDecided':
    case 'ConclusiveGroundsDecided':
      // A decision names its decision-maker among the parties, but never makes an agency party by itself.
      if (!Object.hasOwn(parties, event.data.decidedByAgencyId)) return state;
      return withParties(
        withParty(
          parties,
          event.data.decidedByAgencyId,
          'decision-maker',
          RELATION_PURPOSE['decision-maker'],
        ),
      );
    case 'CompetentAuthorityDesignated':
      // Designated by the national coordinator: party to the case, as the receiver of a referral is.
      return withParties(
        withParty(
          parties,
          event.data.authorityId,
          'designated-authority',
          RELATION_PURPOSE['designated-authority'],
        ),
      );
    case 'ReferralMade': {
      const { purpose, referralId } = event.data;
      const sent = withParty(parties, event.data.fromAgencyId, 'referral-sender', purpose, {
        role: 'sent',
        referralId,
      });
      return withParties(
        withParty(sent, event.data.toAgencyId, 'referral-receiver', purpose, {
          role: 'received',
          referralId,
        }),
      );
    }
    case 'ReferralDeclined':
    case 'ReferralWithdrawn':
      // One rule with the case directory, the reads and the receiver's referral list.
      if (!referral || receiverStanding(referral) !== 'none') return state;
      return withParties(withoutReceived(parties, referral));
    case 'ReflectionPeriodStarted':
      return withParties(supportProvider(parties, event.data.startedByAgencyId));
    case 'SupportPlanAgreed':
      return withParties(supportProvider(parties, event.data.agreedByAgencyId));
    case 'SupportServiceProvided':
      return withParties(supportProvider(parties, event.data.providedByAgencyId));
    case 'ConsentGranted':
    case 'ConsentWithdrawn':
    case 'ConsentRefused':
    case 'LawfulBasisRecorded':
      return { ...state, consent: evolveConsent(state.consent, event) };
    default:
      return state;
  }
}

function supportProvider(parties: CaseState['parties'], agencyId: string) {
  return withParty(parties, agencyId, 'support-provider', RELATION_PURPOSE['support-provider']);
}

/**
 * The categories an agency may receive at instant `at`: those the read decision (`decideRead`,
 * libs/access) allows it for one of the purposes it is party for. A lawful basis counts only for an
 * agency known to be at home: data goes abroad (foreign-nrm), or to an agency whose kind the relay
 * has not seen, on the person's consent only.
 */
export function entitledCategories(
  state: CaseState,
  agencyId: string,
  kind: AgencyKind | undefined,
  at: string,
): Set<DataCategory> {
  const entitled = new Set<DataCategory>();
  const party = Object.hasOwn(state.parties, agencyId) ? state.parties[agencyId] : undefined;
  const consent = state.consent;
  if (!party || consent.status !== 'recorded') return entitled;
  for (const purpose of party.purposes) {
    // Only categories that a grant or basis naming this agency and purpose lists can be covered: weighing
    // those alone gives the decision over every category at a fraction of the cost.
    const categories = [...candidateCategories(consent, agencyId, purpose)].filter((c) => !entitled.has(c));
    if (categories.length === 0) continue;
    const decision = decideRead({
      reader: { via: 'relay', agencyId, agencyKind: kind },
      purpose,
      party: true,
      consent,
      at,
      categories,
    });
    if (decision.allowed) for (const ground of decision.allowedGrounds) entitled.add(ground.category);
  }
  return entitled;
}

function candidateCategories(
  consent: Extract<ConsentState, { status: 'recorded' }>,
  agencyId: string,
  purpose: Purpose,
): Set<DataCategory> {
  const candidates = new Set<DataCategory>();
  const scopes = [
    ...Object.values(consent.consents).filter((g) => !g.withdrawn),
    ...Object.values(consent.lawfulBases),
  ];
  for (const scope of scopes) {
    if (!scope.agencyIds.includes(agencyId) || !scope.purposes.includes(purpose)) continue;
    for (const category of scope.categories) candidates.add(category);
  }
  return candidates;
}

/**
 * Who hears of an event: every party of the case (after the event), except that a consent
 * withdrawal goes to the parties the withdrawn grant named, and other consent records to no one.
 */
function recipients(event: SourceEvent, before: CaseState, after: CaseState): string[] {
  const parties = Object.keys(after.parties);
  switch (event.type) {
    case 'ConsentWithdrawn':
      return parties.filter((agencyId) => withdrawalConcerns(before.consent, event, agencyId));
    case 'ConsentGranted':
    case 'ConsentRefused':
    case 'LawfulBasisRecorded':
      return [];
    default:
      return parties;
  }
}

function withdrawalConcerns(consent: ConsentState, event: ConsentWithdrawn, agencyId: string): boolean {
  if (consent.status !== 'recorded') return false;
  const grant = Object.hasOwn(consent.consents, event.data.consentId)
    ? consent.consents[event.data.consentId]
    : undefined;
  if (!grant || grant.withdrawn || !grant.agencyIds.includes(agencyId)) return false;
  // A partial withdrawal that names agencies concerns those; one that names only categories or purposes, all.
  const named = event.data.agencyIds;
  return event.data.whole || named === undefined || named.length === 0 || named.includes(agencyId);
}

/** The kinds of agency an event states (the reporter's, a referral's two ends). */
function agencyKindsOf(event: SourceEvent): Array<readonly [string, AgencyKind]> {
  if (event.type === 'PotentialVictimReported')
    return [[event.data.reportedByAgencyId, event.data.reportedByAgencyKind]];
  if (event.type === 'CompetentAuthorityDesignated')
    return [[event.data.authorityId, event.data.authorityKind]];
  if (event.type === 'ReferralMade')
    return [
      [event.data.fromAgencyId, event.data.fromAgencyKind],
      [event.data.toAgencyId, event.data.toAgencyKind],
    ];
  return [];
}

function registeredAgency(recorded: RecordedEvent): readonly [string, AgencyKind] | undefined {
  if (recorded.type !== 'AgencyRegistered') return undefined;
  const { agencyId, kind } = recorded.data;
  if (typeof agencyId !== 'string' || typeof kind !== 'string') return undefined;
  const known = AGENCY_KINDS.find((k) => k === kind);
  return known ? [agencyId, known] : undefined;
}
