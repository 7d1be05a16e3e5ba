import { randomUUID } from 'node:crypto';
import type { MonthStatistics } from '../../apps/ledger-api/src/coordinator/case-statistics';
import { PostgresReadModelStore } from '@nrm/projections';
import { TEST_POSTGRES_URL } from '../../libs/projections/test/read-model-backends';
import { StatisticsAttacker } from '../statistics-attacker';
import { Ledger, type Principal } from './harness';

/**
 * DOMAIN.md rule 8: figures published for statistics never allow a hidden
 * value to be derived by combining answers. A coordinator asks the statistics
 * for every period the API accepts (and tries the levers it refuses: a k of its
 * own, a period that is not whole months, the month under way), then tries to
 * solve every suppressed figure from all the published ones.
 */

interface Answer {
  k: number;
  period: { from: string; to: string };
  months: MonthStatistics[];
  field?: string;
}

const K = 3;
/** Published regions; NL-UT and NL-GR are counted under `other`. */
const REGIONS = ['NL-ZH', 'NL-NH'];
const AGENCIES = { clinic: 'health', police: 'law-enforcement', ngo: 'ngo', shelter: 'shelter' } as const;

/** An invented domain: cases of the past, by month, region, reporting agency and forms (small and zero counts). */
interface Case {
  readonly at: string;
  readonly region: string;
  readonly agency: keyof typeof AGENCIES;
  readonly forms: readonly string[];
}
function many(n: number, c: Case): Case[] {
  return Array.from({ length: n }, () => c);
}
const DOMAIN: Case[] = [
  // 2025-09: a busy month, one case in an unpublished region with two forms.
  ...many(7, { at: '2025-09-03T10:00:00.000Z', region: 'NL-ZH', agency: 'clinic', forms: ['labour'] }),
  ...many(4, { at: '2025-09-10T10:00:00.000Z', region: 'NL-ZH', agency: 'police', forms: ['sexual'] }),
  ...many(6, { at: '2025-09-20T10:00:00.000Z', region: 'NL-NH', agency: 'ngo', forms: ['sexual'] }),
  { at: '2025-09-30T23:59:59.000Z', region: 'NL-UT', agency: 'shelter', forms: ['labour', 'sexual'] },
  // 2025-10: two cases only.
  { at: '2025-10-01T00:00:00.000Z', region: 'NL-ZH', agency: 'clinic', forms: ['labour'] },
  { at: '2025-10-15T12:00:00.000Z', region: 'NL-NH', agency: 'police', forms: [] },
  // 2025-11: none.
  // 2025-12: a mix, with a lone case of a rare form.
  ...many(5, { at: '2025-12-02T09:00:00.000Z', region: 'NL-ZH', agency: 'clinic', forms: ['labour'] }),
  ...many(3, { at: '2025-12-05T09:00:00.000Z', region: 'NL-NH', agency: 'police', forms: ['sexual'] }),
  ...many(2, {
    at: '2025-12-09T09:00:00.000Z',
    region: 'NL-ZH',
    agency: 'ngo',
    forms: ['labour', 'domestic-servitude'],
  }),
  { at: '2025-12-31T23:00:00.000Z', region: 'NL-GR', agency: 'ngo', forms: ['forced-begging'] },
];
const FORM_SETS = [...new Set(DOMAIN.map((c) => c.forms.join('+')))]
  .map((s) => (s === '' ? [] : s.split('+')))
  .filter((s) => s.length > 1);

/** The true value of a figure, counted straight from the domain (not by the code under test). */
function truth(label: string): number {
  const [month, dimension, column] = label.split(' ') as [string, string, string | undefined];
  const region = (c: Case) => (REGIONS.includes(c.region) ? c.region : 'other');
  return DOMAIN.filter((c) => c.at.startsWith(month)).filter((c) => {
    switch (dimension) {
      case 'cases':
        return true;
      case 'byRegion':
        return region(c) === column;
      case 'byReportingAgencyKind':
        return AGENCIES[c.agency] === column;
      case 'byExploitationForm':
        return column === 'unknown' ? c.forms.length === 0 : c.forms.includes(column!);
      default:
        throw new Error(`unknown figure ${label}`);
    }
  }).length;
}

/** Month starts from 2025-08 to the current month, and "absent". */
function periodBounds(): Array<string | undefined> {
  const out: Array<string | undefined> = [undefined];
  const at = new Date('2025-08-01T00:00:00.000Z');
  const now = Date.now();
  while (at.getTime() <= now) {
    out.push(at.toISOString().replace('.000Z', 'Z'));
    at.setUTCMonth(at.getUTCMonth() + 1);
  }
  return out;
}

const BACKENDS = [
  { name: 'sqlite', env: {} as Record<string, string> },
  {
    name: 'postgres',
    env: {
      READ_MODEL_STORE: 'postgres',
      READ_MODEL_URL: TEST_POSTGRES_URL,
      READ_MODEL_SCHEMA: `e2e_stats_${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    } as Record<string, string>,
  },
];

describe.each(BACKENDS)(
  'statistics attacker ($name read models): no suppressed figure can be derived',
  (backend) => {
    let ledger: Ledger;
    let coordinator: Principal;
    const caseIds: string[] = [];

    beforeAll(async () => {
      ledger = await Ledger.boot({
        ...backend.env,
        STATS_MIN_CELL: String(K),
        STATS_REGIONS: REGIONS.join(','),
      });
      coordinator = await ledger.principal('national-coordinator', ['coordinator'], 'nrc');
      for (const [agencyId, kind] of Object.entries(AGENCIES))
        await ledger.principal(kind, ['caseworker'], `${agencyId}-sa`);
      // Reports of the past, as the decider records them (the API stamps a report with the present instant).
      for (const c of DOMAIN) {
        const caseId = randomUUID();
        caseIds.push(caseId);
        await ledger.store.append(
          `identification-${caseId}`,
          [
            {
              id: randomUUID(),
              type: 'PotentialVictimReported',
              schemaVersion: 1,
              data: {
                caseId,
                subjectId: randomUUID(),
                reportedByAgencyId: `${c.agency}-sa`,
                reportedByAgencyKind: AGENCIES[c.agency],
                indicators: ['debt-bondage'],
                exploitationForms: [...c.forms],
                minor: false,
                region: c.region,
                reportedAt: c.at,
              },
              metadata: { correlationId: 'statistics-attacker', occurredAt: c.at },
            },
          ],
          { expectedRevision: 'no-stream' },
        );
      }
    });
    afterAll(async () => {
      await ledger.close();
      if (backend.env.READ_MODEL_SCHEMA === undefined) return;
      const store = new PostgresReadModelStore({
        connectionString: TEST_POSTGRES_URL,
        schema: backend.env.READ_MODEL_SCHEMA,
      });
      await store.dropSchema();
      await store.close();
    });

    it('enumerates every answer the API gives and determines no suppressed figure', async () => {
      const attacker = new StatisticsAttacker();
      const informed = new StatisticsAttacker(); // who also knows each month's number of cases from elsewhere
      const bounds = periodBounds();
      let refused = 0;
      for (const from of bounds)
        for (const to of bounds) {
          const query = [from && `from=${from}`, to && `to=${to}`].filter(Boolean).join('&');
          const answer = await coordinator.get<Answer>(`/coordinator/statistics${query ? `?${query}` : ''}`);
          if (answer.status === 400) {
            refused += 1;
            continue;
          }
          expect(answer.status).toBe(200);
          expect(answer.body.k).toBe(K);
          attacker.observe(answer.body.months);
          informed.observe(answer.body.months);
        }
      // The levers the API refuses: a k of one's own, a period that is not whole months, the month under way.
      const thisMonth = `${new Date().toISOString().slice(0, 7)}-01T00:00:00Z`;
      for (const path of [
        '/coordinator/statistics?k=2',
        '/coordinator/statistics?k=50',
        '/coordinator/statistics?from=2025-09-15T00:00:00Z',
        '/coordinator/statistics?to=2025-12-31T00:00:00Z',
        `/coordinator/statistics?from=${thisMonth}`,
      ]) {
        const answer = await coordinator.get<Answer>(path);
        expect({ path, status: answer.status }).toEqual({ path, status: 400 });
        refused += 1;
      }

      const attack = await attacker.attack(FORM_SETS);
      for (const b of attack.suppressed) {
        const value = truth(b.label);
        // The attacker's model is sound: the truth lies within what it proved.
        expect({ label: b.label, inBounds: b.min <= value && value <= b.max }).toEqual({
          label: b.label,
          inBounds: true,
        });
      }
      const provenNonEmpty = attack.suppressed.filter((b) => b.min > 0);
      const small = attack.suppressed.filter((b) => truth(b.label) > 0);
      console.log(
        `statistics attacker (${backend.name}): answers ${attacker.answers}, refused ${refused}, published figures ${attack.published}, ` +
          `suppressed cells ${attack.suppressed.length} (${small.length} of them non-empty), determined ${attack.determined.length}, ` +
          `proven non-empty ${provenNonEmpty.length}`,
      );
      expect(attack.determined).toEqual([]);
      // Not even "there is at least one case here" can be proved of a suppressed cell: a zero looks like a small count.
      expect(provenNonEmpty).toEqual([]);
      expect(small.length).toBeGreaterThan(0);
      expect(attack.suppressed.length).toBeGreaterThan(small.length);

      // Someone who also knows every month's number of cases from another source learns only what that
      // source says: that a month without cases has nothing in any cell. No month with a case gives way.
      for (const month of ['2025-09', '2025-10', '2025-11', '2025-12'])
        informed.know(month, DOMAIN.filter((c) => c.at.startsWith(month)).length);
      const informedAttack = await informed.attack(FORM_SETS);
      // The totals themselves are known, not derived: left out.
      const derived = informedAttack.determined.filter((b) => !b.label.endsWith(' cases'));
      const months = new Set(derived.map((b) => b.label.split(' ')[0]));
      console.log(
        `statistics attacker (${backend.name}) with monthly totals from elsewhere: suppressed cells ${informedAttack.suppressed.length}, ` +
          `determined ${derived.length} (months ${[...months].join(', ') || 'none'}, all of 0 cases)`,
      );
      for (const month of months) expect(truth(`${month!} cases`)).toBe(0);
    });

    it('shows a zero cell and a small cell alike, with every column in every month', async () => {
      const answer = await coordinator.get<Answer>(
        '/coordinator/statistics?from=2025-09-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      );
      expect(answer.status).toBe(200);
      const [sep, oct, nov, dec] = answer.body.months;
      expect(answer.body.months.map((m) => m.month)).toEqual(['2025-09', '2025-10', '2025-11', '2025-12']);
      for (const row of answer.body.months) {
        expect(Object.keys(row.byRegion)).toEqual(['NL-ZH', 'NL-NH', 'other']);
        expect(Object.keys(row.byReportingAgencyKind)).toEqual(Object.keys(sep!.byReportingAgencyKind));
        expect(Object.keys(row.byExploitationForm)).toEqual(Object.keys(sep!.byExploitationForm));
      }
      // October holds 2 cases and November none: both months read the same, every figure suppressed.
      expect(JSON.stringify({ ...oct, month: '' })).toBe(JSON.stringify({ ...nov, month: '' }));
      expect(oct!.cases).toEqual({ suppressed: true });
      // December: NL-GR's lone case (under other) and the empty organ-removal cell look alike.
      expect(dec!.byRegion.other).toEqual({ suppressed: true });
      expect(dec!.byExploitationForm['organ-removal']).toEqual(dec!.byExploitationForm['forced-begging']);
      // What is published is exact.
      expect(sep!.cases).toEqual({ count: 18 });
      expect(sep!.byRegion['NL-ZH']).toEqual({ count: 11 });
      expect(dec!.cases).toEqual({ count: 11 });
    });

    it('keeps a completed month as it was when a case of it is reassessed later', async () => {
      const path = '/coordinator/statistics?from=2025-12-01T00:00:00Z&to=2026-01-01T00:00:00Z';
      const before = await coordinator.get<Answer>(path);
      // The lone forced-begging case of December is reassessed as labour, months later.
      const lone = caseIds[DOMAIN.findIndex((c) => c.forms.includes('forced-begging'))]!;
      await ledger.store.append(
        `identification-${lone}`,
        [
          {
            id: randomUUID(),
            type: 'IndicatorsAssessed',
            schemaVersion: 1,
            data: {
              caseId: lone,
              outcome: 'indicators-present',
              indicatorsConfirmed: ['debt-bondage'],
              exploitationForms: ['labour'],
              assessedByAgencyId: 'ngo-sa',
              assessedAt: new Date().toISOString(),
            },
            metadata: { correlationId: 'statistics-attacker', occurredAt: new Date().toISOString() },
          },
        ],
        { expectedRevision: 'stream-exists' },
      );
      const after = await coordinator.get<Answer>(path);
      expect(after.status).toBe(200);
      // Otherwise the two reads would differ by exactly that case: forms as reported are counted.
      expect(after.body).toEqual(before.body);
    });
  },
);
