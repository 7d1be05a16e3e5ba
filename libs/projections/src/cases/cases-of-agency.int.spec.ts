import type { RecordedEvent } from '@nrm/event-store';
import { READ_MODEL_BACKENDS } from '../../test/read-model-backends';
import type { ReadModelStore } from '../store/read-model-store';
import { caseDirectory } from './case-directory';
import { casesOfAgency, pageCursor, parsePageCursor, type PageAfter } from './queries';

let position = 0;
function recorded(type: string, data: Record<string, unknown>, occurredAt: string): RecordedEvent {
  position++;
  return {
    id: `event-${position}`,
    streamId: `stream-${position}`,
    revision: 0,
    position,
    type,
    schemaVersion: 1,
    data,
    metadata: { correlationId: `c-${position}`, occurredAt },
    recordedAt: occurredAt,
  } as unknown as RecordedEvent;
}

/** Invented cases: `count` reported by `agency`, some sharing a reported instant, every third referred to `to`. */
function traffic(agency: string, to: string, count: number, from: number): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const caseId = `case-${agency}-${String(from + i).padStart(4, '0')}`;
    // Pairs of cases share an instant: the cursor must neither skip nor repeat one of them.
    const at = new Date(Date.UTC(2026, 10, 1) + Math.floor((from + i) / 2) * 60_000).toISOString();
    events.push(
      recorded(
        'PotentialVictimReported',
        {
          caseId,
          subjectId: `subject-${caseId}`,
          reportedByAgencyId: agency,
          reportedAt: at,
          region: 'NL-ZH',
          minor: false,
          indicators: [],
          exploitationForms: [],
        },
        at,
      ),
    );
    if (i % 3 === 0)
      events.push(
        recorded(
          'ReferralMade',
          {
            referralId: `ref-${caseId}`,
            caseId,
            fromAgencyId: agency,
            toAgencyId: to,
            toAgencyKind: 'ngo',
            transnational: false,
            purpose: 'assistance',
            urgency: 'routine',
            respondBy: '2026-12-31T00:00:00.000Z',
            servicesRequested: [],
            sharedCategories: [],
            madeAt: at,
          },
          at,
        ),
      );
  }
  return events;
}

async function pages(db: ReadModelStore, agency: string, limit: number, first?: PageAfter) {
  const seen: Array<{ caseId: string; reportedAt: string; relations: string }> = [];
  let after = first;
  for (let n = 0; n < 1000; n++) {
    const rows = await casesOfAgency(db, agency, { limit, ...(after ? { after } : {}) });
    seen.push(...rows);
    const last = rows[rows.length - 1];
    if (rows.length < limit || !last) break;
    // Through the opaque cursor, as a client pages.
    after = parsePageCursor(pageCursor({ time: last.reportedAt, id: last.caseId }));
  }
  return seen;
}

describe.each(READ_MODEL_BACKENDS)('GET /cases paging over the case directory, $name', (backend) => {
  const location = backend.location();
  let db: ReadModelStore;

  beforeAll(async () => {
    db = location.open();
    await db.transaction(async (tx) => {
      await caseDirectory.setUp(tx);
      await caseDirectory.createIndexes?.(tx);
    });
    // Interleaved, as real traffic: two agencies report in turns; ngo-b receives referrals from both.
    const a = traffic('clinic-a', 'ngo-b', 60, 0);
    const b = traffic('ngo-b', 'clinic-a', 45, 0);
    const mixed: RecordedEvent[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      mixed.push(...(a[i] ? [a[i]!] : []), ...(b[i] ? [b[i]!] : []));
    // Half row by row (the live projector), half in a batch (a rebuild): the same rows either way.
    const half = Math.floor(mixed.length / 2);
    await db.transaction(async (tx) => {
      for (const event of mixed.slice(0, half)) await caseDirectory.apply(tx, event);
    });
    await db.transaction((tx) => caseDirectory.applyBatch!(tx, mixed.slice(half)));
  });
  afterAll(() => location.dispose());

  it('pages every case of the agency once, newest reported first, with its relations', async () => {
    const all = await pages(db, 'clinic-a', 7);
    const ids = all.map((r) => r.caseId);
    // Its 60 reported cases, and the 15 of ngo-b's referred to it.
    expect(ids).toHaveLength(75);
    expect(new Set(ids).size).toBe(75);
    const keys = all.map((r) => `${r.reportedAt}~${r.caseId}`);
    const expected = [...all]
      .sort((x, y) =>
        x.reportedAt === y.reportedAt ? (x.caseId < y.caseId ? -1 : 1) : x.reportedAt < y.reportedAt ? 1 : -1,
      )
      .map((r) => `${r.reportedAt}~${r.caseId}`);
    expect(keys).toEqual(expected);
    const referred = all.find((r) => r.caseId === 'case-clinic-a-0000')!;
    expect(referred.relations.split(',').sort()).toEqual(['referral-sender', 'reporter']);
    const received = all.find((r) => r.caseId === 'case-ngo-b-0003')!;
    expect(received.relations).toBe('referral-receiver');
  });

  // The plan is SQLite's; PostgreSQL plans by its statistics.
  (backend.name === 'sqlite' ? it : it.skip)(
    'reads a range of the agency index, never a sort of all its cases',
    async () => {
      const plan = await db.all<{ detail: string }>(
        `EXPLAIN QUERY PLAN SELECT case_id, group_concat(relation), reported_at FROM case_parties
        WHERE agency_id = ? AND reported_at > '' AND reported_at <= ? AND (reported_at < ? OR case_id > ?)
        GROUP BY reported_at, case_id ORDER BY reported_at DESC, case_id LIMIT ?`,
        ['clinic-a', '2026-11-01T00:10:00.000Z', '2026-11-01T00:10:00.000Z', 'case-x', 20],
      );
      const details = plan.map((p) => p.detail).join(' | ');
      expect(details).toMatch(/USING COVERING INDEX case_parties_by_agency/);
      expect(details).not.toMatch(/TEMP B-TREE/);
    },
  );

  it('takes only cursors a page gave: a bad one is refused, an earlier plain one still taken', () => {
    const cursor = pageCursor({ time: '2026-11-01T00:00:00.000Z', id: 'case-1' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parsePageCursor(cursor)).toEqual({ time: '2026-11-01T00:00:00.000Z', id: 'case-1' });
    expect(parsePageCursor('2026-11-01T00:00:00.000Z~case-1')).toEqual({
      time: '2026-11-01T00:00:00.000Z',
      id: 'case-1',
    });
    const bad = ['yesterday', '1', '', Buffer.from('p1~not-a-time~x').toString('base64url'), 'x'.repeat(300)];
    expect(bad.map((b) => parsePageCursor(b))).toEqual(bad.map(() => undefined));
  });

  it('ATTACK: cursors made from another agency’s cases show nothing of them', async () => {
    // ngo-b pages with a cursor made from every case of clinic-a (the cursors clinic-a's pages
    // gave, and ones forged from its case ids), and from case ids that exist nowhere. Every page
    // must hold only ngo-b's own cases, and be exactly what ngo-b's own list gives after that
    // position: a function of the cursor's value and ngo-b's cases, so it tells nothing of others.
    const clinicCases = await pages(db, 'clinic-a', 5);
    const ngoOwn = await pages(db, 'ngo-b', 100);
    const ngoIds = new Set(ngoOwn.map((c) => c.caseId));
    const expectedAfter = (after: PageAfter) =>
      ngoOwn
        .filter((r) => r.reportedAt < after.time || (r.reportedAt === after.time && r.caseId > after.id))
        .slice(0, 10)
        .map((r) => r.caseId);
    const cursors = [
      ...clinicCases.map((c) => pageCursor({ time: c.reportedAt, id: c.caseId })),
      ...clinicCases.map((c) => pageCursor({ time: c.reportedAt, id: `${c.caseId}-none` })),
    ];
    let leaked = 0;
    let dependent = 0;
    for (const cursor of cursors) {
      const after = parsePageCursor(cursor)!;
      const page = (await casesOfAgency(db, 'ngo-b', { limit: 10, after })).map((r) => r.caseId);
      leaked += page.filter((id) => !ngoIds.has(id)).length;
      if (JSON.stringify(page) !== JSON.stringify(expectedAfter(after))) dependent++;
    }
    console.log(
      `cursor attack: ngo-b paged with ${cursors.length} cursors made from clinic-a's ${clinicCases.length} cases ` +
        `(and ids that exist nowhere): ${leaked} rows not its own shown, ${dependent} pages not its own list's`,
    );
    expect(cursors).toHaveLength(150);
    expect(leaked).toBe(0);
    expect(dependent).toBe(0);
  });
});
