import type { OpenedAccessLogEntry as AccessLogEntry } from './opened-text';
import {
  basisLabel,
  escapeHtml,
  renderAccessReportHtml,
  reportEntry,
  type AccessReport,
  type AgencyNames,
} from './access-report';

const agencies: AgencyNames = (id) =>
  ({
    'ngo-a': { name: 'Lighthouse <script>alert("x")</script> & Sons', kind: 'ngo' },
    police: { name: "Police 'West'", kind: 'law-enforcement' },
  })[id];

const read: AccessLogEntry = {
  position: 7,
  eventId: 'e-7',
  type: 'RecordAccessed',
  at: '2026-03-01T10:00:00.000Z',
  principalId: 'p-ngo',
  agencyId: 'ngo-a',
  agencyKind: 'ngo',
  caseId: 'case-1',
  subjectId: 'subj-1',
  view: 'case',
  purpose: 'assistance',
  basis: [{ category: 'case-status', basis: 'consent', consentId: 'c-1' }],
};
const breakGlass: AccessLogEntry = {
  position: 9,
  eventId: 'e-9',
  type: 'BreakGlassAccessUsed',
  at: '2026-03-02T08:00:00.000Z',
  principalId: 'p-police',
  agencyId: 'police',
  caseId: 'case-1',
  subjectId: 'subj-1',
  view: 'case-break-glass',
  purpose: 'protection',
  basis: [{ category: 'exploitation', basis: 'break-glass' }],
  justification: 'Danger <now> & "urgent"',
  review: { status: 'reviewed', finding: 'justified', reviewedAt: '2026-03-03T12:00:00.000Z' },
};

function report(overrides: Partial<AccessReport> = {}): AccessReport {
  return {
    subjectId: 'subj-1',
    generatedAt: '2026-03-04T00:00:00.000Z',
    requestedBy: { agencyId: 'ngo-a', agencyName: agencies('ngo-a')!.name },
    period: {},
    caseIds: ['case-1'],
    accesses: [reportEntry(read, agencies), reportEntry(breakGlass, agencies)],
    ...overrides,
  };
}

describe('subject access report', () => {
  it('escapes the five HTML-significant characters and renders nothing for null', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(3)).toBe('3');
    expect(escapeHtml('&amp;')).toBe('&amp;amp;'); // escaped once more: text is never trusted as markup
  });

  it('names agencies from the registry, hides principals, and carries a break-glass review', () => {
    const [first, second] = report().accesses;
    expect(first).toEqual({
      at: '2026-03-01T10:00:00.000Z',
      agencyId: 'ngo-a',
      agencyName: 'Lighthouse <script>alert("x")</script> & Sons',
      agencyKind: 'ngo',
      caseId: 'case-1',
      view: 'case',
      purpose: 'assistance',
      basis: [{ category: 'case-status', basis: 'consent', consentId: 'c-1' }],
    });
    expect(JSON.stringify(first)).not.toContain('p-ngo');
    expect(second!.breakGlass).toEqual({
      justification: 'Danger <now> & "urgent"',
      review: { status: 'reviewed', finding: 'justified', reviewedAt: '2026-03-03T12:00:00.000Z' },
    });
    expect(reportEntry({ ...read, agencyId: 'gone' }, agencies)).toMatchObject({
      agencyName: null,
      agencyKind: 'ngo',
    });
    expect(basisLabel([])).toBe('no case data categories');
  });

  it('renders a printable page with every value escaped and no script', () => {
    const html = renderAccessReportHtml(report());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('@media print');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('Lighthouse &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons');
    expect(html).toContain('Police &#39;West&#39;');
    expect(html).toContain('Justification: Danger &lt;now&gt; &amp; &quot;urgent&quot;');
    expect(html).toContain('reviewed by the oversight body: justified');
    expect(html).toContain('case-status: consent');
    expect(html).toContain('<tr class="break-glass">');
    // Rows in the order given (oldest first).
    expect(html.indexOf('2026-03-01T10:00:00.000Z')).toBeLessThan(html.indexOf('2026-03-02T08:00:00.000Z'));
  });

  it('says so when nothing was accessed, and when the page is not the whole report', () => {
    const empty = renderAccessReportHtml(report({ accesses: [] }));
    expect(empty).toContain('No one has accessed');
    expect(empty).not.toContain('<table>');
    const partial = renderAccessReportHtml(report({ next: { cursor: 42 } }));
    expect(partial).toContain('cursor 42');
    const pending = renderAccessReportHtml(
      report({ accesses: [reportEntry({ ...breakGlass, review: { status: 'pending' } }, agencies)] }),
    );
    expect(pending).toContain('awaiting review by the oversight body');
  });

  it('shows the erased mark for a justification erased with the person, in the data and on the page', () => {
    const erased = reportEntry({ ...breakGlass, justification: { erased: true } }, agencies);
    expect(erased.breakGlass?.justification).toEqual({ erased: true });
    const html = renderAccessReportHtml(report({ accesses: [erased] }));
    expect(html).toContain('Justification: (erased with the person&#39;s data)');
    expect(html).not.toContain('[object Object]');
  });
});
