import fc from 'fast-check';
import { StatisticsAttacker } from '../../../../test/statistics-attacker';
import {
  caseStatistics,
  monthStatistics,
  monthsBetween,
  statisticsColumns,
  type CaseFacts,
} from './case-statistics';

const columns = statisticsColumns(['NL-ZH', 'NL-NH']);

function cases(n: number, facts: Partial<CaseFacts>): CaseFacts[] {
  return Array.from({ length: n }, () => ({
    month: '2026-03',
    region: 'NL-ZH',
    agencyKind: 'health',
    exploitationForms: ['labour'],
    ...facts,
  }));
}

const published = (cells: Record<string, { count: number } | { suppressed: true }>) =>
  Object.fromEntries(
    Object.entries(cells).flatMap(([key, cell]) => ('count' in cell ? [[key, cell.count]] : [])),
  );

describe('monthStatistics', () => {
  const march = [
    ...cases(9, {}),
    ...cases(7, { agencyKind: 'law-enforcement', region: 'NL-NH', exploitationForms: ['sexual'] }),
    ...cases(2, { agencyKind: 'ngo', region: 'NL-UT', exploitationForms: ['labour', 'sexual'] }),
  ];

  it('lists every column of every table, zeros too, with the fixed columns first and other/unknown last', () => {
    const row = monthStatistics('2026-03', march, columns, 5);
    expect(Object.keys(row.byRegion)).toEqual(['NL-ZH', 'NL-NH', 'other']);
    expect(Object.keys(row.byReportingAgencyKind)).toHaveLength(11);
    expect(Object.keys(row.byReportingAgencyKind).at(-1)).toBe('unknown');
    expect(Object.keys(row.byExploitationForm)).toHaveLength(9);
    expect(row.byExploitationForm['organ-removal']).toEqual({ suppressed: true });
  });

  it('counts a month by region, agency kind and form, publishing only what no margin gives away', () => {
    const row = monthStatistics('2026-03', march, columns, 5);
    expect(row.month).toBe('2026-03');
    expect(row.cases).toEqual({ count: 18 });
    // other (2) is small: NL-NH (7) is hidden with it, or 18 − 9 − 7 would give it away.
    expect(published(row.byRegion)).toEqual({ 'NL-ZH': 9 });
    // ngo (2) and the empty kinds are hidden, with law-enforcement (7) so that two hidden cells hold cases.
    expect(published(row.byReportingAgencyKind)).toEqual({ health: 9 });
    // labour 11, sexual 9, the rest empty: both are hidden, or the empty forms would be known empty.
    expect(published(row.byExploitationForm)).toEqual({});
  });

  it('puts cases without a form, of an unregistered agency or of an unpublished region under unknown and other', () => {
    const odd = cases(9, { exploitationForms: [], agencyKind: 'not-a-kind', region: 'NL-GR' });
    const police = cases(7, {
      agencyKind: 'law-enforcement',
      region: 'NL-NH',
      exploitationForms: ['sexual'],
    });
    const row = monthStatistics('2026-04', [...odd, ...police, ...cases(6, {})], columns, 5);
    // Each table has empty cells, so its two smallest non-empty cells (6 and 7) are hidden with them.
    expect(published(row.byExploitationForm)).toEqual({ unknown: 9 });
    expect(published(row.byReportingAgencyKind)).toEqual({ unknown: 9 });
    // Every region holds cases and none is small: all published.
    expect(published(row.byRegion)).toEqual({ 'NL-ZH': 6, 'NL-NH': 7, other: 9 });
  });

  it('shows an empty month exactly like a month of a few cases', () => {
    const empty = monthStatistics('2026-05', [], columns, 5);
    const few = monthStatistics('2026-05', cases(3, {}), columns, 5);
    expect(JSON.stringify(few)).toBe(JSON.stringify(empty));
  });
});

describe('caseStatistics', () => {
  it('gives one row per month asked, the same row whatever the other months asked', () => {
    const all = [
      ...cases(6, { month: '2026-02' }),
      ...cases(7, { month: '2026-03' }),
      ...cases(9, { month: '2026-04' }),
    ];
    const wide = caseStatistics(
      all,
      monthsBetween('2026-01-01T00:00:00Z', '2026-04-01T00:00:00Z'),
      columns,
      5,
    );
    expect(wide.map((r) => [r.month, r.cases])).toEqual([
      ['2026-01', { suppressed: true }],
      ['2026-02', { count: 6 }],
      ['2026-03', { count: 7 }],
    ]); // April is not asked: not counted
    const narrow = caseStatistics(all, ['2026-03'], columns, 5);
    expect(narrow).toEqual([wide[2]]);
  });

  it('steps months across a year', () => {
    expect(monthsBetween('2025-11-01T00:00:00Z', '2026-02-01T00:00:00Z')).toEqual([
      '2025-11',
      '2025-12',
      '2026-01',
    ]);
  });
});

describe('no suppressed figure of a month can be solved from its published ones (property, exact)', () => {
  it('leaves every suppressed figure of random months between 0 and more than 0', async () => {
    const regions = ['NL-ZH', 'NL-NH', 'NL-UT'];
    const agencies = ['health', 'law-enforcement', 'ngo', 'not-a-kind'];
    const formChoices = [[], ['labour'], ['sexual'], ['labour', 'sexual'], ['forced-begging']];
    const aCase = fc.record({
      region: fc.constantFrom(...regions),
      agencyKind: fc.constantFrom(...agencies),
      exploitationForms: fc.constantFrom(...formChoices),
    });
    let months = 0;
    let suppressedFigures = 0;
    let determined = 0;
    let provenNonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(aCase, { maxLength: 30 }),
        fc.integer({ min: 2, max: 6 }),
        async (drawn, k) => {
          const facts = drawn.map((c) => ({ ...c, month: '2026-06' }));
          const attacker = new StatisticsAttacker();
          attacker.observe([monthStatistics('2026-06', facts, statisticsColumns(['NL-ZH', 'NL-NH']), k)]);
          const attack = await attacker.attack([['labour', 'sexual']]);
          months += 1;
          suppressedFigures += attack.suppressed.length;
          determined += attack.determined.length;
          provenNonEmpty += attack.suppressed.filter((b) => b.min > 0).length;
          expect(attack.determined).toEqual([]);
          expect(attack.suppressed.filter((b) => b.min > 0)).toEqual([]);
        },
      ),
      { numRuns: 20 },
    );
    console.log(
      `statistics property: months ${months}, suppressed figures ${suppressedFigures}, determined ${determined}, proven non-empty ${provenNonEmpty}`,
    );
  });
});
