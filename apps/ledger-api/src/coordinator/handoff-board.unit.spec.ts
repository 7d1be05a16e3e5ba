import type { ReferralDoc } from '@nrm/projections';
import {
  boardRow,
  decodeCursor,
  encodeCursor,
  handoffBoard,
  ReferralFold,
  type BoardRow,
} from './handoff-board';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function referral(id: string, overrides: Partial<ReferralDoc> = {}): ReferralDoc {
  return {
    referralId: id,
    caseId: `case-of-${id}`,
    fromAgencyId: 'clinic-a',
    toAgencyId: 'ngo-b',
    toAgencyKind: 'ngo',
    transnational: false,
    purpose: 'assistance',
    urgency: 'routine',
    respondBy: at(3600),
    servicesRequested: ['accommodation'],
    sharedCategories: ['case-status'],
    status: 'made',
    escalated: false,
    madeAt: at(0),
    ...overrides,
  };
}

describe('board rows', () => {
  it('carry the handoff and its times, never the case', () => {
    const row = boardRow(
      referral('r1', {
        status: 'completed',
        acknowledgedAt: at(30),
        acceptedAt: at(60),
        completedAt: at(90),
      }),
      at(100),
    );
    expect(row).toMatchObject({
      referralId: 'r1',
      fromAgencyId: 'clinic-a',
      toAgencyId: 'ngo-b',
      status: 'completed',
      secondsToAcknowledge: 30,
      secondsToHandoff: 90,
      overdue: false,
      escalated: false,
      escalatedAt: null,
    });
    expect(JSON.stringify(row)).not.toContain('case');
    expect(row).not.toHaveProperty('caseId');
    expect(row).not.toHaveProperty('sharedCategories');
  });

  it('are overdue only while awaiting an answer after the respond-by time', () => {
    const due = at(3600);
    expect(boardRow(referral('r', { respondBy: due }), at(3600)).overdue).toBe(false);
    expect(boardRow(referral('r', { respondBy: due }), at(3601)).overdue).toBe(true);
    expect(boardRow(referral('r', { respondBy: due, status: 'acknowledged' }), at(3601)).overdue).toBe(true);
    for (const status of ['accepted', 'declined', 'completed', 'withdrawn'] as const)
      expect(boardRow(referral('r', { respondBy: due, status }), at(9999)).overdue).toBe(false);
  });
});

describe('the board', () => {
  const docs: ReferralDoc[] = [
    referral('r1', { madeAt: at(0), status: 'completed', acknowledgedAt: at(10), completedAt: at(100) }),
    referral('r2', { madeAt: at(60), status: 'acknowledged', acknowledgedAt: at(80), respondBy: at(120) }),
    referral('r3', {
      madeAt: at(120),
      fromAgencyId: 'police-c',
      toAgencyId: 'shelter-d',
      acknowledgedAt: at(150),
      status: 'declined',
    }),
    referral('r4', { madeAt: at(180), respondBy: at(200), escalated: true, escalatedAt: at(250) }),
    referral('r5', { madeAt: at(180) }),
  ];

  it('lists newest first (ties by id) and summarises every matching referral, not only the page', () => {
    const board = handoffBoard(docs, {}, { limit: 2 }, at(300));
    expect(board.referrals.map((r) => r.referralId)).toEqual(['r4', 'r5']);
    expect(board.summary).toEqual({
      referrals: 5,
      byStatus: { made: 2, acknowledged: 1, accepted: 0, declined: 1, completed: 1, withdrawn: 0 },
      byPair: [
        { fromAgencyId: 'clinic-a', toAgencyId: 'ngo-b', referrals: 4 },
        { fromAgencyId: 'police-c', toAgencyId: 'shelter-d', referrals: 1 },
      ],
      secondsToAcknowledge: { count: 3, p50: 20, p90: 30 },
      secondsToHandoff: { count: 1, p50: 100, p90: 100 },
      overdue: 2, // r2 (acknowledged, due at 120) and r4 (made, due at 200)
      escalated: 1,
    });
  });

  it('pages with a cursor until every referral was listed once', () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i += 1) {
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      const board = handoffBoard(docs, {}, { limit: 2, ...(after ? { after } : {}) }, at(300));
      seen.push(...board.referrals.map((r: BoardRow) => r.referralId));
      cursor = board.next?.cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(['r4', 'r5', 'r3', 'r2', 'r1']);
  });

  it('filters by period [from, to), status, sender and receiver, and the summary follows the filter', () => {
    const period = handoffBoard(docs, { from: at(60), to: at(180) }, { limit: 20 }, at(300));
    expect(period.referrals.map((r) => r.referralId)).toEqual(['r3', 'r2']);
    expect(period.summary.referrals).toBe(2);
    expect(period.summary.secondsToAcknowledge).toEqual({ count: 2, p50: 20, p90: 30 });
    const police = handoffBoard(docs, { fromAgencyId: 'police-c' }, { limit: 20 }, at(300));
    expect(police.referrals.map((r) => r.referralId)).toEqual(['r3']);
    const made = handoffBoard(docs, { status: 'made', toAgencyId: 'ngo-b' }, { limit: 20 }, at(300));
    expect(made.referrals.map((r) => r.referralId)).toEqual(['r4', 'r5']);
    expect(handoffBoard(docs, { from: at(1000) }, { limit: 20 }, at(300)).summary.secondsToHandoff).toEqual({
      count: 0,
      p50: null,
      p90: null,
    });
  });

  it('refuses cursors it did not hand out', () => {
    const good = encodeCursor({ madeAt: at(0), referralId: 'r1' });
    expect(decodeCursor(good)).toEqual({ madeAt: at(0), referralId: 'r1' });
    expect(decodeCursor('not a cursor')).toBeUndefined();
    expect(decodeCursor(Buffer.from('{"a":1}').toString('base64url'))).toBeUndefined();
    expect(decodeCursor(Buffer.from('["yesterday","r1"]').toString('base64url'))).toBeUndefined();
  });
});

describe('the board as of a past instant', () => {
  const made = {
    type: 'ReferralMade',
    data: {
      referralId: 'r1',
      caseId: 'c1',
      fromAgencyId: 'clinic-a',
      fromAgencyKind: 'health',
      toAgencyId: 'ngo-b',
      toAgencyKind: 'ngo',
      transnational: false,
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: at(3600),
      sharedCategories: [],
      madeByPrincipalId: 'p1',
      madeAt: at(0),
    },
    metadata: { correlationId: 'x', occurredAt: at(0) },
  };
  const step = (type: string, field: string, seconds: number) => ({
    type,
    data: { referralId: 'r1', caseId: 'c1', byAgencyId: 'ngo-b', [field]: at(seconds) },
    metadata: { correlationId: 'x', occurredAt: at(seconds) },
  });
  const events = [
    made,
    step('ReferralAcknowledged', 'acknowledgedAt', 60),
    step('ReferralAccepted', 'acceptedAt', 120),
    step('HandoffCompleted', 'completedAt', 600),
    {
      type: 'PotentialVictimReported',
      data: { caseId: 'c2' },
      metadata: { correlationId: 'y', occurredAt: at(1) },
    },
  ];

  function asOf(seconds: number): ReferralDoc[] {
    const fold = new ReferralFold(at(seconds));
    for (const event of events) fold.apply(event);
    return [...fold.referrals()];
  }

  it('counts only what had happened by then', () => {
    expect(asOf(-1)).toEqual([]);
    expect(asOf(0).map((d) => d.status)).toEqual(['made']);
    expect(asOf(60)[0]).toMatchObject({ status: 'acknowledged', acknowledgedAt: at(60) });
    expect(asOf(599)[0]).toMatchObject({ status: 'accepted' });
    expect(asOf(599)[0]).not.toHaveProperty('completedAt');
    expect(asOf(600)[0]).toMatchObject({ status: 'completed', completedAt: at(600) });
  });

  it('judges overdue at that instant', () => {
    const fold = new ReferralFold(at(30));
    fold.apply(made);
    expect(handoffBoard(fold.referrals(), {}, { limit: 20 }, at(30)).summary.overdue).toBe(0);
    const late = new ReferralFold(at(4000));
    late.apply(made);
    expect(handoffBoard(late.referrals(), {}, { limit: 20 }, at(4000)).summary.overdue).toBe(1);
  });
});
