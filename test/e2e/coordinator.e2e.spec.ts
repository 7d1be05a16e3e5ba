import { Ledger, type Principal } from './harness';

interface Row {
  referralId: string;
  fromAgencyId: string;
  toAgencyId: string;
  toAgencyKind: string;
  status: string;
  transnational: boolean;
  respondBy: string;
  completedAt: string | null;
  escalated: boolean;
  escalatedAt: string | null;
  secondsToAcknowledge: number | null;
  secondsToHandoff: number | null;
  overdue: boolean;
}
interface Durations {
  count: number;
  p50: number | null;
  p90: number | null;
}
interface Board {
  at: string;
  asOf?: string;
  referrals: Row[];
  next?: { cursor: string };
  summary: {
    referrals: number;
    byStatus: Record<string, number>;
    byPair: Array<{ fromAgencyId: string; toAgencyId: string; referrals: number }>;
    secondsToAcknowledge: Durations;
    secondsToHandoff: Durations;
    overdue: number;
    escalated: number;
  };
  code?: string;
  field?: string;
}
type Cell = { count: number } | { suppressed: true };
interface Statistics {
  k: number;
  period: { from: string; to: string };
  months: Array<{
    month: string;
    cases: Cell;
    byExploitationForm: Record<string, Cell>;
    byReportingAgencyKind: Record<string, Cell>;
    byRegion: Record<string, Cell>;
  }>;
  code?: string;
  field?: string;
}

/** Nearest rank, written again here so that the board's figures are checked against its own rows. */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the national coordinator’s views (e2e)', () => {
  let ledger: Ledger;
  let coordinator: Principal;
  let coordinatorClerk: Principal;
  let clinic: Principal;
  let police: Principal;
  let ngo: Principal;
  let shelter: Principal;
  const caseIds: string[] = [];
  const subjectIds: string[] = [];
  const ref: Record<string, string> = {};
  let midway = '';

  async function auditEvents(): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
    const out = [];
    for await (const e of ledger.store.readAll({
      filter: { eventTypes: ['RecordAccessed', 'AccessDenied'] },
    }))
      out.push({ type: e.type, data: e.data });
    return out;
  }

  async function report(who: Principal, n: number, forms: string[], region: string): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1) {
      const answer = await who.post<{ caseId: string; subjectId: string }>('/cases', {
        indicators: ['debt-bondage'],
        exploitationForms: forms,
        minor: false,
        region,
      });
      expect(answer.status).toBe(201);
      caseIds.push(answer.body.caseId);
      subjectIds.push(answer.body.subjectId);
      ids.push(answer.body.caseId);
    }
    return ids;
  }

  async function refer(from: Principal, caseId: string, to: string, respondBy: string): Promise<string> {
    const made = await from.post<{ referralId: string }>(`/cases/${caseId}/referrals`, {
      toAgencyId: to,
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy,
      sharedCategories: [],
    });
    expect(made.status).toBe(201);
    return made.body.referralId;
  }

  async function step(who: Principal, referralId: string, path: string, body?: unknown): Promise<void> {
    const answer = await who.post(`/referrals/${referralId}/${path}`, body);
    expect(answer.status).toBe(200);
  }

  beforeAll(async () => {
    ledger = await Ledger.boot({ STATS_MIN_CELL: '2' }); // small test data: let k go down to 2
    coordinator = await ledger.principal('national-coordinator', ['coordinator'], 'nrc');
    coordinatorClerk = await ledger.principal('national-coordinator', ['caseworker'], 'nrc');
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-co');
    police = await ledger.principal('law-enforcement', ['caseworker'], 'police-co');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-co');
    shelter = await ledger.principal('shelter', ['caseworker'], 'shelter-co');
    await ledger.principal('foreign-nrm', ['caseworker'], 'foreign-co');

    const clinicCases = await report(clinic, 6, ['labour'], 'NL-ZH');
    const policeCases = await report(police, 5, ['sexual'], 'NL-NH');
    const ngoCases = await report(ngo, 2, ['labour'], 'NL-UT');

    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    ref.completed = await refer(clinic, clinicCases[0]!, 'ngo-co', tomorrow);
    await step(ngo, ref.completed, 'acknowledgement');
    await sleep(20);
    midway = new Date().toISOString();
    await sleep(20);
    await step(ngo, ref.completed, 'acceptance');
    await step(ngo, ref.completed, 'handoff');

    ref.accepted = await refer(clinic, clinicCases[1]!, 'shelter-co', tomorrow);
    await step(shelter, ref.accepted, 'acknowledgement');
    await step(shelter, ref.accepted, 'acceptance');

    ref.declined = await refer(police, policeCases[0]!, 'ngo-co', tomorrow);
    await step(ngo, ref.declined, 'acknowledgement');
    await step(ngo, ref.declined, 'decline', { reason: 'no-capacity' });

    ref.transnational = await refer(ngo, ngoCases[0]!, 'foreign-co', tomorrow);

    // Two referrals due a second from now, left unanswered: one never acknowledged, one acknowledged only.
    const soon = Date.now() + 1000;
    ref.stalled = await refer(clinic, clinicCases[2]!, 'ngo-co', new Date(soon).toISOString());
    ref.acknowledgedLate = await refer(police, policeCases[1]!, 'shelter-co', new Date(soon).toISOString());
    await step(shelter, ref.acknowledgedLate, 'acknowledgement');
    await sleep(Math.max(0, soon - Date.now()) + 200);
    await step(coordinator, ref.stalled, 'escalation');
  });
  afterAll(() => ledger.close());

  it('shows every handoff with its status, times and overdue flag, and a summary consistent with the rows', async () => {
    const answer = await coordinator.get<Board>('/coordinator/handoff-board');
    expect(answer.status).toBe(200);
    const rows = new Map(answer.body.referrals.map((r) => [r.referralId, r]));
    expect([...rows.keys()].sort()).toEqual(Object.values(ref).sort());

    expect(rows.get(ref.completed!)).toMatchObject({
      fromAgencyId: 'clinic-co',
      toAgencyId: 'ngo-co',
      toAgencyKind: 'ngo',
      status: 'completed',
      overdue: false,
    });
    expect(rows.get(ref.completed!)!.secondsToHandoff).toBeGreaterThan(0);
    expect(rows.get(ref.accepted!)).toMatchObject({
      status: 'accepted',
      overdue: false,
      secondsToHandoff: null,
    });
    expect(rows.get(ref.declined!)).toMatchObject({ status: 'declined', overdue: false });
    expect(rows.get(ref.transnational!)).toMatchObject({
      status: 'made',
      transnational: true,
      toAgencyKind: 'foreign-nrm',
      overdue: false,
      secondsToAcknowledge: null,
    });
    expect(rows.get(ref.stalled!)).toMatchObject({ status: 'made', overdue: true, escalated: true });
    expect(rows.get(ref.stalled!)!.escalatedAt).toEqual(expect.any(String));
    expect(rows.get(ref.acknowledgedLate!)).toMatchObject({
      status: 'acknowledged',
      overdue: true,
      escalated: false,
    });

    const { summary } = answer.body;
    expect(summary.referrals).toBe(6);
    expect(summary.byStatus).toEqual({
      made: 2,
      acknowledged: 1,
      accepted: 1,
      declined: 1,
      completed: 1,
      withdrawn: 0,
    });
    expect(summary.overdue).toBe(2);
    expect(summary.escalated).toBe(1);
    expect(summary.byPair).toContainEqual({ fromAgencyId: 'clinic-co', toAgencyId: 'ngo-co', referrals: 2 });
    expect(summary.byPair.reduce((n, p) => n + p.referrals, 0)).toBe(6);

    const toAck = answer.body.referrals.flatMap((r) =>
      r.secondsToAcknowledge === null ? [] : [r.secondsToAcknowledge],
    );
    const toHandoff = answer.body.referrals.flatMap((r) =>
      r.secondsToHandoff === null ? [] : [r.secondsToHandoff],
    );
    expect(toAck).toHaveLength(4);
    expect(summary.secondsToAcknowledge).toEqual({
      count: 4,
      p50: nearestRank(toAck, 50),
      p90: nearestRank(toAck, 90),
    });
    expect(summary.secondsToHandoff).toEqual({ count: 1, p50: toHandoff[0], p90: toHandoff[0] });
  });

  it('carries no case id, no subject id and no identity data anywhere in its answers', async () => {
    const board = await coordinator.get('/coordinator/handoff-board');
    const stats = await coordinator.get('/coordinator/statistics');
    const asOf = await coordinator.get(
      `/coordinator/handoff-board?asOf=${encodeURIComponent(new Date().toISOString())}`,
    );
    for (const answer of [board, stats, asOf]) {
      expect(answer.status).toBe(200);
      const body = JSON.stringify(answer.body);
      for (const id of [...caseIds, ...subjectIds]) expect(body).not.toContain(id);
      expect(body).not.toMatch(/caseId|subjectId|debt-bondage/);
    }
  });

  it('pages with a cursor and filters by status, sender, receiver and period', async () => {
    const first = await coordinator.get<Board>('/coordinator/handoff-board?limit=4');
    expect(first.body.referrals).toHaveLength(4);
    expect(first.body.summary.referrals).toBe(6);
    const second = await coordinator.get<Board>(
      `/coordinator/handoff-board?limit=4&cursor=${first.body.next!.cursor}`,
    );
    expect(second.body.referrals).toHaveLength(2);
    expect(second.body.next).toBeUndefined();
    expect([...first.body.referrals, ...second.body.referrals].map((r) => r.referralId).sort()).toEqual(
      Object.values(ref).sort(),
    );

    const made = await coordinator.get<Board>('/coordinator/handoff-board?status=made');
    expect(made.body.referrals.map((r) => r.referralId).sort()).toEqual(
      [ref.stalled, ref.transnational].sort(),
    );
    const fromPolice = await coordinator.get<Board>(
      '/coordinator/handoff-board?fromAgencyId=police-co&toAgencyId=shelter-co',
    );
    expect(fromPolice.body.referrals.map((r) => r.referralId)).toEqual([ref.acknowledgedLate]);

    const later = await coordinator.get<Board>(
      `/coordinator/handoff-board?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(later.body.referrals).toEqual([]);
    expect(later.body.summary).toMatchObject({
      referrals: 0,
      secondsToAcknowledge: { count: 0, p50: null, p90: null },
    });
    const earlier = await coordinator.get<Board>(
      `/coordinator/handoff-board?from=2020-01-01T00:00:00Z&to=${encodeURIComponent(midway)}`,
    );
    expect(earlier.body.referrals.map((r) => r.referralId)).toEqual([ref.completed]);
  });

  it('shows the board as it stood at a past instant, and as now when asked as of now', async () => {
    const past = await coordinator.get<Board>(
      `/coordinator/handoff-board?asOf=${encodeURIComponent(midway)}`,
    );
    expect(past.status).toBe(200);
    expect(past.body.asOf).toBe(midway);
    expect(past.body.referrals).toHaveLength(1);
    expect(past.body.referrals[0]).toMatchObject({
      referralId: ref.completed,
      status: 'acknowledged',
      completedAt: null,
      secondsToHandoff: null,
    });

    const live = await coordinator.get<Board>('/coordinator/handoff-board');
    const now = await coordinator.get<Board>(
      `/coordinator/handoff-board?asOf=${encodeURIComponent(new Date().toISOString())}`,
    );
    expect(now.body.referrals).toEqual(live.body.referrals);
    expect(now.body.summary).toEqual(live.body.summary);

    const future = await coordinator.get<Board>(
      `/coordinator/handoff-board?asOf=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
    );
    expect(future.status).toBe(400);
    expect(future.body.field).toBe('asOf');
  });

  it('publishes completed months only: the cases reported this month are in no answer yet', async () => {
    const answer = await coordinator.get<Statistics>('/coordinator/statistics');
    expect(answer.status).toBe(200);
    const now = new Date();
    const thisMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const yearAgo = new Date(Date.UTC(now.getUTCFullYear() - 1, now.getUTCMonth(), 1));
    expect(answer.body.k).toBe(2);
    expect(answer.body.period).toEqual({ from: yearAgo.toISOString(), to: thisMonth.toISOString() });
    expect(answer.body.months).toHaveLength(12);
    expect(answer.body.months.at(-1)!.month).not.toBe(thisMonth.toISOString().slice(0, 7));
    // The 13 cases of this month are nowhere: every figure of the twelve months before is an empty, suppressed one.
    for (const row of answer.body.months) {
      expect(row.cases).toEqual({ suppressed: true });
      expect(Object.keys(row.byRegion)).toEqual(['other']);
    }
    expect(JSON.stringify(answer.body)).not.toContain('"count"');

    const current = await coordinator.get<Statistics>(
      `/coordinator/statistics?to=${new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString()}`,
    );
    expect(current.status).toBe(400);
    expect(current.body.field).toBe('to');
  });

  it('refuses everyone but a coordinator of the national coordinator, with one audited denial per request', async () => {
    const before = (await auditEvents()).length;
    const asNgo = await ngo.get<Board>('/coordinator/handoff-board');
    const asClerk = await coordinatorClerk.get<Board>('/coordinator/statistics');
    const badQuery = await ngo.get<Board>('/coordinator/statistics?k=1000');
    for (const answer of [asNgo, asClerk, badQuery]) {
      expect(answer.status).toBe(403);
      expect(answer.body.code).toBe('COORDINATOR.ONLY');
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
    }
    const audit = (await auditEvents()).slice(before);
    expect(
      audit.map((a) => [a.type, a.data.agencyId, a.data.principalId, a.data.view, a.data.reason]),
    ).toEqual([
      ['AccessDenied', 'ngo-co', ngo.principalId, 'handoff-board', 'not-the-national-coordinator'],
      ['AccessDenied', 'nrc', coordinatorClerk.principalId, 'statistics', 'not-the-national-coordinator'],
      ['AccessDenied', 'ngo-co', ngo.principalId, 'statistics', 'not-the-national-coordinator'],
    ]);
  });

  it('audits each read by the coordinator as a RecordAccessed with no data categories and no case', async () => {
    const before = (await auditEvents()).length;
    expect((await coordinator.get('/coordinator/handoff-board')).status).toBe(200);
    expect(
      (await coordinator.get(`/coordinator/handoff-board?asOf=${encodeURIComponent(midway)}`)).status,
    ).toBe(200);
    expect((await coordinator.get('/coordinator/statistics')).status).toBe(200);
    const audit = (await auditEvents()).slice(before);
    expect(audit).toHaveLength(3);
    expect(audit.map((a) => [a.type, a.data.view])).toEqual([
      ['RecordAccessed', 'handoff-board'],
      ['RecordAccessed', 'handoff-board'],
      ['RecordAccessed', 'statistics'],
    ]);
    for (const a of audit) {
      expect(a.data).toMatchObject({
        agencyId: 'nrc',
        agencyKind: 'national-coordinator',
        principalId: coordinator.principalId,
        categories: [],
      });
      expect(a.data).not.toHaveProperty('caseId');
      expect(a.data).not.toHaveProperty('subjectId');
    }
  });

  it('answers 400 naming the field for a malformed period, page size, k, cursor or asOf', async () => {
    const cases: Array<[string, string]> = [
      ['/coordinator/handoff-board?from=yesterday', 'from'],
      ['/coordinator/handoff-board?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
      ['/coordinator/handoff-board?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
      ['/coordinator/handoff-board?to=2026-01-01', 'to'],
      ['/coordinator/handoff-board?limit=0', 'limit'],
      ['/coordinator/handoff-board?limit=101', 'limit'],
      ['/coordinator/handoff-board?limit=ten', 'limit'],
      ['/coordinator/handoff-board?status=lost', 'status'],
      ['/coordinator/handoff-board?cursor=not-a-cursor', 'cursor'],
      ['/coordinator/handoff-board?asOf=last-week', 'asOf'],
      ['/coordinator/handoff-board?subjectId=x', 'subjectId'],
      ['/coordinator/statistics?k=5', 'k'],
      ['/coordinator/statistics?k=101', 'k'],
      ['/coordinator/statistics?from=2026-13-01T00:00:00Z', 'from'],
      ['/coordinator/statistics?from=2026-11-30T16:39:10.881Z', 'from'],
      ['/coordinator/statistics?to=2026-12-02T00:00:00Z', 'to'],
      ['/coordinator/statistics?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
      ['/coordinator/statistics?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
      ['/coordinator/statistics?from=0000-01-01T00:00:00Z', 'from'],
      ['/coordinator/statistics?to=2999-01-01T00:00:00Z', 'to'],
    ];
    for (const [path, field] of cases) {
      const answer = await coordinator.get<Board>(path);
      expect({ path, status: answer.status, field: answer.body.field }).toEqual({ path, status: 400, field });
    }
  });
});
