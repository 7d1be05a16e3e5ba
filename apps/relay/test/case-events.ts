/**
 * Invented cases as the deciders would record them, typed against each context's own event
 * types, for the relay's tests and benchmark. Nothing here is real data.
 */
import { randomUUID } from 'node:crypto';
import type { ConsentGranted, ConsentWithdrawn } from '@nrm/consent';
import type { EventStore, JsonObject, NewEvent } from '@nrm/event-store';
import type { IndicatorsAssessed, PotentialVictimReported } from '@nrm/identification';
import type {
  HandoffCompleted,
  ReferralAccepted,
  ReferralAcknowledged,
  ReferralDeclined,
  ReferralMade,
} from '@nrm/referral';
import type { ReflectionPeriodStarted, SupportPlanAgreed, SupportServiceProvided } from '@nrm/support';

type Data<E extends { data: object }> = E['data'];

export interface PlannedEvent {
  readonly stream: string;
  readonly event: NewEvent;
}

/** The agencies of the scenario: a clinic reports and refers to an NGO and a shelter. */
export const AGENCIES = {
  clinic: 'clinic-harbour',
  ngo: 'ngo-lighthouse',
  shelter: 'shelter-dunes',
} as const;

export interface CaseIds {
  readonly caseId: string;
  readonly subjectId: string;
  readonly consentId: string;
  readonly toNgo: string;
  readonly toShelter: string;
}

export function newCaseIds(): CaseIds {
  return {
    caseId: randomUUID(),
    subjectId: randomUUID(),
    consentId: randomUUID(),
    toNgo: randomUUID(),
    toShelter: randomUUID(),
  };
}

/** Instants one minute apart from a fixed invented morning, so that consent coverage is deterministic. */
export function clock(start = Date.parse('2026-10-05T08:00:00.000Z')): () => string {
  let minute = 0;
  return () => new Date(start + minute++ * 60_000).toISOString();
}

function planned<E extends { type: string; data: object }>(
  stream: string,
  type: E['type'],
  data: Data<E>,
  at: string,
  correlationId: string,
): PlannedEvent {
  return {
    stream,
    event: {
      id: randomUUID(),
      type,
      schemaVersion: 1,
      data: data as unknown as JsonObject,
      metadata: { correlationId, occurredAt: at },
    },
  };
}

/**
 * One case through identification, consent, two referrals, a withdrawal of consent for the shelter,
 * and support: 15 events in 5 streams. `withdrawal` is the index of the ConsentWithdrawn event.
 */
export function caseScenario(
  ids: CaseIds,
  now: () => string,
): { events: PlannedEvent[]; withdrawal: number } {
  const { clinic, ngo, shelter } = AGENCIES;
  const corr = randomUUID();
  const identification = `identification-${ids.caseId}`;
  const consent = `consent-${ids.caseId}`;
  const support = `support-${ids.caseId}`;
  const toNgo = `referral-${ids.toNgo}`;
  const toShelter = `referral-${ids.toShelter}`;
  const caseId = ids.caseId;
  const made = (referralId: string, to: string, toKind: 'ngo' | 'shelter'): Data<ReferralMade> => ({
    referralId,
    caseId,
    fromAgencyId: clinic,
    fromAgencyKind: 'health',
    toAgencyId: to,
    toAgencyKind: toKind,
    transnational: false,
    purpose: 'assistance',
    servicesRequested: ['accommodation', 'psychological'],
    urgency: 'urgent',
    respondBy: '2026-10-07T17:00:00.000Z',
    sharedCategories: ['case-status', 'support-needs'],
    madeByPrincipalId: 'clinic-desk',
    madeAt: now(),
  });
  const events: PlannedEvent[] = [];
  const add = (event: PlannedEvent) => events.push(event);

  let at = now();
  add(
    planned<PotentialVictimReported>(
      identification,
      'PotentialVictimReported',
      {
        caseId,
        subjectId: ids.subjectId,
        reportedByAgencyId: clinic,
        reportedByAgencyKind: 'health',
        indicators: ['restricted-movement', 'debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
        reportedAt: at,
      },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<IndicatorsAssessed>(
      identification,
      'IndicatorsAssessed',
      {
        caseId,
        outcome: 'indicators-present',
        indicatorsConfirmed: ['debt-bondage'],
        exploitationForms: ['labour'],
        assessedByAgencyId: clinic,
        assessedAt: at,
      },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<ConsentGranted>(
      consent,
      'ConsentGranted',
      {
        caseId,
        consentId: ids.consentId,
        recordedByAgencyId: clinic,
        recordedByPrincipalId: 'clinic-desk',
        agencyIds: [clinic, ngo, shelter],
        categories: ['case-status', 'exploitation', 'support-needs'],
        purposes: ['referral', 'assistance'],
        expiresAt: '2027-06-30T00:00:00.000Z',
        capture: { method: 'written', language: 'ro', interpreterUsed: true },
        grantedAt: at,
      },
      at,
      corr,
    ),
  );
  let data = made(ids.toNgo, ngo, 'ngo');
  add(planned<ReferralMade>(toNgo, 'ReferralMade', data, data.madeAt, corr));
  data = made(ids.toShelter, shelter, 'shelter');
  add(planned<ReferralMade>(toShelter, 'ReferralMade', data, data.madeAt, corr));
  at = now();
  add(
    planned<ReferralAcknowledged>(
      toNgo,
      'ReferralAcknowledged',
      { referralId: ids.toNgo, caseId, byAgencyId: ngo, acknowledgedAt: at },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<ReferralAccepted>(
      toNgo,
      'ReferralAccepted',
      { referralId: ids.toNgo, caseId, byAgencyId: ngo, acceptedAt: at },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<ReferralAcknowledged>(
      toShelter,
      'ReferralAcknowledged',
      { referralId: ids.toShelter, caseId, byAgencyId: shelter, acknowledgedAt: at },
      at,
      corr,
    ),
  );
  const withdrawal = events.length;
  at = now();
  add(
    planned<ConsentWithdrawn>(
      consent,
      'ConsentWithdrawn',
      {
        caseId,
        consentId: ids.consentId,
        whole: false,
        agencyIds: [shelter],
        withdrawnByAgencyId: clinic,
        withdrawnAt: at,
      },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<HandoffCompleted>(
      toNgo,
      'HandoffCompleted',
      { referralId: ids.toNgo, caseId, byAgencyId: ngo, completedAt: at },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<ReflectionPeriodStarted>(
      support,
      'ReflectionPeriodStarted',
      {
        caseId,
        startsOn: '2026-10-05',
        endsOn: '2026-11-04',
        days: 30,
        startedByAgencyId: ngo,
        startedAt: at,
      },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<SupportPlanAgreed>(
      support,
      'SupportPlanAgreed',
      {
        caseId,
        planId: randomUUID(),
        services: ['accommodation', 'psychological', 'legal'],
        reviewOn: '2026-10-26',
        agreedByAgencyId: ngo,
        agreedAt: at,
      },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<SupportServiceProvided>(
      support,
      'SupportServiceProvided',
      {
        caseId,
        serviceType: 'psychological',
        providedOn: '2026-10-06',
        providedByAgencyId: ngo,
        recordedAt: at,
      },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<ReferralDeclined>(
      toShelter,
      'ReferralDeclined',
      { referralId: ids.toShelter, caseId, byAgencyId: shelter, reason: 'no-capacity', declinedAt: at },
      at,
      corr,
    ),
  );
  at = now();
  add(
    planned<SupportServiceProvided>(
      support,
      'SupportServiceProvided',
      { caseId, serviceType: 'legal', providedOn: '2026-10-07', providedByAgencyId: ngo, recordedAt: at },
      at,
      corr,
    ),
  );
  return { events, withdrawal };
}

/** Appends planned events in order, one append per event, with the exact expected revision of each stream. */
export async function appendPlanned(
  store: EventStore,
  events: readonly PlannedEvent[],
  revisions = new Map<string, number>(),
): Promise<number> {
  let position = 0;
  for (const { stream, event } of events) {
    const revision = revisions.get(stream);
    const result = await store.append(stream, [event], {
      expectedRevision: revision === undefined ? 'no-stream' : revision,
    });
    revisions.set(stream, result.revision);
    position = result.position;
  }
  return position;
}

/** `cases` scenarios, their events interleaved case by case in rounds, as concurrent work would store them. */
export function interleavedCases(cases: number): { events: PlannedEvent[]; withdrawals: Set<string> } {
  const now = clock();
  const scenarios = Array.from({ length: cases }, () => caseScenario(newCaseIds(), now));
  const events: PlannedEvent[] = [];
  const withdrawals = new Set<string>();
  const longest = Math.max(0, ...scenarios.map((s) => s.events.length));
  for (let step = 0; step < longest; step++) {
    for (const scenario of scenarios) {
      const planned = scenario.events[step];
      if (!planned) continue;
      events.push(planned);
      if (step === scenario.withdrawal) withdrawals.add(planned.event.id);
    }
  }
  return { events, withdrawals };
}
