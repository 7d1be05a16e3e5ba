import { caseStatistics, type CaseFacts } from './case-statistics';

const kinds: Record<string, string> = { clinic: 'health', police: 'law-enforcement', ngo: 'ngo' };
const kindOf = (id: string) => kinds[id];

function cases(n: number, facts: Partial<CaseFacts>): CaseFacts[] {
  return Array.from({ length: n }, () => ({
    reportedAt: '2026-03-15T10:00:00.000Z',
    region: 'NL-ZH',
    reportedByAgencyId: 'clinic',
    exploitationForms: ['labour'],
    ...facts,
  }));
}

describe('caseStatistics', () => {
  const all = [
    ...cases(6, {}),
    ...cases(5, { reportedByAgencyId: 'police', region: 'NL-NH', exploitationForms: ['sexual'] }),
    ...cases(2, {
      reportedByAgencyId: 'ngo',
      region: 'NL-UT',
      exploitationForms: ['labour', 'sexual'],
      reportedAt: '2026-04-01T00:00:00.000Z',
    }),
  ];

  it('counts by form, reporting agency kind, region and month, and suppresses small cells (with a second one)', () => {
    expect(caseStatistics(all, kindOf, 5)).toEqual({
      k: 5,
      byExploitationForm: { labour: { count: 8 }, sexual: { count: 7 } },
      byReportingAgencyKind: {
        health: { count: 6 },
        'law-enforcement': { suppressed: true },
        ngo: { suppressed: true },
      },
      byRegion: { 'NL-NH': { suppressed: true }, 'NL-UT': { suppressed: true }, 'NL-ZH': { count: 6 } },
      // Two months, one of them small: publishing March would give April away as the total minus March.
      byMonth: { '2026-03': { suppressed: true }, '2026-04': { suppressed: true } },
    });
  });

  it('publishes more with a smaller k and less with a larger one', () => {
    const small = caseStatistics(all, kindOf, 2);
    expect(small.byRegion).toEqual({ 'NL-NH': { count: 5 }, 'NL-UT': { count: 2 }, 'NL-ZH': { count: 6 } });
    const large = caseStatistics(all, kindOf, 9);
    expect(large.byExploitationForm).toEqual({ labour: { suppressed: true }, sexual: { suppressed: true } });
    expect(large.byRegion).toEqual({
      'NL-NH': { suppressed: true },
      'NL-UT': { suppressed: true },
      'NL-ZH': { suppressed: true },
    });
    expect(caseStatistics(all, kindOf, 2).byMonth).toEqual({
      '2026-03': { count: 11 },
      '2026-04': { count: 2 },
    });
  });

  it('puts cases without a form or of an unregistered agency under unknown, and months in UTC', () => {
    const odd = cases(5, {
      exploitationForms: [],
      reportedByAgencyId: 'nobody',
      reportedAt: '2026-04-30T23:30:00.000-02:00',
    });
    const stats = caseStatistics(odd, kindOf, 5);
    expect(stats.byExploitationForm).toEqual({ unknown: { count: 5 } });
    expect(stats.byReportingAgencyKind).toEqual({ unknown: { count: 5 } });
    expect(stats.byMonth).toEqual({ '2026-05': { count: 5 } });
  });

  it('publishes no total and no count of any suppressed cell', () => {
    const body = JSON.stringify(caseStatistics(all, kindOf, 5));
    expect(body).not.toMatch(/total/i);
    expect(body).not.toContain('"count":2');
    expect(body).not.toContain('"count":5');
  });
});
