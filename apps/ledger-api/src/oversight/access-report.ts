import type { BasisEntry } from '@nrm/projections';
import type { ErasedMark } from '@nrm/shared-kernel';
import type { OpenedAccessLogEntry } from './opened-text';

/**
 * The subject access report: who accessed a person's data, when, for what and
 * on which basis, as data and as a printable page. Pure functions only.
 */

export interface AccessReportEntry {
  readonly at: string;
  readonly agencyId: string;
  /** From the registry; null when the agency is not (or no longer) known to it. */
  readonly agencyName: string | null;
  readonly agencyKind: string | null;
  readonly caseId?: string;
  readonly view: string;
  readonly purpose?: string;
  readonly basis: readonly BasisEntry[];
  readonly breakGlass?: {
    /** `{ "erased": true }` once the person is erased: the text was sealed under their key. */
    readonly justification: string | ErasedMark;
    readonly review: { readonly status: string; readonly finding?: string; readonly reviewedAt?: string };
  };
}

export interface AccessReport {
  readonly subjectId: string;
  readonly generatedAt: string;
  readonly requestedBy: { readonly agencyId: string; readonly agencyName: string | null };
  readonly period: { readonly from?: string; readonly to?: string };
  readonly caseIds: readonly string[];
  /**
   * The language recorded with the person's latest consent on any of their cases (a language tag
   * such as `ro`), for printing the report in it where a translation exists; absent when none is.
   */
  readonly consentLanguage?: string;
  /** Oldest first. */
  readonly accesses: readonly AccessReportEntry[];
  readonly next?: { readonly cursor: number };
}

export interface AgencyNames {
  (agencyId: string): { readonly name: string; readonly kind: string } | undefined;
}

/**
 * One access as the person sees it: the agency (by name), not the individual
 * employee who read; the agency answers for its staff.
 */
export function reportEntry(entry: OpenedAccessLogEntry, agencies: AgencyNames): AccessReportEntry {
  const agencyId = entry.agencyId ?? 'unknown';
  const agency = agencies(agencyId);
  return {
    at: entry.at,
    agencyId,
    agencyName: agency?.name ?? null,
    agencyKind: agency?.kind ?? entry.agencyKind ?? null,
    ...(entry.caseId !== undefined ? { caseId: entry.caseId } : {}),
    view: entry.view ?? 'unknown',
    ...(entry.purpose !== undefined ? { purpose: entry.purpose } : {}),
    basis: entry.basis ?? [],
    ...(entry.type === 'BreakGlassAccessUsed'
      ? {
          breakGlass: {
            justification: entry.justification ?? '',
            review: {
              status: entry.review?.status ?? 'pending',
              ...(entry.review?.finding !== undefined ? { finding: entry.review.finding } : {}),
              ...(entry.review?.reviewedAt !== undefined ? { reviewedAt: entry.review.reviewedAt } : {}),
            },
          },
        }
      : {}),
  };
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text and attribute values for HTML: every value that reaches the page goes through here. */
export function escapeHtml(value: string | number | boolean | null | undefined): string {
  const text = value === null || value === undefined ? '' : String(value);
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const VIEW_LABELS: Readonly<Record<string, string>> = {
  case: 'case record',
  'case-break-glass': 'case record, beyond consent (break-glass)',
  'consent-history': 'consent history (oversight body)',
  'subject-access-report': 'an earlier access report',
};

export function viewLabel(view: string): string {
  return VIEW_LABELS[view] ?? view;
}

export function basisLabel(basis: readonly BasisEntry[]): string {
  if (basis.length === 0) return 'no case data categories';
  return basis.map((b) => `${b.category}: ${b.basis}`).join('; ');
}

const PRINT_STYLES = `
  body { font: 11pt/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #111; }
  h1 { font-size: 1.5rem; margin-bottom: .25rem; }
  dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
  dt { font-weight: 600; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
  th, td { border: 1px solid #888; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  th { background: #eee; }
  tr.break-glass td { background: #fff4e0; }
  .note { font-size: .9rem; color: #444; }
  @media print {
    @page { size: A4 landscape; margin: 15mm; }
    body { margin: 0; font-size: 9pt; }
    thead { display: table-header-group; }
    tr { break-inside: avoid; page-break-inside: avoid; }
    th { background: none; }
    tr.break-glass td { background: none; font-weight: 600; }
  }`;

function breakGlassCell(entry: AccessReportEntry): string {
  if (!entry.breakGlass) return '';
  const review = entry.breakGlass.review;
  const reviewText =
    review.status === 'reviewed'
      ? `reviewed by the oversight body: ${review.finding ?? ''}${review.reviewedAt ? ` (${review.reviewedAt})` : ''}`
      : 'awaiting review by the oversight body';
  const justification = entry.breakGlass.justification;
  const text = typeof justification === 'string' ? justification : "(erased with the person's data)";
  return `<p>Justification: ${escapeHtml(text)}</p><p>${escapeHtml(reviewText)}</p>`;
}

function row(entry: AccessReportEntry): string {
  const agency = entry.agencyName ?? entry.agencyId;
  const cells = [
    escapeHtml(entry.at),
    `${escapeHtml(agency)}<br><span class="note">${escapeHtml(entry.agencyKind ?? '')}</span>`,
    escapeHtml(viewLabel(entry.view)),
    escapeHtml(entry.purpose ?? ''),
    escapeHtml(basisLabel(entry.basis)),
    breakGlassCell(entry),
  ];
  return `<tr${entry.breakGlass ? ' class="break-glass"' : ''}>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

/** A complete, self-contained, printable page: no scripts, no external resources. */
export function renderAccessReportHtml(report: AccessReport): string {
  const period =
    report.period.from || report.period.to
      ? `${report.period.from ?? 'the beginning'} to ${report.period.to ?? 'now'}`
      : 'the whole record';
  const body =
    report.accesses.length === 0
      ? '<p>No one has accessed this person’s data in this period.</p>'
      : `<table>
  <thead><tr><th>When (UTC)</th><th>Agency</th><th>What was read</th><th>Purpose</th><th>Basis</th><th>Break-glass</th></tr></thead>
  <tbody>
${report.accesses.map((e) => `    ${row(e)}`).join('\n')}
  </tbody>
</table>`;
  const more = report.next
    ? `<p class="note">This page is not the whole report: ask for the next page with cursor ${escapeHtml(report.next.cursor)}.</p>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Access report for ${escapeHtml(report.subjectId)}</title>
<style>${PRINT_STYLES}
</style>
</head>
<body>
<h1>Who accessed this person’s data</h1>
<dl>
  <dt>Person (reference)</dt><dd>${escapeHtml(report.subjectId)}</dd>
  <dt>Cases</dt><dd>${escapeHtml(report.caseIds.join(', '))}</dd>
  <dt>Period</dt><dd>${escapeHtml(period)}</dd>
  <dt>Requested through</dt><dd>${escapeHtml(report.requestedBy.agencyName ?? report.requestedBy.agencyId)}</dd>
  <dt>Generated</dt><dd>${escapeHtml(report.generatedAt)}</dd>
  <dt>Accesses listed</dt><dd>${escapeHtml(report.accesses.length)}</dd>
</dl>
${body}
${more}
<p class="note">Every read of case data is recorded as it happens and cannot be changed afterwards. A break-glass access is a read beyond consent in an emergency; the oversight body reviews each one.</p>
</body>
</html>
`;
}
