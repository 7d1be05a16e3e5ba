import type { JsonObject, RecordedEvent } from '@nrm/event-store';
import { DATA_CATEGORIES, type DataCategory } from '@nrm/shared-kernel';
import {
  CONTRACTS,
  readSourceEvent,
  redact,
  toAgencyEvent,
  toCoordinatorHandoff,
  nextReferralFacts,
  type AgencyIntegrationEvent,
  type FieldTag,
  type FieldTags,
  type MappingContext,
  type ReferralFacts,
  type SourceEvent,
} from './index';

const CASE = 'case-4b1e';
const REFERRAL = 'ref-77';
const AT = '2026-03-02T09:30:00.000Z';

let position = 0;
function recorded(stream: string, type: string, data: object, schemaVersion = 1): RecordedEvent {
  position++;
  return {
    id: `evt-${position}`,
    stream,
    revision: 0,
    position,
    type,
    schemaVersion,
    data: data as JsonObject,
    metadata: { correlationId: 'corr-1', occurredAt: AT },
    recordedAt: AT,
  };
}

const reported = {
  caseId: CASE,
  subjectId: 'subj-19',
  reportedByAgencyId: 'clinic-dune',
  reportedByAgencyKind: 'health',
  indicators: ['withheld-documents', 'debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-NH',
  reportedAt: AT,
  identity: { alg: 'A256GCM', keyId: 'subj-19', iv: 'AAAA', data: 'QkJCQg==', tag: 'Q0NDQw==' },
};

const made = {
  referralId: REFERRAL,
  caseId: CASE,
  fromAgencyId: 'clinic-dune',
  fromAgencyKind: 'health',
  toAgencyId: 'ngo-tide',
  toAgencyKind: 'ngo',
  transnational: false,
  purpose: 'assistance',
  servicesRequested: ['accommodation', 'legal'],
  urgency: 'urgent',
  respondBy: '2026-03-04T17:00:00.000Z',
  sharedCategories: ['case-status', 'support-needs'],
  madeByPrincipalId: 'clinic-desk',
  madeAt: AT,
};

function source(event: RecordedEvent): SourceEvent {
  const reading = readSourceEvent(event);
  if (reading.kind !== 'event') throw new Error(`expected a source event, got ${JSON.stringify(reading)}`);
  return reading.event;
}

const noReferrals: MappingContext = { referral: () => undefined };
const knowing = (facts: ReferralFacts): MappingContext => ({
  referral: (id) => (id === facts.referralId ? facts : undefined),
});
const madeFacts = (): ReferralFacts => {
  const facts = nextReferralFacts(
    undefined,
    source(recorded(`referral-${REFERRAL}`, 'ReferralMade', made)) as never,
  );
  if (!facts) throw new Error('ReferralMade must give facts');
  return facts;
};

const audience = (agencyId: string, ...entitled: DataCategory[]) => ({
  agencyId,
  entitled: new Set(entitled),
});

function mapped(result: ReturnType<typeof toAgencyEvent>): AgencyIntegrationEvent {
  if (result.kind !== 'mapped') throw new Error(`expected a message, got ${result.kind}`);
  return result.message;
}

describe('reading stored events as source events', () => {
  it('reads a well-formed domain event of a case stream', () => {
    const reading = readSourceEvent(recorded(`identification-${CASE}`, 'PotentialVictimReported', reported));
    expect(reading.kind).toBe('event');
  });

  it('calls an unknown type in a case stream unmappable, and leaves other streams alone', () => {
    expect(readSourceEvent(recorded(`support-${CASE}`, 'SupportPaused', { caseId: CASE }))).toEqual({
      kind: 'unmappable',
      reason: 'unknown event type SupportPaused in a case stream',
    });
    expect(
      readSourceEvent(recorded('agency-ngo-tide', 'AgencyRegistered', { agencyId: 'ngo-tide' })),
    ).toEqual({
      kind: 'other',
    });
    expect(readSourceEvent(recorded('access-1', 'RecordAccessed', { caseId: CASE }))).toEqual({
      kind: 'other',
    });
  });

  it('refuses a schema version it does not understand', () => {
    const reading = readSourceEvent(
      recorded(`identification-${CASE}`, 'PotentialVictimReported', reported, 2),
    );
    expect(reading).toEqual({
      kind: 'unmappable',
      reason: 'PotentialVictimReported schema version 2 is not understood (only 1)',
    });
  });

  it('reads a lawful basis with its justification in clear (schema 1) or sealed (schema 2)', () => {
    const basis = {
      caseId: CASE,
      lawfulBasisId: 'lb-1',
      basis: 'court-order',
      agencyIds: ['ngo-tide'],
      categories: ['case-status'],
      purposes: ['assistance'],
      recordedByAgencyId: 'clinic-harbour',
      recordedByPrincipalId: 'clinic-desk',
      recordedAt: AT,
    };
    const sealed = { alg: 'A256GCM', keyId: 'subject-1', iv: 'aXY=', data: 'c2VhbGVk', tag: 'dGFn' };
    const stream = `consent-${CASE}`;
    for (const [data, version] of [
      [{ ...basis, justification: 'Family court order FC-2025-118.' }, 1],
      [{ ...basis, sealedJustification: sealed }, 2],
      [{ ...basis, sealedJustification: null }, 2],
    ] as const)
      expect(readSourceEvent(recorded(stream, 'LawfulBasisRecorded', data, version)).kind).toBe('event');
    expect(readSourceEvent(recorded(stream, 'LawfulBasisRecorded', basis, 3))).toMatchObject({
      kind: 'unmappable',
      reason: 'LawfulBasisRecorded schema version 3 is not understood (only 1, 2)',
    });
    expect(
      readSourceEvent(recorded(stream, 'LawfulBasisRecorded', { ...basis, sealedJustification: 'clear' }, 2)),
    ).toMatchObject({ kind: 'unmappable' });
  });

  it('reads a consent with its guardian reference in clear (schema 1) or sealed (schema 2)', () => {
    const grant = {
      caseId: CASE,
      consentId: 'c-1',
      recordedByAgencyId: 'clinic-harbour',
      recordedByPrincipalId: 'clinic-desk',
      agencyIds: ['ngo-tide'],
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: AT,
      grantedAt: AT,
    };
    const capture = { method: 'guardian', language: 'ro', interpreterUsed: false };
    const sealed = { alg: 'A256GCM', keyId: 'subject-1', iv: 'aXY=', data: 'c2VhbGVk', tag: 'dGFn' };
    const stream = `consent-${CASE}`;
    for (const [recordedCapture, version] of [
      [{ ...capture, guardianReference: 'GRD-2025-118' }, 1],
      [{ ...capture, sealedGuardianReference: sealed }, 2],
      [{ ...capture, sealedGuardianReference: null }, 2],
    ] as const)
      expect(
        readSourceEvent(recorded(stream, 'ConsentGranted', { ...grant, capture: recordedCapture }, version))
          .kind,
      ).toBe('event');
    expect(readSourceEvent(recorded(stream, 'ConsentGranted', { ...grant, capture }, 3))).toMatchObject({
      kind: 'unmappable',
      reason: 'ConsentGranted schema version 3 is not understood (only 1, 2)',
    });
    const clear = readSourceEvent(
      recorded(
        stream,
        'ConsentGranted',
        { ...grant, capture: { ...capture, sealedGuardianReference: 'GRD-Jana-Novak' } },
        2,
      ),
    );
    expect(clear).toMatchObject({ kind: 'unmappable' });
    expect(JSON.stringify(clear)).not.toContain('Jana');
  });

  it('names the missing or wrong field, never its value', () => {
    const { region: _region, ...withoutRegion } = reported;
    expect(
      readSourceEvent(recorded(`identification-${CASE}`, 'PotentialVictimReported', withoutRegion)),
    ).toEqual({
      kind: 'unmappable',
      reason: "PotentialVictimReported: field 'region' is missing or not valid",
    });
    const wrongUrgency = readSourceEvent(
      recorded(`referral-${REFERRAL}`, 'ReferralMade', { ...made, urgency: 'whenever-Jana-Novak' }),
    );
    expect(wrongUrgency.kind).toBe('unmappable');
    expect(JSON.stringify(wrongUrgency)).not.toContain('Jana');
    const unknownCategory = readSourceEvent(
      recorded(`consent-${CASE}`, 'ConsentWithdrawn', {
        caseId: CASE,
        consentId: 'c-1',
        whole: false,
        categories: ['shoe-size'],
        withdrawnByAgencyId: 'ngo-tide',
        withdrawnAt: AT,
      }),
    );
    expect(unknownCategory).toEqual({
      kind: 'unmappable',
      reason: "ConsentWithdrawn: field 'categories' is missing or not valid",
    });
  });

  it('refuses identity data that is not sealed', () => {
    const plain = { ...reported, identity: { name: 'Ana' } };
    expect(readSourceEvent(recorded(`identification-${CASE}`, 'PotentialVictimReported', plain)).kind).toBe(
      'unmappable',
    );
  });
});

describe('redaction by field tag', () => {
  type Sample = { a?: string; b?: string; c?: string; d?: string };
  const tags: FieldTags<Sample> = {
    a: 'health',
    b: 'case-status',
    c: 'non-personal',
    d: 'identity',
  };

  it('drops fields of categories not entitled (absent, not null) and keeps non-personal ones', () => {
    const cut = redact({ a: 'x', b: 'y', c: 'z', d: 'w' }, tags, new Set<DataCategory>(['case-status']));
    expect(cut.payload).toEqual({ b: 'y', c: 'z' });
    expect(Object.keys(cut.payload)).not.toContain('a');
    expect(cut.categories).toEqual(['case-status']);
    expect(cut.carriesCaseData).toBe(true);
  });

  it('keeps only tagged fields, skips missing values, and lists categories in vocabulary order', () => {
    // A value a mapper set under a name the contract does not tag.
    const full: Sample = Object.assign({ a: 'x', c: 'z', d: 'w' }, { extra: 'leak' });
    const cut = redact(full, tags, new Set<DataCategory>(['health', 'identity', 'case-status']));
    expect(cut.payload).toEqual({ a: 'x', c: 'z', d: 'w' });
    expect(cut.categories).toEqual(['identity', 'health']);
  });

  it('does not count non-personal fields as case data', () => {
    expect(redact({ c: 'z' }, { c: 'non-personal' }, new Set()).carriesCaseData).toBe(false);
  });
});

describe('domain events to agency contracts', () => {
  const report = () => source(recorded(`identification-${CASE}`, 'PotentialVictimReported', reported));

  it('cuts a case report to the categories the agency is entitled to', () => {
    const statusOnly = mapped(
      toAgencyEvent('e1', report(), audience('clinic-dune', 'case-status'), noReferrals),
    );
    expect(statusOnly).toEqual({
      contract: 'nrm.case.reported.v1',
      schemaVersion: 1,
      eventId: 'e1',
      caseId: CASE,
      categories: ['case-status'],
      payload: {
        reportedByAgencyId: 'clinic-dune',
        reportedByAgencyKind: 'health',
        reportedAt: AT,
        region: 'NL-NH',
        minor: false,
      },
    });
    const exploitationOnly = mapped(
      toAgencyEvent('e1', report(), audience('clinic-dune', 'exploitation'), noReferrals),
    );
    expect(exploitationOnly.payload).toEqual({
      indicators: ['withheld-documents', 'debt-bondage'],
      exploitationForms: ['labour'],
    });
  });

  it('never carries sealed identity data, whatever the entitlement', () => {
    const all = mapped(
      toAgencyEvent('e1', report(), audience('clinic-dune', ...DATA_CATEGORIES), noReferrals),
    );
    expect(all.payload).toHaveProperty('subjectId', 'subj-19');
    expect(JSON.stringify(all)).not.toContain('A256GCM');
    expect(JSON.stringify(all)).not.toContain('QkJCQg');
  });

  it('withholds the whole message when nothing in it is entitled', () => {
    expect(toAgencyEvent('e1', report(), audience('clinic-dune', 'health'), noReferrals)).toEqual({
      kind: 'withheld',
    });
  });

  it('sends the receiver a received referral and the other parties a status change', () => {
    const event = source(recorded(`referral-${REFERRAL}`, 'ReferralMade', made));
    const received = mapped(toAgencyEvent('e2', event, audience('ngo-tide', 'case-status'), noReferrals));
    expect(received.contract).toBe('nrm.referral.received.v1');
    expect(received.payload).not.toHaveProperty('servicesRequested');
    const sent = mapped(
      toAgencyEvent('e2', event, audience('clinic-dune', 'case-status', 'support-needs'), noReferrals),
    );
    expect(sent.contract).toBe('nrm.referral.status-changed.v1');
    expect(sent.payload).toMatchObject({ change: 'made', status: 'made', toAgencyId: 'ngo-tide' });
    expect(sent.payload).toHaveProperty('servicesRequested', ['accommodation', 'legal']);
  });

  it('maps a later referral step with what the referral was made with', () => {
    const declined = source(
      recorded(`referral-${REFERRAL}`, 'ReferralDeclined', {
        referralId: REFERRAL,
        caseId: CASE,
        byAgencyId: 'ngo-tide',
        reason: 'no-capacity',
        declinedAt: AT,
      }),
    );
    const message = mapped(
      toAgencyEvent('e3', declined, audience('clinic-dune', 'case-status'), knowing(madeFacts())),
    );
    expect(message.payload).toMatchObject({
      referralId: REFERRAL,
      fromAgencyId: 'clinic-dune',
      toAgencyId: 'ngo-tide',
      change: 'declined',
      status: 'declined',
      reason: 'no-capacity',
    });
  });

  it('keeps the status on an escalation and marks it escalated', () => {
    const escalated = source(
      recorded(`referral-${REFERRAL}`, 'ReferralEscalated', {
        referralId: REFERRAL,
        caseId: CASE,
        byAgencyId: 'coordinator',
        escalatedAt: AT,
        overdueSeconds: 3600,
      }),
    );
    const message = mapped(
      toAgencyEvent('e4', escalated, audience('ngo-tide', 'case-status'), knowing(madeFacts())),
    );
    expect(message.payload).toMatchObject({
      change: 'escalated',
      status: 'made',
      escalated: true,
      overdueSeconds: 3600,
    });
  });

  it('calls a step of an unknown referral, or of a referral of another case, unmappable', () => {
    const accepted = (caseId: string) =>
      source(
        recorded(`referral-${REFERRAL}`, 'ReferralAccepted', {
          referralId: REFERRAL,
          caseId,
          byAgencyId: 'ngo-tide',
          acceptedAt: AT,
        }),
      );
    expect(toAgencyEvent('e5', accepted(CASE), audience('ngo-tide', 'case-status'), noReferrals).kind).toBe(
      'unmappable',
    );
    expect(
      toAgencyEvent('e5', accepted('case-other'), audience('ngo-tide', 'case-status'), knowing(madeFacts()))
        .kind,
    ).toBe('unmappable');
    expect(toCoordinatorHandoff('e5', accepted(CASE), noReferrals).kind).toBe('unmappable');
  });

  it('sends a withdrawal notice even to an agency left with no entitlement', () => {
    const withdrawn = source(
      recorded(`consent-${CASE}`, 'ConsentWithdrawn', {
        caseId: CASE,
        consentId: 'c-1',
        whole: true,
        withdrawnByAgencyId: 'ngo-tide',
        withdrawnAt: AT,
      }),
    );
    const notice = mapped(toAgencyEvent('e6', withdrawn, audience('ngo-tide'), noReferrals));
    expect(notice).toEqual({
      contract: 'nrm.consent.withdrawn.v1',
      schemaVersion: 1,
      eventId: 'e6',
      caseId: CASE,
      categories: [],
      payload: { consentId: 'c-1', whole: true, withdrawnAt: AT, stillEntitledCategories: [] },
    });
  });

  it('publishes no contract for grants, refusals and lawful bases', () => {
    const granted = source(
      recorded(`consent-${CASE}`, 'ConsentGranted', {
        caseId: CASE,
        consentId: 'c-1',
        recordedByAgencyId: 'clinic-dune',
        recordedByPrincipalId: 'clinic-desk',
        agencyIds: ['ngo-tide'],
        categories: ['case-status'],
        purposes: ['assistance'],
        expiresAt: '2027-01-01T00:00:00.000Z',
        capture: { method: 'written', language: 'pl', interpreterUsed: true },
        grantedAt: AT,
      }),
    );
    expect(toAgencyEvent('e7', granted, audience('ngo-tide', ...DATA_CATEGORIES), noReferrals)).toEqual({
      kind: 'not-published',
    });
    expect(toCoordinatorHandoff('e7', granted, noReferrals)).toEqual({ kind: 'not-published' });
  });

  it('maps support steps: the service type is support-needs, the step itself case-status', () => {
    const provided = source(
      recorded(`support-${CASE}`, 'SupportServiceProvided', {
        caseId: CASE,
        serviceType: 'psychological',
        providedOn: '2026-03-05',
        providedByAgencyId: 'ngo-tide',
        recordedAt: AT,
      }),
    );
    expect(
      mapped(toAgencyEvent('e8', provided, audience('ngo-tide', 'case-status'), noReferrals)).payload,
    ).toEqual({
      change: 'support-service-provided',
      byAgencyId: 'ngo-tide',
      at: AT,
    });
    expect(
      mapped(toAgencyEvent('e8', provided, audience('ngo-tide', 'support-needs'), noReferrals)).payload,
    ).toEqual({
      serviceType: 'psychological',
      providedOn: '2026-03-05',
    });
  });
});

describe('the coordinator handoff', () => {
  it('carries the handoff between agencies and nothing about the case or the person', () => {
    const result = toCoordinatorHandoff(
      'e9',
      source(recorded(`referral-${REFERRAL}`, 'ReferralMade', made)),
      noReferrals,
    );
    if (result.kind !== 'mapped') throw new Error(result.kind);
    expect(result.message).toEqual({
      contract: 'nrm.coordinator.handoff.v1',
      schemaVersion: 1,
      eventId: 'e9',
      payload: {
        referralId: REFERRAL,
        fromAgencyId: 'clinic-dune',
        fromAgencyKind: 'health',
        toAgencyId: 'ngo-tide',
        toAgencyKind: 'ngo',
        transnational: false,
        urgency: 'urgent',
        change: 'made',
        status: 'made',
        escalated: false,
        at: AT,
        madeAt: AT,
        respondBy: '2026-03-04T17:00:00.000Z',
      },
    });
    expect(JSON.stringify(result.message)).not.toContain(CASE);
  });
});

describe('every contract, every entitlement', () => {
  const samples: SourceEvent[] = [
    source(recorded(`identification-${CASE}`, 'PotentialVictimReported', reported)),
    source(
      recorded(`identification-${CASE}`, 'IndicatorsAssessed', {
        caseId: CASE,
        outcome: 'indicators-present',
        indicatorsConfirmed: ['debt-bondage'],
        exploitationForms: ['labour'],
        assessedByAgencyId: 'clinic-dune',
        assessedAt: AT,
      }),
    ),
    source(recorded(`referral-${REFERRAL}`, 'ReferralMade', made)),
    source(
      recorded(`support-${CASE}`, 'SupportPlanAgreed', {
        caseId: CASE,
        planId: 'plan-1',
        services: ['legal'],
        reviewOn: '2026-04-01',
        agreedByAgencyId: 'ngo-tide',
        agreedAt: AT,
      }),
    ),
  ];
  const tagsOf = new Map<string, Readonly<Record<string, FieldTag>>>(
    CONTRACTS.map((c) => [c.name, c.fields as Readonly<Record<string, FieldTag>>]),
  );

  it('no field of a category outside the entitlement, for each of the 128 subsets of categories', () => {
    let messages = 0;
    for (let mask = 0; mask < 2 ** DATA_CATEGORIES.length; mask++) {
      const entitled = DATA_CATEGORIES.filter((_, i) => (mask & (1 << i)) !== 0);
      for (const event of samples) {
        for (const agencyId of ['clinic-dune', 'ngo-tide']) {
          const result = toAgencyEvent('e', event, audience(agencyId, ...entitled), noReferrals);
          if (result.kind !== 'mapped') continue;
          messages++;
          const tags = tagsOf.get(result.message.contract)!;
          for (const field of Object.keys(result.message.payload)) {
            const tag = tags[field];
            expect(tag === 'non-personal' || (tag !== undefined && entitled.includes(tag))).toBe(true);
          }
          expect(result.message.categories.every((c) => entitled.includes(c))).toBe(true);
        }
      }
    }
    expect(messages).toBeGreaterThan(500);
  });
});
