import {
  AGENCY_KINDS,
  DomainError,
  fold,
  type Actor,
  type AgencyKind,
  type DomainErrorKind,
} from '@nrm/shared-kernel';
import { addDays, daysBetween, fromEpochDay, isCalendarDate, toEpochDay, utcDateOf } from './calendar-date';
import type {
  AgreeSupportPlan,
  CloseSupportCase,
  EndReflectionPeriod,
  ExtendReflectionPeriod,
  RecordServiceProvided,
  StartReflectionPeriod,
  SupportCommand,
} from './commands';
import {
  MAX_BACKDATING_DAYS,
  MIN_REFLECTION_DAYS,
  SUPPORT_EVENT_TYPES,
  isClosed,
  reflectionPeriodOf,
  supportDecider,
  supportStream,
  type SupportEvent,
} from './index';

// ---- helpers -------------------------------------------------------------------------------

const CASE = 'case-7f3a';
const NOW = '2025-03-10T09:00:00Z'; // today = 2025-03-10

const actor = (overrides: Partial<Actor> = {}): Actor => ({
  principalId: 'principal-1',
  agencyId: 'ngo-1',
  agencyKind: 'ngo',
  roles: ['caseworker'],
  ...overrides,
});
const meta = (now = NOW, who: Actor = actor()) => ({ actor: who, now });

const start = (
  data: Partial<StartReflectionPeriod['data']> = {},
  now = NOW,
  who?: Actor,
): StartReflectionPeriod => ({
  type: 'StartReflectionPeriod',
  data: { caseId: CASE, startsOn: '2025-03-10', days: 30, reasonableGroundsPositive: true, ...data },
  metadata: meta(now, who),
});
const extend = (additionalDays: number, now = NOW, who?: Actor): ExtendReflectionPeriod => ({
  type: 'ExtendReflectionPeriod',
  data: { caseId: CASE, additionalDays },
  metadata: meta(now, who),
});
const end = (reason: EndReflectionPeriod['data']['reason'], now = NOW, who?: Actor): EndReflectionPeriod => ({
  type: 'EndReflectionPeriod',
  data: { caseId: CASE, reason },
  metadata: meta(now, who),
});
const agree = (data: Partial<AgreeSupportPlan['data']> = {}, now = NOW, who?: Actor): AgreeSupportPlan => ({
  type: 'AgreeSupportPlan',
  data: {
    caseId: CASE,
    planId: 'plan-1',
    services: ['accommodation', 'medical'],
    reviewOn: '2025-04-10',
    ...data,
  },
  metadata: meta(now, who),
});
const provide = (
  data: Partial<RecordServiceProvided['data']> = {},
  now = NOW,
  who?: Actor,
): RecordServiceProvided => ({
  type: 'RecordServiceProvided',
  data: { caseId: CASE, serviceType: 'accommodation', providedOn: '2025-03-10', ...data },
  metadata: meta(now, who),
});
const close = (
  outcome: CloseSupportCase['data']['outcome'] = 'integrated',
  now = NOW,
  who?: Actor,
): CloseSupportCase => ({
  type: 'CloseSupportCase',
  data: { caseId: CASE, outcome },
  metadata: meta(now, who),
});

// Events as they appear in a history.
const started = (startsOn = '2025-03-10', days = 30, endsOn = addDays(startsOn, days)): SupportEvent => ({
  type: 'ReflectionPeriodStarted',
  schemaVersion: 1,
  data: { caseId: CASE, startsOn, endsOn, days, startedByAgencyId: 'ngo-1', startedAt: NOW },
});
const extended = (previousEndsOn: string, additionalDays: number): SupportEvent => ({
  type: 'ReflectionPeriodExtended',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    additionalDays,
    previousEndsOn,
    endsOn: addDays(previousEndsOn, additionalDays),
    extendedByAgencyId: 'ngo-1',
    extendedAt: NOW,
  },
});
const ended = (endedOn = '2025-03-20'): SupportEvent => ({
  type: 'ReflectionPeriodEnded',
  schemaVersion: 1,
  data: { caseId: CASE, reason: 'person-decision', endedOn, endedByAgencyId: 'ngo-1', endedAt: NOW },
});
const planAgreed = (planId = 'plan-1'): SupportEvent => ({
  type: 'SupportPlanAgreed',
  schemaVersion: 1,
  data: {
    caseId: CASE,
    planId,
    services: ['accommodation'],
    reviewOn: '2025-04-10',
    agreedByAgencyId: 'ngo-1',
    agreedAt: NOW,
  },
});
const closed = (): SupportEvent => ({
  type: 'SupportCaseClosed',
  schemaVersion: 1,
  data: { caseId: CASE, outcome: 'integrated', closedByAgencyId: 'ngo-1', closedAt: NOW },
});

/** given(history).when(command).then(events) / .thenThrows(code, kind, field) */
const given = (...history: SupportEvent[]) => ({
  when: (command: SupportCommand) => {
    const run = () => supportDecider.decide(command, fold(supportDecider, history));
    return {
      then: (expected: readonly SupportEvent[]) => expect(run()).toEqual(expected),
      thenThrows: (code: string, kind: DomainErrorKind, field?: string) => {
        let thrown: unknown;
        try {
          run();
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(DomainError);
        const error = thrown as DomainError;
        expect({ code: error.code, kind: error.kind, field: error.field }).toEqual({ code, kind, field });
        expect(error.message).not.toContain(CASE); // messages carry no identifiers of the person's case
      },
    };
  },
});

const decideAll = (commands: readonly SupportCommand[]): SupportEvent[] => {
  const history: SupportEvent[] = [];
  for (const command of commands) {
    history.push(...supportDecider.decide(command, fold(supportDecider, history)));
  }
  return history;
};

// One command of each type, valid on a case with an active reflection period where it matters.
const oneOfEach: readonly SupportCommand[] = [
  start(),
  extend(10),
  end('person-decision'),
  agree(),
  provide(),
  close(),
];

// ---- the whole lifecycle -------------------------------------------------------------------

describe('support lifecycle', () => {
  it('starts, extends and ends a reflection period, agrees plans, records services, then closes', () => {
    const shelter = actor({ agencyId: 'shelter-2', agencyKind: 'shelter' });
    const events = decideAll([
      start({ startsOn: '2025-03-08', days: 45 }, '2025-03-10T09:00:00Z'),
      agree(
        { planId: 'plan-1', services: ['accommodation', 'psychological'], reviewOn: '2025-04-01' },
        '2025-03-11T10:00:00Z',
      ),
      provide({ serviceType: 'accommodation', providedOn: '2025-03-11' }, '2025-03-11T18:00:00Z', shelter),
      extend(20, '2025-04-15T08:00:00Z'),
      agree(
        {
          planId: 'plan-2',
          services: ['language-training', 'employment-counselling'],
          reviewOn: '2025-06-01',
        },
        '2025-04-16T08:00:00Z',
      ),
      end('elapsed', '2025-05-12T08:00:00Z'),
      provide({ serviceType: 'language-training', providedOn: '2025-05-20' }, '2025-05-21T08:00:00Z'),
      close('integrated', '2025-07-01T12:00:00Z'),
    ]);

    expect(events).toEqual([
      {
        type: 'ReflectionPeriodStarted',
        schemaVersion: 1,
        data: {
          caseId: CASE,
          startsOn: '2025-03-08',
          endsOn: '2025-04-22',
          days: 45,
          startedByAgencyId: 'ngo-1',
          startedAt: '2025-03-10T09:00:00Z',
        },
      },
      {
        type: 'SupportPlanAgreed',
        schemaVersion: 1,
        data: {
          caseId: CASE,
          planId: 'plan-1',
          services: ['accommodation', 'psychological'],
          reviewOn: '2025-04-01',
          agreedByAgencyId: 'ngo-1',
          agreedAt: '2025-03-11T10:00:00Z',
        },
      },
      {
        type: 'SupportServiceProvided',
        schemaVersion: 1,
        data: {
          caseId: CASE,
          serviceType: 'accommodation',
          providedOn: '2025-03-11',
          providedByAgencyId: 'shelter-2',
          recordedAt: '2025-03-11T18:00:00Z',
        },
      },
      {
        type: 'ReflectionPeriodExtended',
        schemaVersion: 1,
        data: {
          caseId: CASE,
          additionalDays: 20,
          previousEndsOn: '2025-04-22',
          endsOn: '2025-05-12',
          extendedByAgencyId: 'ngo-1',
          extendedAt: '2025-04-15T08:00:00Z',
        },
      },
      {
        type: 'SupportPlanAgreed',
        schemaVersion: 1,
        data: {
          caseId: CASE,
          planId: 'plan-2',
          services: ['language-training', 'employment-counselling'],
          reviewOn: '2025-06-01',
          agreedByAgencyId: 'ngo-1',
          agreedAt: '2025-04-16T08:00:00Z',
        },
      },
      {
        type: 'ReflectionPeriodEnded',
        schemaVersion: 1,
        data: {
          caseId: CASE,
          reason: 'elapsed',
          endedOn: '2025-05-12',
          endedByAgencyId: 'ngo-1',
          endedAt: '2025-05-12T08:00:00Z',
        },
      },
      {
        type: 'SupportServiceProvided',
        schemaVersion: 1,
        data: {
          caseId: CASE,
          serviceType: 'language-training',
          providedOn: '2025-05-20',
          providedByAgencyId: 'ngo-1',
          recordedAt: '2025-05-21T08:00:00Z',
        },
      },
      {
        type: 'SupportCaseClosed',
        schemaVersion: 1,
        data: {
          caseId: CASE,
          outcome: 'integrated',
          closedByAgencyId: 'ngo-1',
          closedAt: '2025-07-01T12:00:00Z',
        },
      },
    ]);

    const state = fold(supportDecider, events);
    expect(state).toEqual({
      status: 'closed',
      outcome: 'integrated',
      closedByAgencyId: 'ngo-1',
      closedAt: '2025-07-01T12:00:00Z',
      reflection: {
        status: 'ended',
        startsOn: '2025-03-08',
        endsOn: '2025-05-12',
        endedOn: '2025-05-12',
        reason: 'elapsed',
      },
      currentPlan: {
        planId: 'plan-2',
        services: ['language-training', 'employment-counselling'],
        reviewOn: '2025-06-01',
        agreedByAgencyId: 'ngo-1',
        agreedAt: '2025-04-16T08:00:00Z',
      },
      agreedPlanIds: ['plan-1', 'plan-2'],
      servicesProvided: [
        { serviceType: 'accommodation', providedOn: '2025-03-11', providedByAgencyId: 'shelter-2' },
        { serviceType: 'language-training', providedOn: '2025-05-20', providedByAgencyId: 'ngo-1' },
      ],
    });
    expect(isClosed(state)).toBe(true);
  });

  it('a new case is open with nothing recorded', () => {
    const state = supportDecider.initialState();
    expect(state).toEqual({
      status: 'open',
      reflection: { status: 'none' },
      currentPlan: null,
      agreedPlanIds: [],
      servicesProvided: [],
    });
    expect(isClosed(state)).toBe(false);
    expect(reflectionPeriodOf(state)).toEqual({ status: 'none' });
  });

  it('reflectionPeriodOf reports an active period with its total length after extensions', () => {
    const state = fold(supportDecider, [started('2025-03-10', 30), extended('2025-04-09', 15)]);
    expect(reflectionPeriodOf(state)).toEqual({
      status: 'active',
      startsOn: '2025-03-10',
      endsOn: '2025-04-24',
      days: 45,
    });
  });
});

// ---- support never depends on cooperation with an investigation ----------------------------

describe('support without any law-enforcement involvement', () => {
  /*
   * EU Directive 2011/36, art. 11(3): assistance and support must not be made conditional on the
   * person's willingness to cooperate in the criminal investigation, prosecution or trial. So no
   * command has a field or precondition about cooperation, and a case on which no police or
   * prosecution ever acted gets a reflection period, a plan and services like any other.
   */
  it('starts a reflection period, agrees a plan and provides services where law enforcement took no part', () => {
    const ngo = actor({ agencyId: 'ngo-9', agencyKind: 'ngo' });
    const health = actor({ agencyId: 'clinic-3', agencyKind: 'health' });
    const commands: SupportCommand[] = [
      start({}, NOW, ngo),
      agree({ services: ['medical', 'psychological', 'legal'] }, NOW, ngo),
      provide({ serviceType: 'medical' }, NOW, health),
      provide({ serviceType: 'psychological' }, NOW, ngo),
    ];
    const events = decideAll(commands);

    expect(events.map((event) => event.type)).toEqual([
      'ReflectionPeriodStarted',
      'SupportPlanAgreed',
      'SupportServiceProvided',
      'SupportServiceProvided',
    ]);
    const state = fold(supportDecider, events);
    expect(reflectionPeriodOf(state)).toMatchObject({ status: 'active', endsOn: '2025-04-09' });
    expect(state.servicesProvided.map((record) => record.providedByAgencyId)).toEqual(['clinic-3', 'ngo-9']);
    // Nothing in what was asked or recorded speaks of cooperation, police or prosecution.
    const vocabulary = JSON.stringify([commands.map((command) => command.data), events]);
    expect(vocabulary).not.toMatch(/cooperat|police|prosecut|investigat|law-enforcement/i);
  });
});

// ---- who may act ---------------------------------------------------------------------------

describe('who may record support', () => {
  it.each(oneOfEach.map((command) => [command.type, command] as const))(
    '%s needs the caseworker role',
    (_type, command) => {
      const notACaseworker = {
        ...command,
        metadata: meta(NOW, actor({ roles: ['decision-maker', 'break-glass'] })),
      };
      given(started('2025-03-10')).when(notACaseworker).thenThrows('SUPPORT.NOT_A_CASEWORKER', 'forbidden');
    },
  );

  it.each(oneOfEach.map((command) => [command.type, command] as const))(
    '%s is refused to an oversight body, even to its caseworkers',
    (_type, command) => {
      const oversight = actor({
        agencyId: 'dpa-1',
        agencyKind: 'oversight-body',
        roles: ['caseworker', 'oversight'],
      });
      given(started('2025-03-10'))
        .when({ ...command, metadata: meta(NOW, oversight) })
        .thenThrows('SUPPORT.OVERSIGHT_CANNOT_RECORD', 'forbidden');
    },
  );

  it.each(AGENCY_KINDS.filter((kind) => kind !== 'oversight-body'))(
    'a caseworker of a %s agency may start a reflection period',
    (agencyKind: AgencyKind) => {
      const who = actor({ agencyId: `${agencyKind}-1`, agencyKind });
      const [event] = supportDecider.decide(start({}, NOW, who), supportDecider.initialState());
      expect(event).toMatchObject({
        type: 'ReflectionPeriodStarted',
        data: { startedByAgencyId: `${agencyKind}-1` },
      });
    },
  );
});

// ---- after closure -------------------------------------------------------------------------

describe('a closed case', () => {
  it.each(oneOfEach.map((command) => [command.type, command] as const))('refuses %s', (_type, command) => {
    given(started('2025-02-01'), ended('2025-03-05'), closed())
      .when(command)
      .thenThrows('SUPPORT.CASE_CLOSED', 'conflict');
  });

  it('still refuses a non-caseworker as forbidden first', () => {
    given(closed())
      .when(provide({}, NOW, actor({ roles: [] })))
      .thenThrows('SUPPORT.NOT_A_CASEWORKER', 'forbidden');
  });
});

describe('every command names its case', () => {
  it.each(['', '   '])('refuses the case id %j', (caseId) => {
    given().when(provide({ caseId })).thenThrows('SUPPORT.INVALID_CASE_ID', 'rule', 'caseId');
  });
});

// ---- StartReflectionPeriod -----------------------------------------------------------------

describe('StartReflectionPeriod', () => {
  it('records the period with its end date startsOn + days', () => {
    given()
      .when(start({ startsOn: '2025-03-01', days: 30 }))
      .then([
        {
          type: 'ReflectionPeriodStarted',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            startsOn: '2025-03-01',
            endsOn: '2025-03-31',
            days: 30,
            startedByAgencyId: 'ngo-1',
            startedAt: NOW,
          },
        },
      ]);
  });

  it('counts across a leap day', () => {
    const [event] = supportDecider.decide(
      start({ startsOn: '2024-02-15', days: 30 }, '2024-02-20T10:00:00Z'),
      supportDecider.initialState(),
    );
    expect(event?.data).toMatchObject({ startsOn: '2024-02-15', endsOn: '2024-03-16' });
  });

  it.each([29, 1, 0, -30])('refuses %d days: below the 30-day legal minimum', (days) => {
    given().when(start({ days })).thenThrows('SUPPORT.REFLECTION_TOO_SHORT', 'rule', 'days');
  });

  it('cites the 30-day legal minimum in its message', () => {
    expect(() => supportDecider.decide(start({ days: 29 }), supportDecider.initialState())).toThrow(
      /at least 30.*legal minimum/,
    );
  });

  it.each([30.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d days: not a whole number', (days) => {
    given().when(start({ days })).thenThrows('SUPPORT.REFLECTION_TOO_SHORT', 'rule', 'days');
  });

  it(`accepts exactly ${MIN_REFLECTION_DAYS} days`, () => {
    expect(MIN_REFLECTION_DAYS).toBe(30);
    expect(supportDecider.decide(start({ days: 30 }), supportDecider.initialState())).toHaveLength(1);
  });

  it('refuses a length that would end after the year 9999', () => {
    given()
      .when(start({ days: 3_000_000 }))
      .thenThrows('SUPPORT.END_DATE_OUT_OF_RANGE', 'rule', 'days');
  });

  it.each(['2025-02-29', '2025-13-01', '2025-3-1', '10.03.2025', '2025-03-10T00:00:00Z', ''])(
    'refuses the start date %j',
    (startsOn) => {
      given().when(start({ startsOn })).thenThrows('SUPPORT.INVALID_DATE', 'rule', 'startsOn');
    },
  );

  it('refuses without a positive reasonable-grounds decision', () => {
    given()
      .when(start({ reasonableGroundsPositive: false }))
      .thenThrows('SUPPORT.NO_REFLECTION_ENTITLEMENT', 'rule', 'reasonableGroundsPositive');
  });

  it('refuses a second period while one is active', () => {
    given(started('2025-03-01')).when(start()).thenThrows('SUPPORT.REFLECTION_ALREADY_STARTED', 'conflict');
  });

  it('refuses a second period after the first ended', () => {
    given(started('2025-02-01'), ended('2025-03-05'))
      .when(start())
      .thenThrows('SUPPORT.REFLECTION_ALREADY_STARTED', 'conflict');
  });

  it(`accepts a start recorded ${MAX_BACKDATING_DAYS} days late`, () => {
    expect(MAX_BACKDATING_DAYS).toBe(30);
    const [event] = supportDecider.decide(start({ startsOn: '2025-02-08' }), supportDecider.initialState());
    expect(event?.data).toMatchObject({ startsOn: '2025-02-08', endsOn: '2025-03-10' });
  });

  it('refuses a start before the day of the positive reasonable-grounds decision, and accepts that day', () => {
    given()
      .when(start({ startsOn: '2025-03-01', entitledSince: '2025-03-02' }))
      .thenThrows('SUPPORT.START_BEFORE_ENTITLEMENT', 'rule', 'startsOn');
    const [event] = supportDecider.decide(
      start({ startsOn: '2025-03-02', entitledSince: '2025-03-02' }),
      supportDecider.initialState(),
    );
    expect(event?.data).toMatchObject({ startsOn: '2025-03-02' });
  });

  it('refuses a start more than 30 days before today', () => {
    given()
      .when(start({ startsOn: '2025-02-07' }))
      .thenThrows('SUPPORT.START_TOO_EARLY', 'rule', 'startsOn');
  });

  it('refuses a start after today', () => {
    given()
      .when(start({ startsOn: '2025-03-11' }))
      .thenThrows('SUPPORT.START_IN_FUTURE', 'rule', 'startsOn');
  });

  it('takes today as the UTC date of now', () => {
    // 23:30 at UTC-02:00 on 10 March is 01:30 UTC on 11 March.
    const [event] = supportDecider.decide(
      start({ startsOn: '2025-03-11' }, '2025-03-10T23:30:00-02:00'),
      supportDecider.initialState(),
    );
    expect(event?.data).toMatchObject({ startsOn: '2025-03-11', startedAt: '2025-03-10T23:30:00-02:00' });
  });
});

// ---- ExtendReflectionPeriod ----------------------------------------------------------------

describe('ExtendReflectionPeriod', () => {
  it('moves the end date forward and records the previous one', () => {
    given(started('2025-03-01', 30))
      .when(extend(14))
      .then([
        {
          type: 'ReflectionPeriodExtended',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            additionalDays: 14,
            previousEndsOn: '2025-03-31',
            endsOn: '2025-04-14',
            extendedByAgencyId: 'ngo-1',
            extendedAt: NOW,
          },
        },
      ]);
  });

  it('extends from the latest end date after an earlier extension', () => {
    given(started('2025-03-01', 30), extended('2025-03-31', 14))
      .when(extend(1))
      .then([
        expect.objectContaining({
          data: expect.objectContaining({ previousEndsOn: '2025-04-14', endsOn: '2025-04-15' }) as unknown,
        }) as SupportEvent,
      ]);
  });

  it('extends a period whose end date has passed but which was not yet ended', () => {
    const [event] = supportDecider.decide(
      extend(10, '2025-05-01T09:00:00Z'),
      fold(supportDecider, [started('2025-03-01', 30)]),
    );
    expect(event?.data).toMatchObject({ previousEndsOn: '2025-03-31', endsOn: '2025-04-10' });
  });

  it.each([0, -5, 1.5, Number.NaN])('refuses %d additional days', (additionalDays) => {
    given(started())
      .when(extend(additionalDays))
      .thenThrows('SUPPORT.INVALID_EXTENSION', 'rule', 'additionalDays');
  });

  it('refuses when no period was started', () => {
    given().when(extend(10)).thenThrows('SUPPORT.NO_ACTIVE_REFLECTION', 'conflict');
  });

  it('refuses when the period has ended', () => {
    given(started('2025-02-01'), ended('2025-03-05'))
      .when(extend(10))
      .thenThrows('SUPPORT.NO_ACTIVE_REFLECTION', 'conflict');
  });

  it('refuses an extension that would end after the year 9999', () => {
    given(started())
      .when(extend(3_000_000))
      .thenThrows('SUPPORT.END_DATE_OUT_OF_RANGE', 'rule', 'additionalDays');
  });
});

// ---- EndReflectionPeriod -------------------------------------------------------------------

describe('EndReflectionPeriod', () => {
  const active = started('2025-03-01', 30); // ends on 2025-03-31

  it("ends as 'elapsed' on its end date, dated today", () => {
    given(active)
      .when(end('elapsed', '2025-03-31T07:00:00Z'))
      .then([
        {
          type: 'ReflectionPeriodEnded',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            reason: 'elapsed',
            endedOn: '2025-03-31',
            endedByAgencyId: 'ngo-1',
            endedAt: '2025-03-31T07:00:00Z',
          },
        },
      ]);
  });

  it("refuses 'elapsed' the day before its end date", () => {
    given(active)
      .when(end('elapsed', '2025-03-30T23:59:59Z'))
      .thenThrows('SUPPORT.REFLECTION_NOT_ELAPSED', 'rule', 'reason');
  });

  it("refuses 'elapsed' before the extended end date", () => {
    given(active, extended('2025-03-31', 10))
      .when(end('elapsed', '2025-04-05T09:00:00Z'))
      .thenThrows('SUPPORT.REFLECTION_NOT_ELAPSED', 'rule', 'reason');
  });

  it("refuses 'other' before the end date: the authorities cannot cut it short", () => {
    given(active)
      .when(end('other', '2025-03-15T09:00:00Z'))
      .thenThrows('SUPPORT.EARLY_END_NOT_ALLOWED', 'rule', 'reason');
  });

  it("accepts 'other' once the end date is reached", () => {
    const [event] = supportDecider.decide(
      end('other', '2025-04-02T09:00:00Z'),
      fold(supportDecider, [active]),
    );
    expect(event?.data).toMatchObject({ reason: 'other', endedOn: '2025-04-02' });
  });

  it.each(['person-decision', 'residence-permit-granted'] as const)(
    'accepts %s before the end date',
    (reason) => {
      const [event] = supportDecider.decide(
        end(reason, '2025-03-05T09:00:00Z'),
        fold(supportDecider, [active]),
      );
      expect(event?.data).toMatchObject({ reason, endedOn: '2025-03-05' });
      const state = fold(supportDecider, [active, event!]);
      expect(reflectionPeriodOf(state)).toEqual({
        status: 'ended',
        startsOn: '2025-03-01',
        endsOn: '2025-03-31',
        endedOn: '2025-03-05',
        reason,
      });
    },
  );

  it('refuses an unknown reason', () => {
    given(active)
      .when(end('deported' as EndReflectionPeriod['data']['reason']))
      .thenThrows('SUPPORT.INVALID_END_REASON', 'rule', 'reason');
  });

  it('refuses when no period was started', () => {
    given().when(end('person-decision')).thenThrows('SUPPORT.NO_ACTIVE_REFLECTION', 'conflict');
  });

  it('refuses when the period already ended', () => {
    given(active, ended('2025-03-05'))
      .when(end('person-decision'))
      .thenThrows('SUPPORT.NO_ACTIVE_REFLECTION', 'conflict');
  });
});

// ---- AgreeSupportPlan ----------------------------------------------------------------------

describe('AgreeSupportPlan', () => {
  it('records the plan with its services and review date', () => {
    given()
      .when(agree({ planId: 'plan-a', services: ['interpretation', 'legal'], reviewOn: '2025-03-10' }))
      .then([
        {
          type: 'SupportPlanAgreed',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            planId: 'plan-a',
            services: ['interpretation', 'legal'],
            reviewOn: '2025-03-10',
            agreedByAgencyId: 'ngo-1',
            agreedAt: NOW,
          },
        },
      ]);
  });

  it('a later plan supersedes the earlier one', () => {
    const events = decideAll([
      agree({ planId: 'plan-1' }),
      agree({ planId: 'plan-2', services: ['education'] }),
    ]);
    const state = fold(supportDecider, events);
    expect(state.currentPlan).toMatchObject({ planId: 'plan-2', services: ['education'] });
  });

  it('refuses a plan id already used, even by a superseded plan', () => {
    given(planAgreed('plan-1'), planAgreed('plan-2'))
      .when(agree({ planId: 'plan-1' }))
      .thenThrows('SUPPORT.PLAN_ALREADY_AGREED', 'conflict', 'planId');
  });

  it('refuses a missing plan id', () => {
    given()
      .when(agree({ planId: ' ' }))
      .thenThrows('SUPPORT.INVALID_PLAN_ID', 'rule', 'planId');
  });

  it('refuses a plan without services', () => {
    given()
      .when(agree({ services: [] }))
      .thenThrows('SUPPORT.NO_SERVICES', 'rule', 'services');
  });

  it('refuses a service named twice', () => {
    given()
      .when(agree({ services: ['medical', 'legal', 'medical'] }))
      .thenThrows('SUPPORT.DUPLICATE_SERVICE', 'rule', 'services');
  });

  it('refuses an unknown service', () => {
    given()
      .when(agree({ services: ['medical', 'astrology'] as unknown as AgreeSupportPlan['data']['services'] }))
      .thenThrows('SUPPORT.UNKNOWN_SERVICE_TYPE', 'rule', 'services');
  });

  it('refuses a review date before today', () => {
    given()
      .when(agree({ reviewOn: '2025-03-09' }))
      .thenThrows('SUPPORT.REVIEW_IN_PAST', 'rule', 'reviewOn');
  });

  it('refuses a review date that is not a real date', () => {
    given()
      .when(agree({ reviewOn: '2025-04-31' }))
      .thenThrows('SUPPORT.INVALID_DATE', 'rule', 'reviewOn');
  });
});

// ---- RecordServiceProvided -----------------------------------------------------------------

describe('RecordServiceProvided', () => {
  it.each(['0000-01-01', '1899-12-31', '2025-02-29'])(
    'refuses the service date %j (issue #13)',
    (providedOn) => {
      given()
        .when(provide({ serviceType: 'medical', providedOn }))
        .thenThrows('SUPPORT.INVALID_DATE', 'rule', 'providedOn');
    },
  );

  it('records a service without any plan or reflection period: urgent help comes first', () => {
    given()
      .when(provide({ serviceType: 'medical', providedOn: '2025-03-09' }))
      .then([
        {
          type: 'SupportServiceProvided',
          schemaVersion: 1,
          data: {
            caseId: CASE,
            serviceType: 'medical',
            providedOn: '2025-03-09',
            providedByAgencyId: 'ngo-1',
            recordedAt: NOW,
          },
        },
      ]);
  });

  it('accepts a service provided today', () => {
    expect(
      supportDecider.decide(provide({ providedOn: '2025-03-10' }), supportDecider.initialState()),
    ).toHaveLength(1);
  });

  it('refuses a service dated after today', () => {
    given()
      .when(provide({ providedOn: '2025-03-11' }))
      .thenThrows('SUPPORT.SERVICE_IN_FUTURE', 'rule', 'providedOn');
  });

  it('refuses a date that is not a real date', () => {
    given()
      .when(provide({ providedOn: '2025-02-30' }))
      .thenThrows('SUPPORT.INVALID_DATE', 'rule', 'providedOn');
  });

  it('refuses an unknown service type', () => {
    given()
      .when(provide({ serviceType: 'massage' as RecordServiceProvided['data']['serviceType'] }))
      .thenThrows('SUPPORT.UNKNOWN_SERVICE_TYPE', 'rule', 'serviceType');
  });
});

// ---- CloseSupportCase ----------------------------------------------------------------------

describe('CloseSupportCase', () => {
  it('closes a case that never had a reflection period', () => {
    given()
      .when(close('lost-contact'))
      .then([
        {
          type: 'SupportCaseClosed',
          schemaVersion: 1,
          data: { caseId: CASE, outcome: 'lost-contact', closedByAgencyId: 'ngo-1', closedAt: NOW },
        },
      ]);
  });

  it('closes a case whose reflection period ended', () => {
    const state = fold(supportDecider, [started('2025-02-01'), ended('2025-03-05'), closed()]);
    expect(state).toMatchObject({ status: 'closed', outcome: 'integrated', closedAt: NOW });
  });

  it('refuses while a reflection period is active, so the legal minimum is never cut silently', () => {
    given(started('2025-03-01'))
      .when(close('returned-home'))
      .thenThrows('SUPPORT.REFLECTION_ACTIVE', 'conflict');
  });

  it('refuses while an elapsed period has not been ended explicitly', () => {
    given(started('2025-01-01'))
      .when(close('integrated', '2025-03-10T09:00:00Z'))
      .thenThrows('SUPPORT.REFLECTION_ACTIVE', 'conflict');
  });

  it('refuses an unknown outcome', () => {
    given()
      .when(close('vanished' as CloseSupportCase['data']['outcome']))
      .thenThrows('SUPPORT.INVALID_OUTCOME', 'rule', 'outcome');
  });
});

// ---- time and calendar ---------------------------------------------------------------------

describe('time', () => {
  it.each(['yesterday', '2025-03-10', '2025-03-10T09:00:00'])(
    'a now of %j is a fault of the calling system, not a refusal',
    (now) => {
      let thrown: unknown;
      try {
        supportDecider.decide(provide({}, now), supportDecider.initialState());
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect(thrown).not.toBeInstanceOf(DomainError);
    },
  );

  it('utcDateOf reads the UTC date of an instant with an offset', () => {
    expect(utcDateOf('2025-01-01T00:30:00+01:00')).toBe('2024-12-31');
    expect(utcDateOf('2024-12-31T23:30:00-01:00')).toBe('2025-01-01');
    expect(utcDateOf('2025-03-10T09:00:00.123Z')).toBe('2025-03-10');
  });

  it('calendar arithmetic agrees with Date.UTC over four centuries', () => {
    const MS_PER_DAY = 86_400_000;
    const mismatches: string[] = [];
    for (let day = toEpochDay('1900-01-01'); day <= toEpochDay('2300-12-31'); day += 3) {
      const expected = new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
      if (fromEpochDay(day) !== expected || toEpochDay(expected) !== day) mismatches.push(expected);
    }
    expect(mismatches).toEqual([]);
    expect(daysBetween('2024-02-28', '2024-03-01')).toBe(2);
    expect(daysBetween('2100-02-28', '2100-03-01')).toBe(1);
    expect(addDays('2000-02-28', 1)).toBe('2000-02-29');
  });

  it('isCalendarDate knows the leap years', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('2000-02-29')).toBe(true);
    expect(isCalendarDate('1900-02-29')).toBe(false);
    expect(isCalendarDate('2025-02-29')).toBe(false);
    expect(isCalendarDate('2025-00-10')).toBe(false);
    expect(isCalendarDate('2025-06-31')).toBe(false);
    expect(isCalendarDate(20250610)).toBe(false);
  });
});

// ---- public surface ------------------------------------------------------------------------

describe('public surface', () => {
  it('names one stream per case', () => {
    expect(supportStream('case-7f3a')).toBe('support-case-7f3a');
  });

  it('lists every event type once', () => {
    const everyType: Record<SupportEvent['type'], true> = {
      ReflectionPeriodStarted: true,
      ReflectionPeriodExtended: true,
      ReflectionPeriodEnded: true,
      SupportPlanAgreed: true,
      SupportServiceProvided: true,
      SupportCaseClosed: true,
    };
    expect([...SUPPORT_EVENT_TYPES].sort()).toEqual(Object.keys(everyType).sort());
  });
});
