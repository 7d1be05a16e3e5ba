import { fold, type Actor } from '@nrm/shared-kernel';
import {
  REFERRAL_EVENT_TYPES,
  isOpen,
  isOverdue,
  partiesOf,
  referralDecider,
  referralStream,
  type AcceptReferral,
  type AcknowledgeReferral,
  type CompleteHandoff,
  type DeclineReferral,
  type EscalateReferral,
  type MakeReferral,
  type ReferralCommand,
  type ReferralEvent,
  type ReferralMade,
  type ReferralState,
  type WithdrawReferral,
} from './index';
import { deciderSpec } from '../../shared-kernel/test/given-when-then';

// --- given / when / then -----------------------------------------------------------------------

const given = deciderSpec(referralDecider);

// --- fixtures ----------------------------------------------------------------------------------

const NGO = 'agency-ngo';
const HEALTH = 'agency-health';
const SHELTER = 'agency-shelter';
const FOREIGN = 'agency-foreign';
const COORDINATOR = 'agency-coordinator';
const OVERSIGHT = 'agency-oversight';

const ngoCaseworker: Actor = {
  principalId: 'p-ngo',
  agencyId: NGO,
  agencyKind: 'ngo',
  roles: ['caseworker'],
};
const healthCaseworker: Actor = {
  principalId: 'p-health',
  agencyId: HEALTH,
  agencyKind: 'health',
  roles: ['caseworker'],
};
const shelterCaseworker: Actor = {
  principalId: 'p-shelter',
  agencyId: SHELTER,
  agencyKind: 'shelter',
  roles: ['caseworker'],
};
const nationalCoordinator: Actor = {
  principalId: 'p-coord',
  agencyId: COORDINATOR,
  agencyKind: 'national-coordinator',
  roles: ['coordinator'],
};
const oversightOfficer: Actor = {
  principalId: 'p-over',
  agencyId: OVERSIGHT,
  agencyKind: 'oversight-body',
  roles: ['oversight', 'caseworker'],
};

const MADE_AT = '2026-03-01T09:00:00.000Z';
const RESPOND_BY = '2026-03-03T09:00:00.000Z';
const BEFORE_RESPOND_BY = '2026-03-02T09:00:00.000Z';
const AFTER_RESPOND_BY = '2026-03-03T10:30:00.000Z'; // 5400 s late

const meta = (actor: Actor, now: string) => ({ actor, now });

function make(
  overrides: Partial<MakeReferral['data']> = {},
  actor = ngoCaseworker,
  now = MADE_AT,
): MakeReferral {
  return {
    type: 'MakeReferral',
    data: {
      referralId: 'ref-1',
      caseId: 'case-1',
      toAgencyId: HEALTH,
      toAgencyKind: 'health',
      purpose: 'assistance',
      servicesRequested: ['medical', 'psychological'],
      urgency: 'urgent',
      respondBy: RESPOND_BY,
      sharedCategories: ['health', 'support-needs'],
      coverage: [
        { category: 'health', basis: 'consent' },
        { category: 'support-needs', basis: 'lawful-basis' },
      ],
      ...overrides,
    },
    metadata: meta(actor, now),
  };
}

const acknowledge = (
  actor = healthCaseworker,
  now = BEFORE_RESPOND_BY,
  referralId = 'ref-1',
): AcknowledgeReferral => ({
  type: 'AcknowledgeReferral',
  data: { referralId },
  metadata: meta(actor, now),
});
const accept = (actor = healthCaseworker, now = BEFORE_RESPOND_BY): AcceptReferral => ({
  type: 'AcceptReferral',
  data: { referralId: 'ref-1' },
  metadata: meta(actor, now),
});
const decline = (
  reason: DeclineReferral['data']['reason'] = 'no-capacity',
  actor = healthCaseworker,
  now = BEFORE_RESPOND_BY,
): DeclineReferral => ({
  type: 'DeclineReferral',
  data: { referralId: 'ref-1', reason },
  metadata: meta(actor, now),
});
const complete = (actor = healthCaseworker, now = AFTER_RESPOND_BY): CompleteHandoff => ({
  type: 'CompleteHandoff',
  data: { referralId: 'ref-1' },
  metadata: meta(actor, now),
});
const withdraw = (
  reason: WithdrawReferral['data']['reason'] = 'person-declined',
  actor = ngoCaseworker,
  now = BEFORE_RESPOND_BY,
): WithdrawReferral => ({
  type: 'WithdrawReferral',
  data: { referralId: 'ref-1', reason },
  metadata: meta(actor, now),
});
const escalate = (actor = nationalCoordinator, now = AFTER_RESPOND_BY): EscalateReferral => ({
  type: 'EscalateReferral',
  data: { referralId: 'ref-1' },
  metadata: meta(actor, now),
});

const referralMade: ReferralMade = {
  type: 'ReferralMade',
  schemaVersion: 1,
  data: {
    referralId: 'ref-1',
    caseId: 'case-1',
    fromAgencyId: NGO,
    fromAgencyKind: 'ngo',
    toAgencyId: HEALTH,
    toAgencyKind: 'health',
    transnational: false,
    purpose: 'assistance',
    servicesRequested: ['medical', 'psychological'],
    urgency: 'urgent',
    respondBy: RESPOND_BY,
    sharedCategories: ['health', 'support-needs'],
    madeByPrincipalId: 'p-ngo',
    madeAt: MADE_AT,
  },
};
const acknowledged: ReferralEvent = {
  type: 'ReferralAcknowledged',
  schemaVersion: 1,
  data: { referralId: 'ref-1', caseId: 'case-1', byAgencyId: HEALTH, acknowledgedAt: BEFORE_RESPOND_BY },
};
const accepted: ReferralEvent = {
  type: 'ReferralAccepted',
  schemaVersion: 1,
  data: { referralId: 'ref-1', caseId: 'case-1', byAgencyId: HEALTH, acceptedAt: BEFORE_RESPOND_BY },
};
const declined: ReferralEvent = {
  type: 'ReferralDeclined',
  schemaVersion: 1,
  data: {
    referralId: 'ref-1',
    caseId: 'case-1',
    byAgencyId: HEALTH,
    reason: 'out-of-area',
    declinedAt: BEFORE_RESPOND_BY,
  },
};
const completed: ReferralEvent = {
  type: 'HandoffCompleted',
  schemaVersion: 1,
  data: { referralId: 'ref-1', caseId: 'case-1', byAgencyId: HEALTH, completedAt: AFTER_RESPOND_BY },
};
const withdrawn: ReferralEvent = {
  type: 'ReferralWithdrawn',
  schemaVersion: 1,
  data: {
    referralId: 'ref-1',
    caseId: 'case-1',
    byAgencyId: NGO,
    reason: 'sent-in-error',
    withdrawnAt: BEFORE_RESPOND_BY,
  },
};
const escalated: ReferralEvent = {
  type: 'ReferralEscalated',
  schemaVersion: 1,
  data: {
    referralId: 'ref-1',
    caseId: 'case-1',
    byAgencyId: COORDINATOR,
    escalatedAt: AFTER_RESPOND_BY,
    overdueSeconds: 5400,
  },
};

// --- MakeReferral ------------------------------------------------------------------------------

describe('MakeReferral', () => {
  it('records who refers whom to which agency, why, and by when an answer is due', () => {
    given().when(make()).then([referralMade]);
  });

  it('marks a referral to a foreign NRM contact point as transnational', () => {
    given()
      .when(
        make({
          toAgencyId: FOREIGN,
          toAgencyKind: 'foreign-nrm',
          sharedCategories: ['exploitation'],
          coverage: [{ category: 'exploitation', basis: 'consent' }],
        }),
      )
      .then([
        {
          ...referralMade,
          data: {
            ...referralMade.data,
            toAgencyId: FOREIGN,
            toAgencyKind: 'foreign-nrm',
            transnational: true,
            sharedCategories: ['exploitation'],
          },
        },
      ]);
  });

  it('allows a referral that shares no personal data, with no coverage at all', () => {
    given()
      .when(make({ sharedCategories: [], coverage: [], servicesRequested: [] }))
      .then([
        { ...referralMade, data: { ...referralMade.data, sharedCategories: [], servicesRequested: [] } },
      ]);
  });

  it('stores the respond-by time in one canonical UTC form', () => {
    const [event] = referralDecider.decide(make({ respondBy: '2026-03-03T11:00:00+02:00' }), {
      status: 'none',
    });
    expect(event?.data).toMatchObject({ respondBy: RESPOND_BY });
  });

  it('refuses a second referral in the same stream', () => {
    given(referralMade)
      .when(make())
      .thenThrows({ code: 'REFERRAL.ALREADY_MADE', kind: 'conflict', field: 'referralId' });
  });

  it('requires the caseworker role', () => {
    given()
      .when(make({}, { ...ngoCaseworker, roles: ['decision-maker', 'break-glass'] }))
      .thenThrows({ code: 'REFERRAL.CASEWORKER_ONLY', kind: 'forbidden' });
  });

  it.each<[string, Actor]>([
    ['the national coordinator', { ...nationalCoordinator, roles: ['caseworker', 'coordinator'] }],
    ['the oversight body', oversightOfficer],
  ])('does not let %s refer', (_who, actor) => {
    given().when(make({}, actor)).thenThrows({ code: 'REFERRAL.AGENCY_CANNOT_REFER', kind: 'forbidden' });
  });

  it('does not let an agency refer to itself', () => {
    given()
      .when(make({ toAgencyId: NGO, toAgencyKind: 'ngo' }))
      .thenThrows({ code: 'REFERRAL.SELF_REFERRAL', kind: 'rule', field: 'toAgencyId' });
  });

  it.each(['national-coordinator', 'oversight-body'] as const)(
    'does not refer a person to the %s',
    (toAgencyKind) => {
      given()
        .when(make({ toAgencyId: 'agency-x', toAgencyKind }))
        .thenThrows({ code: 'REFERRAL.AGENCY_CANNOT_RECEIVE', kind: 'rule', field: 'toAgencyId' });
    },
  );

  it.each([
    ['before now', '2026-02-28T09:00:00.000Z'],
    ['exactly now', MADE_AT],
  ])('refuses a respond-by time %s', (_when, respondBy) => {
    given()
      .when(make({ respondBy }))
      .thenThrows({ code: 'REFERRAL.RESPOND_BY_IN_PAST', kind: 'rule', field: 'respondBy' });
  });

  it.each(['next week', '2026-02-30T09:00:00Z', '2026-03-03T09:00:00', '2026-03-03'])(
    'refuses a respond-by time that is not a zoned ISO instant: %s',
    (respondBy) => {
      given()
        .when(make({ respondBy }))
        .thenThrows({ code: 'REFERRAL.INVALID_VALUE', kind: 'rule', field: 'respondBy' });
    },
  );

  it('refuses to share a category that neither consent nor a lawful basis covers', () => {
    const error = given()
      .when(
        make({
          sharedCategories: ['health', 'immigration-status'],
          coverage: [{ category: 'health', basis: 'consent' }],
        }),
      )
      .thenThrows({ code: 'REFERRAL.NOT_COVERED', kind: 'rule', field: 'sharedCategories' });
    expect(error.message).toContain('immigration-status');
    expect(error.message).toContain('consent or a recorded lawful basis');
  });

  it('accepts a lawful basis for a referral inside the country', () => {
    given()
      .when(make({ sharedCategories: ['health'], coverage: [{ category: 'health', basis: 'lawful-basis' }] }))
      .then([{ ...referralMade, data: { ...referralMade.data, sharedCategories: ['health'] } }]);
  });

  it('does not send data abroad on a lawful basis alone', () => {
    const error = given()
      .when(
        make({
          toAgencyId: FOREIGN,
          toAgencyKind: 'foreign-nrm',
          sharedCategories: ['exploitation', 'health'],
          coverage: [
            { category: 'exploitation', basis: 'consent' },
            { category: 'health', basis: 'lawful-basis' },
          ],
        }),
      )
      .thenThrows({ code: 'REFERRAL.TRANSNATIONAL_NEEDS_CONSENT', kind: 'rule', field: 'sharedCategories' });
    expect(error.message).toContain('"health"');
  });

  it('refuses a category listed twice', () => {
    given()
      .when(make({ sharedCategories: ['health', 'health'] }))
      .thenThrows({ code: 'REFERRAL.DUPLICATE_CATEGORY', kind: 'rule', field: 'sharedCategories' });
  });

  it.each([
    ['purpose', { purpose: 'curiosity' }],
    ['urgency', { urgency: 'whenever' }],
    ['servicesRequested', { servicesRequested: ['massage'] }],
    ['sharedCategories', { sharedCategories: ['shoe-size'] }],
    ['caseId', { caseId: ' ' }],
    ['toAgencyKind', { toAgencyKind: 'bank' }],
    ['coverage', { coverage: undefined }],
  ])('refuses an unknown or empty %s', (field, overrides) => {
    given()
      .when(make(overrides as unknown as Partial<MakeReferral['data']>))
      .thenThrows({ code: 'REFERRAL.INVALID_VALUE', kind: 'rule', field });
  });
});

// --- AcknowledgeReferral -----------------------------------------------------------------------

describe('AcknowledgeReferral', () => {
  it('records that the receiving agency has seen the referral', () => {
    given(referralMade).when(acknowledge()).then([acknowledged]);
  });

  it('can still be acknowledged after it was escalated', () => {
    given(referralMade, escalated)
      .when(acknowledge(healthCaseworker, AFTER_RESPOND_BY))
      .then([{ ...acknowledged, data: { ...acknowledged.data, acknowledgedAt: AFTER_RESPOND_BY } }]);
  });

  it('is not found when nothing has been made', () => {
    given()
      .when(acknowledge())
      .thenThrows({ code: 'REFERRAL.NOT_FOUND', kind: 'not-found', field: 'referralId' });
  });

  it('refuses a command for another referral id', () => {
    given(referralMade)
      .when(acknowledge(healthCaseworker, BEFORE_RESPOND_BY, 'ref-2'))
      .thenThrows({ code: 'REFERRAL.MISMATCH', kind: 'rule', field: 'referralId' });
  });

  it.each([
    ['the sender', ngoCaseworker],
    ['a third agency', shelterCaseworker],
  ])('is refused to %s', (_who, actor) => {
    given(referralMade)
      .when(acknowledge(actor))
      .thenThrows({ code: 'REFERRAL.NOT_ADDRESSED_TO_YOU', kind: 'forbidden' });
  });

  it('requires the caseworker role', () => {
    given(referralMade)
      .when(acknowledge({ ...healthCaseworker, roles: ['break-glass'] }))
      .thenThrows({ code: 'REFERRAL.CASEWORKER_ONLY', kind: 'forbidden' });
  });

  it.each([
    ['already acknowledged', [referralMade, acknowledged]],
    ['accepted', [referralMade, acknowledged, accepted]],
    ['declined', [referralMade, acknowledged, declined]],
    ['withdrawn', [referralMade, withdrawn]],
  ])('is refused when %s', (_state, history) => {
    given(...history)
      .when(acknowledge())
      .thenThrows({ code: 'REFERRAL.WRONG_STATE', kind: 'conflict' });
  });
});

// --- AcceptReferral ----------------------------------------------------------------------------

describe('AcceptReferral', () => {
  it('records that the receiving agency takes the person on', () => {
    given(referralMade, acknowledged).when(accept()).then([accepted]);
  });

  it('can be accepted after escalation', () => {
    given(referralMade, escalated, acknowledged).when(accept()).then([accepted]);
  });

  it('must be acknowledged first', () => {
    given(referralMade).when(accept()).thenThrows({ code: 'REFERRAL.NOT_ACKNOWLEDGED', kind: 'conflict' });
  });

  it.each([
    ['accepted', [referralMade, acknowledged, accepted]],
    ['declined', [referralMade, acknowledged, declined]],
    ['completed', [referralMade, acknowledged, accepted, completed]],
    ['withdrawn', [referralMade, acknowledged, withdrawn]],
  ])('is refused when already %s', (_state, history) => {
    given(...history)
      .when(accept())
      .thenThrows({ code: 'REFERRAL.WRONG_STATE', kind: 'conflict' });
  });

  it('is refused to anyone but the receiver', () => {
    given(referralMade, acknowledged)
      .when(accept(ngoCaseworker))
      .thenThrows({ code: 'REFERRAL.NOT_ADDRESSED_TO_YOU', kind: 'forbidden' });
  });

  it('is not found when nothing has been made', () => {
    given().when(accept()).thenThrows({ code: 'REFERRAL.NOT_FOUND', kind: 'not-found', field: 'referralId' });
  });
});

// --- DeclineReferral ---------------------------------------------------------------------------

describe('DeclineReferral', () => {
  it('records the refusal with its reason', () => {
    given(referralMade, acknowledged).when(decline('out-of-area')).then([declined]);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
  ])('requires a reason (%s)', (_how, reason) => {
    given(referralMade, acknowledged)
      .when({ ...decline(), data: { referralId: 'ref-1', reason } as unknown as DeclineReferral['data'] })
      .thenThrows({ code: 'REFERRAL.REASON_REQUIRED', kind: 'rule', field: 'reason' });
  });

  it('refuses a reason that is not on the list', () => {
    given(referralMade, acknowledged)
      .when(decline('too-busy' as unknown as DeclineReferral['data']['reason']))
      .thenThrows({ code: 'REFERRAL.INVALID_VALUE', kind: 'rule', field: 'reason' });
  });

  it('must be acknowledged first', () => {
    given(referralMade).when(decline()).thenThrows({ code: 'REFERRAL.NOT_ACKNOWLEDGED', kind: 'conflict' });
  });

  it('cannot decline what was already accepted', () => {
    given(referralMade, acknowledged, accepted)
      .when(decline())
      .thenThrows({ code: 'REFERRAL.WRONG_STATE', kind: 'conflict' });
  });

  it('is refused to anyone but the receiver', () => {
    given(referralMade, acknowledged)
      .when(decline('other', shelterCaseworker))
      .thenThrows({ code: 'REFERRAL.NOT_ADDRESSED_TO_YOU', kind: 'forbidden' });
  });
});

// --- CompleteHandoff ---------------------------------------------------------------------------

describe('CompleteHandoff', () => {
  it('records that the person reached the agency that accepted', () => {
    given(referralMade, acknowledged, accepted).when(complete()).then([completed]);
  });

  it.each([
    ['the sender', ngoCaseworker],
    ['a third agency', shelterCaseworker],
  ])('is refused to %s', (_who, actor) => {
    given(referralMade, acknowledged, accepted)
      .when(complete(actor))
      .thenThrows({ code: 'REFERRAL.NOT_ACCEPTED_BY_YOU', kind: 'forbidden' });
  });

  it.each([
    ['only made', [referralMade]],
    ['only acknowledged', [referralMade, acknowledged]],
    ['declined', [referralMade, acknowledged, declined]],
    ['already completed', [referralMade, acknowledged, accepted, completed]],
    ['withdrawn after acceptance', [referralMade, acknowledged, accepted, withdrawn]],
  ])('is refused when %s', (_state, history) => {
    given(...history)
      .when(complete())
      .thenThrows({ code: 'REFERRAL.WRONG_STATE', kind: 'conflict' });
  });

  it('requires the caseworker role', () => {
    given(referralMade, acknowledged, accepted)
      .when(complete({ ...healthCaseworker, roles: [] }))
      .thenThrows({ code: 'REFERRAL.CASEWORKER_ONLY', kind: 'forbidden' });
  });
});

// --- WithdrawReferral --------------------------------------------------------------------------

describe('WithdrawReferral', () => {
  it.each([
    ['made', [referralMade]],
    ['acknowledged', [referralMade, acknowledged]],
    ['accepted', [referralMade, acknowledged, accepted]],
    ['escalated', [referralMade, escalated]],
  ])('lets the sender withdraw while %s', (_state, history) => {
    given(...history)
      .when(withdraw('sent-in-error'))
      .then([withdrawn]);
  });

  it.each([
    ['the receiver', healthCaseworker],
    ['a third agency', shelterCaseworker],
  ])('is refused to %s', (_who, actor) => {
    given(referralMade)
      .when(withdraw('other', actor))
      .thenThrows({ code: 'REFERRAL.NOT_YOUR_REFERRAL', kind: 'forbidden' });
  });

  it.each([
    ['declined', [referralMade, acknowledged, declined]],
    ['completed', [referralMade, acknowledged, accepted, completed]],
    ['withdrawn', [referralMade, withdrawn]],
  ])('is refused once %s', (_state, history) => {
    given(...history)
      .when(withdraw())
      .thenThrows({ code: 'REFERRAL.WRONG_STATE', kind: 'conflict' });
  });

  it('requires a reason', () => {
    given(referralMade)
      .when(withdraw('' as unknown as WithdrawReferral['data']['reason']))
      .thenThrows({ code: 'REFERRAL.REASON_REQUIRED', kind: 'rule', field: 'reason' });
  });

  it('is not found when nothing has been made', () => {
    given()
      .when(withdraw())
      .thenThrows({ code: 'REFERRAL.NOT_FOUND', kind: 'not-found', field: 'referralId' });
  });
});

// --- EscalateReferral --------------------------------------------------------------------------

describe('EscalateReferral', () => {
  it('lets the national coordinator escalate an unanswered referral past its respond-by time', () => {
    given(referralMade).when(escalate()).then([escalated]);
  });

  it('can escalate an acknowledged referral that is still unanswered', () => {
    given(referralMade, acknowledged).when(escalate()).then([escalated]);
  });

  it('counts whole seconds overdue', () => {
    given(referralMade)
      .when(escalate(nationalCoordinator, '2026-03-03T09:00:00.999Z'))
      .then([
        {
          ...escalated,
          data: { ...escalated.data, escalatedAt: '2026-03-03T09:00:00.999Z', overdueSeconds: 0 },
        },
      ]);
  });

  it.each([
    ['before', BEFORE_RESPOND_BY],
    ['exactly at', RESPOND_BY],
  ])('is refused %s the respond-by time', (_when, now) => {
    given(referralMade)
      .when(escalate(nationalCoordinator, now))
      .thenThrows({ code: 'REFERRAL.NOT_OVERDUE', kind: 'rule' });
  });

  it('happens at most once', () => {
    given(referralMade, escalated)
      .when(escalate())
      .thenThrows({ code: 'REFERRAL.ALREADY_ESCALATED', kind: 'conflict' });
  });

  it.each<[string, Actor]>([
    ['a caseworker of the coordinator', { ...nationalCoordinator, roles: ['caseworker'] }],
    ['a coordinator role outside the national coordinator', { ...ngoCaseworker, roles: ['coordinator'] }],
    ['the oversight body', oversightOfficer],
  ])('is refused to %s', (_who, actor) => {
    given(referralMade)
      .when(escalate(actor))
      .thenThrows({ code: 'REFERRAL.COORDINATOR_ONLY', kind: 'forbidden' });
  });

  it.each([
    ['accepted', [referralMade, acknowledged, accepted]],
    ['declined', [referralMade, acknowledged, declined]],
    ['completed', [referralMade, acknowledged, accepted, completed]],
    ['withdrawn', [referralMade, withdrawn]],
  ])('is refused once %s', (_state, history) => {
    given(...history)
      .when(escalate())
      .thenThrows({ code: 'REFERRAL.WRONG_STATE', kind: 'conflict' });
  });

  it('is not found when nothing has been made', () => {
    given()
      .when(escalate())
      .thenThrows({ code: 'REFERRAL.NOT_FOUND', kind: 'not-found', field: 'referralId' });
  });
});

// --- the whole lifecycle and the queries ---------------------------------------------------------

describe('lifecycle', () => {
  it('goes made → escalated → acknowledged → accepted → handoff completed', () => {
    const history: ReferralEvent[] = [];
    const run = (command: ReferralCommand) => {
      const events = referralDecider.decide(command, fold(referralDecider, history));
      history.push(...events);
      return fold(referralDecider, history);
    };

    let state = run(make());
    expect(state.status).toBe('made');
    expect(isOverdue(state, BEFORE_RESPOND_BY)).toBe(false);
    expect(isOverdue(state, AFTER_RESPOND_BY)).toBe(true);

    state = run(escalate());
    expect(state).toMatchObject({ status: 'made', escalated: true, escalatedAt: AFTER_RESPOND_BY });

    state = run(acknowledge(healthCaseworker, AFTER_RESPOND_BY));
    expect(state).toMatchObject({
      status: 'acknowledged',
      escalated: true,
      acknowledgedAt: AFTER_RESPOND_BY,
    });
    expect(isOverdue(state, AFTER_RESPOND_BY)).toBe(true);

    state = run(accept(healthCaseworker, AFTER_RESPOND_BY));
    expect(state).toMatchObject({ status: 'accepted', acceptedByAgencyId: HEALTH });
    expect(isOpen(state)).toBe(true);
    expect(isOverdue(state, AFTER_RESPOND_BY)).toBe(false);

    state = run(complete());
    expect(state).toMatchObject({
      status: 'completed',
      madeAt: MADE_AT,
      acknowledgedAt: AFTER_RESPOND_BY,
      acceptedAt: AFTER_RESPOND_BY,
      completedAt: AFTER_RESPOND_BY,
      acceptedByAgencyId: HEALTH,
    });
    expect(isOpen(state)).toBe(false);
    expect(partiesOf(state)).toEqual({ fromAgencyId: NGO, toAgencyId: HEALTH });
    expect(history.map((e) => e.type)).toEqual([
      'ReferralMade',
      'ReferralEscalated',
      'ReferralAcknowledged',
      'ReferralAccepted',
      'HandoffCompleted',
    ]);
    for (const event of history) {
      expect(REFERRAL_EVENT_TYPES).toContain(event.type);
      expect(event.schemaVersion).toBe(1);
      expect(JSON.parse(JSON.stringify(event))).toEqual(event);
    }
  });
});

describe('queries', () => {
  const stateAfter = (...history: ReferralEvent[]): ReferralState => fold(referralDecider, history);

  it.each([
    ['nothing made', [], false],
    ['made', [referralMade], true],
    ['acknowledged', [referralMade, acknowledged], true],
    ['accepted', [referralMade, acknowledged, accepted], true],
    ['declined', [referralMade, acknowledged, declined], false],
    ['completed', [referralMade, acknowledged, accepted, completed], false],
    ['withdrawn', [referralMade, withdrawn], false],
  ] as Array<[string, ReferralEvent[], boolean]>)('isOpen when %s is %s', (_status, history, open) => {
    expect(isOpen(stateAfter(...history))).toBe(open);
  });

  it('is overdue only while unanswered and strictly after respond-by', () => {
    expect(isOverdue(stateAfter(), AFTER_RESPOND_BY)).toBe(false);
    expect(isOverdue(stateAfter(referralMade), RESPOND_BY)).toBe(false);
    expect(isOverdue(stateAfter(referralMade), AFTER_RESPOND_BY)).toBe(true);
    expect(isOverdue(stateAfter(referralMade, acknowledged, declined), AFTER_RESPOND_BY)).toBe(false);
    expect(isOverdue(stateAfter(referralMade, withdrawn), AFTER_RESPOND_BY)).toBe(false);
  });

  it('names the parties once made', () => {
    expect(partiesOf(stateAfter())).toBeUndefined();
    expect(partiesOf(stateAfter(referralMade, withdrawn))).toEqual({ fromAgencyId: NGO, toAgencyId: HEALTH });
  });

  it('keeps what was known when a referral is withdrawn after acceptance', () => {
    expect(stateAfter(referralMade, acknowledged, accepted, withdrawn)).toMatchObject({
      status: 'withdrawn',
      acceptedByAgencyId: HEALTH,
      withdrawReason: 'sent-in-error',
    });
  });

  it('ignores an event that does not fit the state', () => {
    expect(stateAfter(referralMade, completed)).toEqual(stateAfter(referralMade));
  });
});

describe('referralStream', () => {
  it('names one stream per referral', () => {
    expect(referralStream('ref-1')).toBe('referral-ref-1');
  });
});
