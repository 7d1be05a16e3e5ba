import { useEffect, useId, useState, type FormEvent } from 'react';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { ACCESS_OUTCOMES } from '../api/vocabulary';
import { useI18n } from '../i18n/i18n';
import { PAGE_SIZE, Pager, pageOf } from '../ui/pager';
import { FieldProblem, ProblemMessage, problemField } from '../ui/problem';

type Outcome = (typeof ACCESS_OUTCOMES)[number];

interface Attempt {
  readonly eventId: string;
  readonly at: string;
  readonly agencyId: string;
  readonly caseId?: string;
  readonly subjectId?: string;
  readonly view?: string;
  readonly purpose?: string;
  readonly outcome: Outcome;
  readonly reason?: string;
}

interface Search {
  agencyId: string;
  caseId: string;
  subjectId: string;
  outcome: '' | Outcome;
  from: string;
  to: string;
}

const NONE: Search = { agencyId: '', caseId: '', subjectId: '', outcome: '', from: '', to: '' };

/** Reads granted and refused together, searchable; printable for a subject's file. */
export function AccessLog() {
  const api = useApi();
  const { t, term, dateTime } = useI18n();
  const id = useId();
  const [search, setSearch] = useState<Search>(NONE);
  const [entries, setEntries] = useState<Attempt[]>([]);
  const [cursor, setCursor] = useState<number | undefined>();
  const [problem, setProblem] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [searched, setSearched] = useState(false);
  const [shown, setShown] = useState(0);

  const load = async (after?: number) => {
    setBusy(true);
    setProblem(undefined);
    try {
      const page = await answer<{ entries?: Attempt[]; next?: { cursor?: number } }>(
        api.GET('/oversight/access-attempts', {
          params: {
            query: {
              agencyId: search.agencyId.trim() || undefined,
              caseId: search.caseId.trim() || undefined,
              subjectId: search.subjectId.trim() || undefined,
              outcome: search.outcome || undefined,
              from: search.from ? new Date(search.from).toISOString() : undefined,
              to: search.to ? new Date(search.to).toISOString() : undefined,
              limit: PAGE_SIZE,
              cursor: after,
            },
          },
        }),
      );
      setEntries((before) =>
        after === undefined ? (page.entries ?? []) : [...before, ...(page.entries ?? [])],
      );
      if (after === undefined) setShown(0);
      setCursor(page.next?.cursor);
      setSearched(true);
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load();
  }, []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void load();
  };
  const field = problemField(problem);
  // Only the page shown is rendered, however many rows are loaded.
  const view = pageOf(entries, shown);
  const text = (name: 'agencyId' | 'caseId' | 'subjectId' | 'from' | 'to', label: string, type = 'text') => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        type={type}
        value={search[name]}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={field === name}
        aria-describedby={field === name ? `${id}-${name}-problem` : undefined}
        onChange={(e) => setSearch((s) => ({ ...s, [name]: e.target.value }))}
      />
      <FieldProblem problem={problem} field={name} id={`${id}-${name}-problem`} />
    </div>
  );
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>{t('log.heading')}</h1>
      <p>{t('log.intro')}</p>
      <form onSubmit={submit} className="filters no-print" noValidate>
        {text('subjectId', t('log.subject'))}
        {text('caseId', t('log.case'))}
        {text('agencyId', t('log.agency'))}
        <div className="field">
          <label htmlFor={`${id}-outcome`}>{t('log.outcome')}</label>
          <select
            id={`${id}-outcome`}
            value={search.outcome}
            onChange={(e) => setSearch((s) => ({ ...s, outcome: e.target.value as Search['outcome'] }))}
          >
            <option value="">{t('log.anyOutcome')}</option>
            {ACCESS_OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {term('log', o)}
              </option>
            ))}
          </select>
        </div>
        {text('from', t('log.from'), 'date')}
        {text('to', t('log.to'), 'date')}
        <button type="submit" className="primary" disabled={busy}>
          {t('log.search')}
        </button>
        <button type="button" onClick={() => window.print()}>
          {t('app.print')}
        </button>
      </form>
      {!['agencyId', 'caseId', 'subjectId', 'from', 'to'].includes(field ?? '') && (
        <ProblemMessage problem={problem} />
      )}
      {busy && <p role="status">{t('app.loading')}</p>}
      {searched && entries.length === 0 && <p>{t('log.empty')}</p>}
      {entries.length > 0 && (
        <table className="access-log">
          <thead>
            <tr>
              <th scope="col">{t('log.when')}</th>
              <th scope="col">{t('report.agency')}</th>
              <th scope="col">{t('log.view')}</th>
              <th scope="col">{t('bg.case')}</th>
              <th scope="col">{t('bg.subject')}</th>
              <th scope="col">{t('referrals.purpose')}</th>
              <th scope="col">{t('log.outcome')}</th>
            </tr>
          </thead>
          <tbody>
            {view.rows.map((e) => (
              <tr key={e.eventId} className={e.outcome === 'refused' ? 'refused' : undefined}>
                <td>{dateTime(e.at)}</td>
                <td>{e.agencyId}</td>
                <td>{e.view ?? '—'}</td>
                <td>
                  <code>{e.caseId ?? '—'}</code>
                </td>
                <td>
                  <code>{e.subjectId ?? '—'}</code>
                </td>
                <td>{e.purpose ? term('purpose', e.purpose) : '—'}</td>
                <td>
                  {t(e.outcome === 'refused' ? 'log.refused' : 'log.granted')}
                  {e.reason && <span className="hint"> ({e.reason})</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager
        label={t('log.pages')}
        page={view}
        onPage={setShown}
        busy={busy}
        more={cursor !== undefined ? () => load(cursor) : undefined}
      />
    </section>
  );
}
