import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { coveredCategories, evolve, initialState, type ConsentEvent } from '@nrm/consent';
import type { AgencyIntegrationEvent, CoordinatorIntegrationEvent } from '@nrm/contracts';
import type { JsonObject, RecordedEvent } from '@nrm/event-store';
import { AGENCIES, caseScenario, clock, newCaseIds, type PlannedEvent } from '../test/case-events';
import { inBatches } from './relay';
import { BatchState } from './relay-store';
import type { AgencyKind, DataCategory, Purpose } from '@nrm/shared-kernel';
import {
  entitledCategories,
  route,
  topicNames,
  type CaseState,
  type OutgoingMessage,
  type RelayStateView,
} from './routing';

const EMPTY: RelayStateView = {
  caseState: () => undefined,
  referral: () => undefined,
  agencyKind: () => undefined,
};
const topics = topicNames('t1.');
const { clinic, ngo, shelter } = AGENCIES;

function asRecorded(events: readonly PlannedEvent[]): RecordedEvent[] {
  return events.map(({ stream, event }, i) => ({
    ...event,
    stream,
    revision: 0,
    position: i + 1,
    recordedAt: event.metadata.occurredAt,
  }));
}

/** Routes events one after another on one state, as the relay does within and across batches. */
function routeAll(events: readonly RecordedEvent[], state = new BatchState(EMPTY)) {
  const sent: Array<{ position: number; message: OutgoingMessage }> = [];
  const parked: Array<{ position: number; reason: string }> = [];
  let withheld = 0;
  for (const event of events) {
    const routing = route(event, state, topics);
    if (routing.kind === 'park') {
      parked.push({ position: event.position, reason: routing.reason });
      continue;
    }
    state.apply(routing.change);
    withheld += routing.withheld;
    for (const message of routing.messages) sent.push({ position: event.position, message });
  }
  return { sent, parked, withheld, state };
}

const onTopic = (sent: ReturnType<typeof routeAll>['sent'], topic: string) =>
  sent
    .filter((s) => s.message.topic === topic)
    .map((s) => ({ position: s.position, ...(JSON.parse(s.message.value) as AgencyIntegrationEvent) }));

describe('routing one case to its parties', () => {
  const ids = newCaseIds();
  const scenario = caseScenario(ids, clock());
  const events = asRecorded(scenario.events);
  const withdrawalPosition = scenario.withdrawal + 1;
  const { sent, parked, withheld } = routeAll(events);

  it('parks nothing and withholds what no consent covered', () => {
    expect(parked).toEqual([]);
    // The report and the assessment came before any consent: the clinic was entitled to nothing yet.
    expect(onTopic(sent, topics.agency(clinic)).every((m) => m.position > 3)).toBe(true);
    expect(withheld).toBeGreaterThanOrEqual(2);
  });

  it('sends the NGO its referral as received, with the services its consent covers, then each step', () => {
    const ngoMessages = onTopic(sent, topics.agency(ngo));
    expect(ngoMessages.map((m) => [m.position, m.contract])).toEqual([
      [4, 'nrm.referral.received.v1'],
      [5, 'nrm.referral.status-changed.v1'],
      [6, 'nrm.referral.status-changed.v1'],
      [7, 'nrm.referral.status-changed.v1'],
      [8, 'nrm.referral.status-changed.v1'],
      [10, 'nrm.referral.status-changed.v1'],
      [11, 'nrm.support.updated.v1'],
      [12, 'nrm.support.updated.v1'],
      [13, 'nrm.support.updated.v1'],
      [14, 'nrm.referral.status-changed.v1'],
      [15, 'nrm.support.updated.v1'],
    ]);
    expect(ngoMessages[0]).toMatchObject({
      caseId: ids.caseId,
      categories: ['support-needs', 'case-status'],
      payload: {
        referralId: ids.toNgo,
        fromAgencyId: clinic,
        servicesRequested: ['accommodation', 'psychological'],
      },
    });
    // Nothing outside the grant's categories ever reaches the NGO.
    const granted = ['case-status', 'exploitation', 'support-needs'];
    for (const m of ngoMessages) expect(m.categories.every((c) => granted.includes(c))).toBe(true);
  });

  it('honours the withdrawal for the shelter at once: the notice, then nothing', () => {
    const shelterMessages = onTopic(sent, topics.agency(shelter));
    expect(shelterMessages.map((m) => [m.position, m.contract])).toEqual([
      [5, 'nrm.referral.received.v1'],
      [6, 'nrm.referral.status-changed.v1'],
      [7, 'nrm.referral.status-changed.v1'],
      [8, 'nrm.referral.status-changed.v1'],
      [withdrawalPosition, 'nrm.consent.withdrawn.v1'],
    ]);
    expect(shelterMessages[4]).toMatchObject({
      categories: [],
      payload: { consentId: ids.consentId, whole: false, stillEntitledCategories: [] },
    });
    // The NGO and the clinic keep their consent and are not told of a withdrawal that does not concern them.
    expect(onTopic(sent, topics.agency(ngo)).some((m) => m.contract === 'nrm.consent.withdrawn.v1')).toBe(
      false,
    );
    expect(onTopic(sent, topics.agency(clinic)).some((m) => m.position === withdrawalPosition)).toBe(false);
  });

  it('gives the coordinator every referral step, keyed by referral, with no case id', () => {
    const handoffs = sent.filter((s) => s.message.topic === topics.coordinator);
    expect(handoffs.map((h) => h.position)).toEqual([4, 5, 6, 7, 8, 10, 14]);
    for (const { message } of handoffs) {
      expect([ids.toNgo, ids.toShelter]).toContain(message.key);
      expect(message.value).not.toContain(ids.caseId);
      expect(message.value).not.toContain(ids.subjectId);
      const parsed = JSON.parse(message.value) as CoordinatorIntegrationEvent;
      expect(parsed.contract).toBe('nrm.coordinator.handoff.v1');
    }
    const declined = JSON.parse(handoffs[6]!.message.value) as CoordinatorIntegrationEvent;
    expect(declined.payload).toMatchObject({ toAgencyId: shelter, change: 'declined', status: 'declined' });
  });

  it('keys agency messages by case and names event, contract, version and correlation in headers', () => {
    for (const { position, message } of sent) {
      const event = events[position - 1]!;
      expect(message.headers['event-id']).toBe(event.id);
      expect(message.headers['correlation-id']).toBe(event.metadata.correlationId);
      expect(message.headers['schema-version']).toBe('1');
      expect(message.headers.type).toBe((JSON.parse(message.value) as { contract: string }).contract);
      if (message.topic !== topics.coordinator) expect(message.key).toBe(ids.caseId);
    }
  });

  it('gives the same messages when routed again from the same state (a resent batch)', () => {
    const again = routeAll(events);
    expect(again.sent.map((s) => s.message)).toEqual(sent.map((s) => s.message));
  });
});

function recordedEvent(
  position: number,
  stream: string,
  type: string,
  data: object,
  at: string,
): RecordedEvent {
  return {
    id: randomUUID(),
    stream,
    revision: 0,
    position,
    type,
    schemaVersion: 1,
    data: data as JsonObject,
    metadata: { correlationId: 'c', occurredAt: at },
    recordedAt: at,
  };
}

describe('routing decisions', () => {
  const AT = '2026-10-05T08:00:00.000Z';
  const LATER = '2026-10-05T09:00:00.000Z';
  const caseId = 'case-r1';
  const referral = (to: string, toKind: string, position: number) =>
    recordedEvent(
      position,
      `referral-ref-${to}`,
      'ReferralMade',
      {
        referralId: `ref-${to}`,
        caseId,
        fromAgencyId: 'police-west',
        fromAgencyKind: 'law-enforcement',
        toAgencyId: to,
        toAgencyKind: toKind,
        transnational: toKind === 'foreign-nrm',
        purpose: 'referral',
        servicesRequested: ['return-assistance'],
        urgency: 'routine',
        respondBy: LATER,
        sharedCategories: ['case-status'],
        madeByPrincipalId: 'p',
        madeAt: LATER,
      },
      LATER,
    );
  const basis = recordedEvent(
    1,
    `consent-${caseId}`,
    'LawfulBasisRecorded',
    {
      caseId,
      lawfulBasisId: 'lb-1',
      basis: 'court-order',
      justification: 'Order 2026/117 of the district court requires the transfer.',
      agencyIds: ['nrm-abroad', 'shelter-home'],
      categories: ['case-status'],
      purposes: ['referral'],
      recordedByAgencyId: 'police-west',
      recordedByPrincipalId: 'p',
      recordedAt: AT,
    },
    AT,
  );

  it('sends data abroad on consent only: a lawful basis covers the shelter at home, not the foreign NRM', () => {
    const { sent, withheld } = routeAll([
      basis,
      referral('nrm-abroad', 'foreign-nrm', 2),
      referral('shelter-home', 'shelter', 3),
    ]);
    expect(sent.some((s) => s.message.topic === topics.agency('nrm-abroad'))).toBe(false);
    expect(onTopic(sent, topics.agency('shelter-home')).map((m) => m.contract)).toEqual([
      'nrm.referral.received.v1',
    ]);
    expect(withheld).toBeGreaterThanOrEqual(2);
  });

  it('sends nothing on a consent its recipient recorded for itself, nor makes a decision-maker a party', () => {
    const selfGranted = recordedEvent(
      3,
      `consent-${caseId}`,
      'ConsentGranted',
      {
        caseId,
        consentId: 'c-self',
        recordedByAgencyId: 'nrm-abroad',
        recordedByPrincipalId: 'p',
        agencyIds: ['nrm-abroad'],
        categories: ['case-status', 'exploitation', 'identity'],
        purposes: ['referral'],
        expiresAt: '2030-01-01T00:00:00Z',
        capture: { method: 'guardian', language: 'ro', interpreterUsed: false, guardianReference: 'G-1' },
        grantedAt: AT,
      },
      AT,
    );
    const decided = recordedEvent(
      4,
      `identification-${caseId}`,
      'ReasonableGroundsDecided',
      {
        caseId,
        outcome: 'negative',
        decidedByAgencyId: 'police-elsewhere',
        decidedAt: LATER,
        reflectionPeriodEntitled: false,
      },
      LATER,
    );
    const { sent, state } = routeAll([referral('nrm-abroad', 'foreign-nrm', 2), selfGranted, decided]);
    for (const message of onTopic(sent, topics.agency('nrm-abroad'))) expect(message.categories).toEqual([]);
    expect(sent.some((s) => s.message.topic === topics.agency('police-elsewhere'))).toBe(false);
    expect(Object.keys(state.caseState(caseId)!.parties).sort()).toEqual(['nrm-abroad', 'police-west']);
  });

  it('makes a designated authority a party: nothing on the designation itself, later events cut by consent', () => {
    const designated = recordedEvent(
      3,
      `identification-${caseId}`,
      'CompetentAuthorityDesignated',
      {
        caseId,
        authorityId: 'police-south',
        authorityKind: 'law-enforcement',
        reason: 'no-authority-seized',
        designatedByAgencyId: 'coordinator',
        designatedByPrincipalId: 'p',
        designatedAt: AT,
      },
      AT,
    );
    const consent = recordedEvent(
      4,
      `consent-${caseId}`,
      'ConsentGranted',
      {
        caseId,
        consentId: 'c-south',
        recordedByAgencyId: 'police-west',
        recordedByPrincipalId: 'p',
        agencyIds: ['police-south'],
        categories: ['case-status'],
        purposes: ['protection'],
        expiresAt: '2030-01-01T00:00:00Z',
        capture: { method: 'written', language: 'ro', interpreterUsed: true },
        grantedAt: AT,
      },
      AT,
    );
    const decided = (position: number) =>
      recordedEvent(
        position,
        `identification-${caseId}`,
        'ReasonableGroundsDecided',
        {
          caseId,
          outcome: 'positive',
          decidedByAgencyId: 'police-south',
          decidedAt: LATER,
          reflectionPeriodEntitled: true,
        },
        LATER,
      );
    // Without consent for it: party, but every message to it is withheld.
    const uncovered = routeAll([referral('shelter-home', 'shelter', 2), designated, decided(5)]);
    expect(uncovered.parked).toEqual([]);
    expect(uncovered.sent.some((s) => s.message.topic === topics.agency('police-south'))).toBe(false);
    expect(uncovered.state.caseState(caseId)!.parties['police-south']).toEqual({
      relations: ['designated-authority', 'decision-maker'],
      purposes: ['protection'],
    });
    // With consent for case status and protection: the decision, with case status only.
    const covered = routeAll([referral('shelter-home', 'shelter', 2), designated, consent, decided(5)]);
    const south = onTopic(covered.sent, topics.agency('police-south'));
    expect(south.map((m) => [m.position, m.contract, m.categories])).toEqual([
      [5, 'nrm.case.identification-updated.v1', ['case-status']],
    ]);
  });

  it('parks a step of a referral it never saw made, and changes no state for it', () => {
    const accepted = recordedEvent(
      1,
      'referral-ref-x',
      'ReferralAccepted',
      { referralId: 'ref-x', caseId, byAgencyId: 'ngo-a', acceptedAt: AT },
      AT,
    );
    const { sent, parked, state } = routeAll([accepted]);
    expect(sent).toEqual([]);
    expect(parked).toEqual([
      {
        position: 1,
        reason: 'ReferralAccepted names a referral whose ReferralMade was not seen for this case',
      },
    ]);
    expect(state.caseState(caseId)).toBeUndefined();
  });

  it('parks an event of a case stream it does not understand, and passes over other streams', () => {
    const { parked, sent } = routeAll([
      recordedEvent(1, `support-${caseId}`, 'SupportPaused', { caseId }, AT),
      recordedEvent(2, 'access-a1', 'RecordAccessed', { caseId }, AT),
    ]);
    expect(parked).toEqual([{ position: 1, reason: 'unknown event type SupportPaused in a case stream' }]);
    expect(sent).toEqual([]);
  });

  it('records state only when an event changes it: a step that adds no party and no consent writes nothing', () => {
    const report = recordedEvent(
      1,
      `identification-${caseId}`,
      'PotentialVictimReported',
      {
        caseId,
        subjectId: 's-1',
        reportedByAgencyId: 'clinic-a',
        reportedByAgencyKind: 'health',
        indicators: ['debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-UT',
        reportedAt: AT,
      },
      AT,
    );
    const assessed = recordedEvent(
      2,
      `identification-${caseId}`,
      'IndicatorsAssessed',
      {
        caseId,
        outcome: 'indicators-present',
        indicatorsConfirmed: ['debt-bondage'],
        exploitationForms: ['labour'],
        assessedByAgencyId: 'clinic-a',
        assessedAt: LATER,
      },
      LATER,
    );
    const state = new BatchState(EMPTY);
    const first = route(report, state, topics);
    if (first.kind !== 'publish') throw new Error(first.reason);
    expect(first.change.cases?.map(([id]) => id)).toEqual([caseId]);
    expect(first.change.agencies).toEqual([['clinic-a', 'health']]);
    state.apply(first.change);
    const second = route(assessed, state, topics);
    expect(second).toMatchObject({ kind: 'publish', change: {} });
    if (second.kind === 'publish') expect(second.change).toEqual({});
  });

  it('learns agency kinds from the registry', () => {
    const { state } = routeAll([
      recordedEvent(
        1,
        'agency-shelter-home',
        'AgencyRegistered',
        { agencyId: 'shelter-home', name: 'Home Shelter', kind: 'shelter', country: 'NL', registeredAt: AT },
        AT,
      ),
    ]);
    expect(state.agencyKind('shelter-home')).toBe('shelter');
  });

  it('parks an event for an agency whose id cannot name a topic', () => {
    const { parked } = routeAll([
      recordedEvent(
        1,
        `identification-${caseId}`,
        'PotentialVictimReported',
        {
          caseId,
          subjectId: 's',
          reportedByAgencyId: 'bad agency/id',
          reportedByAgencyKind: 'health',
          indicators: [],
          exploitationForms: [],
          minor: true,
          region: 'NL',
          reportedAt: AT,
        },
        AT,
      ),
    ]);
    expect(parked).toEqual([{ position: 1, reason: 'an addressed agency id cannot name a Kafka topic' }]);
  });
});

describe('batches of a subscription', () => {
  /** Items ready at once, except the one after `pauseAfter`; then, like a caught-up subscription, it may wait until closed. */
  function source(items: number[], pauseAfter: number, waitWhenDone = false) {
    const state = { closed: false, wake: () => {} };
    async function* generate(): AsyncGenerator<number> {
      for (const item of items) {
        if (item === pauseAfter + 1) await new Promise((r) => setTimeout(r, 20));
        yield item;
      }
      if (waitWhenDone && !state.closed) await new Promise<void>((r) => (state.wake = r));
    }
    return {
      state,
      [Symbol.asyncIterator]: generate,
      close: async () => {
        state.closed = true;
        state.wake();
      },
    };
  }

  it('takes what is ready up to the limit, and cuts a batch when the source must wait', async () => {
    const batches: number[][] = [];
    for await (const batch of inBatches(source([1, 2, 3, 4, 5, 6, 7], 5), 3)) batches.push(batch);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
      [6, 7],
    ]);
  });

  it('closes a source that waits for more when the consumer stops early, as on a failed batch', async () => {
    const waiting = source([1, 2], 10, true);
    const consume = async () => {
      for await (const batch of inBatches(waiting, 10)) {
        if (batch.length > 0) throw new Error('Kafka is down');
      }
    };
    await expect(consume()).rejects.toThrow('Kafka is down');
    expect(waiting.state.closed).toBe(true);
  });
});

describe('entitlement at the moment of an event', () => {
  const HOUR = 3_600_000;
  const BASE = Date.parse('2026-01-01T00:00:00.000Z');
  const iso = (hours: number) => new Date(BASE + hours * HOUR).toISOString();
  const agencies = ['ag-1', 'ag-2', 'ag-3'];
  const categories: DataCategory[] = ['identity', 'health', 'support-needs', 'case-status'];
  const purposes: Purpose[] = ['assistance', 'referral', 'protection'];
  const consentIds = ['c-1', 'c-2', '__proto__'];
  const some = <T>(values: readonly T[]) => fc.subarray([...values], { minLength: 1 });

  const consentEvent: fc.Arbitrary<ConsentEvent> = fc.oneof(
    fc
      .record({
        id: fc.constantFrom(...consentIds),
        agencyIds: some(agencies),
        categories: some(categories),
        purposes: some(purposes),
        from: fc.integer({ min: 0, max: 20 }),
        hours: fc.integer({ min: 1, max: 30 }),
      })
      .map(({ id, from, hours, ...scope }): ConsentEvent => ({
        type: 'ConsentGranted',
        schemaVersion: 1,
        data: {
          caseId: 'k',
          consentId: id,
          recordedByAgencyId: 'ag-1',
          recordedByPrincipalId: 'p',
          ...scope,
          expiresAt: iso(from + hours),
          capture: { method: 'written', language: 'en', interpreterUsed: false },
          grantedAt: iso(from),
        },
      })),
    fc
      .record({
        id: fc.constantFrom(...consentIds),
        whole: fc.boolean(),
        agencyIds: fc.option(some(agencies), { nil: undefined }),
        categories: fc.option(some(categories), { nil: undefined }),
      })
      .map(({ id, whole, agencyIds, categories: withdrawn }): ConsentEvent => ({
        type: 'ConsentWithdrawn',
        schemaVersion: 1,
        data: {
          caseId: 'k',
          consentId: id,
          whole,
          ...(agencyIds ? { agencyIds } : {}),
          ...(withdrawn ? { categories: withdrawn } : {}),
          withdrawnByAgencyId: 'ag-1',
          withdrawnAt: iso(10),
        },
      })),
    fc
      .record({
        id: fc.constantFrom('lb-1', 'toString'),
        agencyIds: some(agencies),
        categories: some(categories),
        purposes: some(purposes),
        from: fc.integer({ min: 0, max: 20 }),
        open: fc.boolean(),
      })
      .map(({ id, from, open, ...scope }): ConsentEvent => ({
        type: 'LawfulBasisRecorded',
        schemaVersion: 1,
        data: {
          caseId: 'k',
          lawfulBasisId: id,
          basis: 'court-order',
          justification: 'Order 2026/5 of the district court.',
          ...scope,
          ...(open ? {} : { expiresAt: iso(from + 12) }),
          recordedByAgencyId: 'ag-1',
          recordedByPrincipalId: 'p',
          recordedAt: iso(from),
        },
      })),
  );

  it('equals what coveredCategories gives for the purposes the agency is party for (1000 random histories)', () => {
    fc.assert(
      fc.property(
        fc.array(consentEvent, { maxLength: 8 }),
        fc.constantFrom(...agencies),
        some(purposes),
        fc.constantFrom<AgencyKind | undefined>(undefined, 'ngo', 'foreign-nrm'),
        fc.integer({ min: 0, max: 40 }),
        (history, agencyId, partyPurposes, kind, hour) => {
          const consent = history.reduce(evolve, initialState());
          const state: CaseState = {
            consent,
            parties: { [agencyId]: { relations: ['reporter'], purposes: partyPurposes } },
          };
          const at = iso(hour);
          const reference = new Set<DataCategory>();
          for (const purpose of partyPurposes)
            for (const c of coveredCategories(consent, { agencyId, purpose, at }))
              if (c.basis === 'consent' || (kind !== undefined && kind !== 'foreign-nrm'))
                reference.add(c.category);
          expect(entitledCategories(state, agencyId, kind, at)).toEqual(reference);
          // A non-party is entitled to nothing, whatever consent says.
          expect(entitledCategories(state, 'ag-other', kind, at).size).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('a referral that ends with no standing for its receiver (receiverStanding: none)', () => {
  const AT = '2026-10-05T08:00:00.000Z';
  const caseId = 'case-s1';
  const sender = 'police-north';
  let position = 0;
  const next = (stream: string, type: string, data: object) =>
    recordedEvent(++position, stream, type, { caseId, ...data }, AT);
  const made = (referralId: string, to: string, purpose: Purpose = 'assistance') =>
    next(`referral-${referralId}`, 'ReferralMade', {
      referralId,
      fromAgencyId: sender,
      fromAgencyKind: 'law-enforcement',
      toAgencyId: to,
      toAgencyKind: 'ngo',
      transnational: false,
      purpose,
      servicesRequested: ['accommodation'],
      urgency: 'routine',
      respondBy: AT,
      sharedCategories: ['case-status'],
      madeByPrincipalId: 'p',
      madeAt: AT,
    });
  const step = (referralId: string, type: string, data: object) =>
    next(`referral-${referralId}`, type, { referralId, ...data });
  const acknowledged = (id: string, by: string) =>
    step(id, 'ReferralAcknowledged', { byAgencyId: by, acknowledgedAt: AT });
  const accepted = (id: string, by: string) =>
    step(id, 'ReferralAccepted', { byAgencyId: by, acceptedAt: AT });
  const declined = (id: string, by: string) =>
    step(id, 'ReferralDeclined', { byAgencyId: by, reason: 'no-capacity', declinedAt: AT });
  const withdrawn = (id: string, reason = 'sent-in-error') =>
    step(id, 'ReferralWithdrawn', { byAgencyId: sender, reason, withdrawnAt: AT });
  const consent = (agencyIds: string[], purposes: Purpose[] = ['assistance']) =>
    next(`consent-${caseId}`, 'ConsentGranted', {
      consentId: `c-${position}`,
      recordedByAgencyId: 'clinic-north',
      recordedByPrincipalId: 'p',
      agencyIds,
      categories: ['case-status', 'exploitation', 'support-needs'],
      purposes,
      expiresAt: '2030-01-01T00:00:00Z',
      capture: { method: 'written', language: 'ro', interpreterUsed: false },
      grantedAt: AT,
    });
  // Later events of the case that consent covers for every party it names.
  const later = () => [
    next(`identification-${caseId}`, 'IndicatorsAssessed', {
      outcome: 'indicators-present',
      indicatorsConfirmed: ['deception'],
      exploitationForms: ['labour'],
      assessedByAgencyId: sender,
      assessedAt: AT,
    }),
    next(`support-${caseId}`, 'ReflectionPeriodStarted', {
      startedByAgencyId: sender,
      startsOn: '2026-10-05',
      endsOn: '2026-11-04',
      days: 30,
      startedAt: AT,
    }),
  ];
  const reported = () =>
    next(`case-${caseId}`, 'PotentialVictimReported', {
      subjectId: 'subject-s1',
      reportedByAgencyId: sender,
      reportedByAgencyKind: 'law-enforcement',
      reportedAt: AT,
      region: 'north',
      minor: false,
      indicators: ['deception'],
      exploitationForms: ['labour'],
    });

  /** Routes a history; what the agency's topic got after `from` (a position), and the final state. */
  function afterEnd(events: RecordedEvent[], agency: string, from: number) {
    const routed = routeAll(events);
    expect(routed.parked).toEqual([]);
    return {
      ...routed,
      got: onTopic(routed.sent, topics.agency(agency)).filter((m) => m.position > from),
    };
  }
  beforeEach(() => {
    position = 0;
  });

  it('declined: the receiver hears nothing more of the case, not even its own decline', () => {
    const events = [reported(), consent(['ngo-a', sender]), made('r1', 'ngo-a'), declined('r1', 'ngo-a')];
    const end = position;
    const { got, state, sent } = afterEnd([...events, ...later()], 'ngo-a', end - 1);
    expect(got).toEqual([]);
    expect(state.caseState(caseId)!.parties['ngo-a']).toBeUndefined();
    // The sender still hears of the decline and of what follows.
    expect(onTopic(sent, topics.agency(sender)).filter((m) => m.position >= end)).toHaveLength(3);
  });

  it('withdrawn sent in error before acknowledgement, or after it: nothing after the withdrawal', () => {
    for (const early of [false, true]) {
      position = 0;
      const events = [reported(), consent(['ngo-a']), made('r1', 'ngo-a')];
      if (early) events.push(acknowledged('r1', 'ngo-a'));
      events.push(withdrawn('r1'));
      const end = position;
      const { got, state } = afterEnd([...events, ...later()], 'ngo-a', end - 1);
      expect(got).toEqual([]);
      expect(state.caseState(caseId)!.parties['ngo-a']).toBeUndefined();
    }
  });

  it('two referrals to one agency, one withdrawn: still party by the other, for its purpose only', () => {
    const events = [
      reported(),
      consent(['ngo-a'], ['assistance', 'protection']),
      made('r1', 'ngo-a', 'assistance'),
      made('r2', 'ngo-a', 'protection'),
      withdrawn('r1'),
    ];
    const end = position;
    const { got, state } = afterEnd([...events, ...later()], 'ngo-a', end);
    expect(got.map((m) => m.contract)).toEqual([
      'nrm.case.identification-updated.v1',
      'nrm.support.updated.v1',
    ]);
    expect(state.caseState(caseId)!.parties['ngo-a']).toMatchObject({
      relations: ['referral-receiver'],
      purposes: ['protection'],
      received: { r2: 'protection' },
    });
  });

  it('declined, then referred again and accepted: routed again from the new referral', () => {
    const events = [reported(), consent(['ngo-a']), made('r1', 'ngo-a'), declined('r1', 'ngo-a')];
    const gap = later();
    const again = [made('r2', 'ngo-a'), accepted('r2', 'ngo-a')];
    const from = position;
    const { got } = afterEnd([...events, ...gap, ...again, ...later()], 'ngo-a', gap[0]!.position - 1);
    expect(got.map((m) => [m.position - from, m.contract])).toEqual([
      [-1, 'nrm.referral.received.v1'],
      [0, 'nrm.referral.status-changed.v1'],
      [1, 'nrm.case.identification-updated.v1'],
      [2, 'nrm.support.updated.v1'],
    ]);
  });

  it('accepted, then withdrawn: the receiver holds its standing and keeps what consent covers', () => {
    const events = [
      reported(),
      consent(['ngo-a']),
      made('r1', 'ngo-a'),
      accepted('r1', 'ngo-a'),
      withdrawn('r1', 'no-longer-needed'),
    ];
    const end = position;
    const { got, state } = afterEnd([...events, ...later()], 'ngo-a', end - 1);
    expect(got.map((m) => m.contract)).toEqual([
      'nrm.referral.status-changed.v1',
      'nrm.case.identification-updated.v1',
      'nrm.support.updated.v1',
    ]);
    expect(state.caseState(caseId)!.parties['ngo-a']).toMatchObject({ relations: ['referral-receiver'] });
  });

  it('keeps an agency party by another relation: a support provider whose referral was declined', () => {
    const events = [
      reported(),
      consent(['ngo-a'], ['assistance', 'protection']),
      made('r1', 'ngo-a', 'protection'),
      next(`support-${caseId}`, 'SupportServiceProvided', {
        serviceType: 'accommodation',
        providedOn: '2026-10-05',
        providedByAgencyId: 'ngo-a',
        recordedAt: AT,
      }),
      declined('r1', 'ngo-a'),
    ];
    const end = position;
    const { got, state } = afterEnd([...events, ...later()], 'ngo-a', end);
    expect(got).toHaveLength(2);
    expect(state.caseState(caseId)!.parties['ngo-a']).toMatchObject({
      relations: ['support-provider'],
      purposes: ['assistance'],
      received: {},
    });
  });
});
