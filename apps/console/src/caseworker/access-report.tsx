import { useId, useState, type FormEvent } from 'react';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import {
  isReportLocale,
  REPORT_LOCALE_NAMES,
  REPORT_LOCALES,
  reportI18n,
  reportLocaleFor,
  type ReportLocale,
} from '../i18n/report';
import { FieldProblem, ProblemMessage, problemField } from '../ui/problem';

interface ReportAccess {
  readonly at: string;
  readonly agencyId: string;
  readonly agencyName?: string | null;
  readonly agencyKind?: string | null;
  readonly caseId?: string;
  readonly view: string;
  readonly purpose?: string;
  readonly basis?: ReadonlyArray<{ readonly category: string; readonly basis: string }>;
}

interface Report {
  readonly subjectId: string;
  readonly generatedAt: string;
  readonly requestedBy?: { readonly agencyId: string; readonly agencyName?: string | null };
  readonly caseIds?: readonly string[];
  /** The language recorded with the person's latest consent, when the ledger holds one. */
  readonly consentLanguage?: string;
  readonly accesses?: readonly ReportAccess[];
}

/** The subject access report: who read the person's data, printable in a language the person reads. */
export function AccessReport() {
  const api = useApi();
  const i18n = useI18n();
  const { t } = i18n;
  const id = useId();
  const [subjectId, setSubjectId] = useState('');
  const [language, setLanguage] = useState<ReportLocale>(reportLocaleFor(i18n.locale) ?? 'en');
  const [report, setReport] = useState<Report | undefined>();
  const [problem, setProblem] = useState<unknown>();

  const show = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    try {
      const shown = await answer<Report>(
        api.GET('/subjects/{subjectId}/access-report', {
          params: { path: { subjectId: subjectId.trim() }, query: { limit: 100 } },
        }),
      );
      // Printed in the language recorded with the person's consent where the report has it.
      const recorded = shown.consentLanguage?.toLowerCase().split('-')[0];
      if (recorded && isReportLocale(recorded)) setLanguage(recorded);
      setReport(shown);
    } catch (failure) {
      setReport(undefined);
      setProblem(failure);
    }
  };

  return (
    <section aria-labelledby={`${id}-heading`}>
      <div className="no-print">
        <h1 id={`${id}-heading`}>{t('report.heading')}</h1>
        <p>{t('report.intro')}</p>
        <form onSubmit={(e) => void show(e)} noValidate>
          <div className="field">
            <label htmlFor={`${id}-subject`}>{t('report.subject')}</label>
            <input
              id={`${id}-subject`}
              value={subjectId}
              spellCheck={false}
              autoComplete="off"
              aria-invalid={problemField(problem) === 'subjectId'}
              aria-describedby={problemField(problem) === 'subjectId' ? `${id}-subject-problem` : undefined}
              onChange={(e) => setSubjectId(e.target.value)}
            />
            <FieldProblem problem={problem} field="subjectId" id={`${id}-subject-problem`} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-language`}>{t('report.language')}</label>
            <select
              id={`${id}-language`}
              value={language}
              aria-describedby={`${id}-language-hint`}
              onChange={(e) => isReportLocale(e.target.value) && setLanguage(e.target.value)}
            >
              {(Object.keys(REPORT_LOCALES) as ReportLocale[]).map((l) => (
                <option key={l} value={l} lang={l}>
                  {REPORT_LOCALE_NAMES[l]}
                </option>
              ))}
            </select>
            <p className="hint" id={`${id}-language-hint`}>
              {t('report.languageHint')}
            </p>
          </div>
          <button type="submit" className="primary">
            {t('report.show')}
          </button>
        </form>
        {problemField(problem) !== 'subjectId' && <ProblemMessage problem={problem} />}
      </div>
      {report && <PrintableReport report={report} locale={language} />}
    </section>
  );
}

/**
 * The report in the reader's language: its words, dates in that language's local form, and
 * agencies by name and kind (an id says nothing to the person; a kind says who they were).
 */
export function PrintableReport({ report, locale }: { report: Report; locale: ReportLocale }) {
  const { t, term, dateTime } = reportI18n(locale);
  const agency = (a: { agencyId: string; agencyName?: string | null; agencyKind?: string | null }) => {
    const kind = a.agencyKind ? term('agencyKind', a.agencyKind) : undefined;
    if (a.agencyName) return kind ? `${a.agencyName} (${kind})` : a.agencyName;
    return kind ?? a.agencyId;
  };
  const ui = useI18n();
  const accesses = report.accesses ?? [];
  return (
    <article className="report" lang={locale} aria-label={t('report.title')}>
      <button type="button" className="no-print" onClick={() => window.print()}>
        {ui.t('app.print')}
      </button>
      <h2>{t('report.title')}</h2>
      <dl className="facts">
        <div>
          <dt>{t('report.subject')}</dt>
          <dd>
            <code>{report.subjectId}</code>
          </dd>
        </div>
        <div>
          <dt>{t('report.cases')}</dt>
          <dd>{(report.caseIds ?? []).join(', ') || '—'}</dd>
        </div>
        <div>
          <dt>{t('report.requestedBy')}</dt>
          <dd>{report.requestedBy ? agency(report.requestedBy) : '—'}</dd>
        </div>
        <div>
          <dt>{t('report.generated')}</dt>
          <dd>{dateTime(report.generatedAt)}</dd>
        </div>
      </dl>
      {accesses.length === 0 ? (
        <p>{t('report.empty')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('report.when')}</th>
              <th scope="col">{t('report.agency')}</th>
              <th scope="col">{t('report.view')}</th>
              <th scope="col">{t('report.purpose')}</th>
              <th scope="col">{t('report.basis')}</th>
            </tr>
          </thead>
          <tbody>
            {accesses.map((a, index) => {
              const breakGlass = (a.basis ?? []).some((b) => b.basis === 'break-glass');
              return (
                <tr key={index} className={breakGlass ? 'break-glass' : undefined}>
                  <td>{dateTime(a.at)}</td>
                  <td>{agency(a)}</td>
                  <td>{(a.basis ?? []).map((b) => term('category', b.category)).join(', ') || a.view}</td>
                  <td>{a.purpose ? term('purpose', a.purpose) : '—'}</td>
                  <td>
                    {breakGlass
                      ? t('report.breakGlass')
                      : [...new Set((a.basis ?? []).map((b) => term('basis', b.basis)))].join(', ') || '—'}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </article>
  );
}
