import { useId, useState, type FormEvent } from 'react';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { useI18n, type I18n } from '../i18n/i18n';
import { useAgencies } from '../ui/agencies';
import { FieldProblem, ProblemMessage, problemField } from '../ui/problem';
import { shortId } from '../ui/tabs';

/** One consent event of the subject's cases, as GET /oversight/subjects/{id}/consent-history returns it. */
export interface ConsentHistoryEntry {
  readonly position: number;
  readonly caseId: string;
  readonly type: string;
  readonly at: string;
  readonly recordedByAgencyId?: string;
  readonly consentId?: string;
  readonly lawfulBasisId?: string;
  readonly scope?: {
    readonly agencyIds?: readonly string[];
    readonly categories?: readonly string[];
    readonly purposes?: readonly string[];
  };
  readonly expiresAt?: string;
  readonly capture?: {
    readonly method?: string;
    readonly language?: string;
    readonly interpreterUsed?: boolean;
  };
  readonly whole?: boolean;
  readonly basis?: string;
  /** `{ erased: true }` once the person is erased: the text was sealed under their key. */
  readonly justification?: string | { readonly erased: true };
}

interface HistoryPage {
  readonly subjectId?: string;
  readonly caseIds?: readonly string[];
  readonly entries?: ConsentHistoryEntry[];
  readonly next?: { readonly cursor?: number };
}

/** A language code as its name in the reader's language ("ro" → "Romanian"), the code where unknown. */
function languageName(code: string, locale: string): string {
  try {
    return new Intl.DisplayNames([locale], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** Who saw what of a person's consent over time: grants, withdrawals, refusals, lawful bases. */
export function ConsentHistory() {
  const api = useApi();
  const i18n = useI18n();
  const { t, term, dateTime } = i18n;
  const agencies = useAgencies();
  const id = useId();
  const [subjectId, setSubjectId] = useState('');
  const [shown, setShown] = useState<string | undefined>();
  const [entries, setEntries] = useState<ConsentHistoryEntry[]>([]);
  const [cursor, setCursor] = useState<number | undefined>();
  const [problem, setProblem] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const load = async (subject: string, after?: number) => {
    setBusy(true);
    setProblem(undefined);
    try {
      const page = await answer<HistoryPage>(
        api.GET('/oversight/subjects/{subjectId}/consent-history', {
          params: { path: { subjectId: subject }, query: { limit: 100, cursor: after } },
        }),
      );
      setEntries((before) => [...(after === undefined ? [] : before), ...(page.entries ?? [])]);
      setCursor(page.next?.cursor);
      setShown(subject);
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void load(subjectId.trim());
  };
  const onSubject = problemField(problem) === 'subjectId';
  const list = (group: string, values: readonly string[] | undefined) =>
    values === undefined
      ? undefined
      : values.map((v) => (group === 'agency' ? agencies.name(v) : term(group, v))).join(', ');

  return (
    <section aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>{t('history.heading')}</h1>
      <p>{t('history.intro')}</p>
      <form onSubmit={submit} className="filters no-print" noValidate>
        <div className="field">
          <label htmlFor={`${id}-subject`}>{t('history.subject')}</label>
          <input
            id={`${id}-subject`}
            value={subjectId}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={onSubject}
            aria-describedby={onSubject ? `${id}-subject-problem` : undefined}
            onChange={(e) => setSubjectId(e.target.value)}
          />
          <FieldProblem problem={problem} field="subjectId" id={`${id}-subject-problem`} />
        </div>
        <button type="submit" className="primary" disabled={busy}>
          {t('history.show')}
        </button>
      </form>
      {!onSubject && <ProblemMessage problem={problem} />}
      {busy && <p role="status">{t('app.loading')}</p>}
      {shown !== undefined && entries.length === 0 && !busy && <p>{t('history.empty')}</p>}
      {shown !== undefined && entries.length > 0 && (
        <table className="consent-history">
          <caption>{t('history.caption', { subject: shown })}</caption>
          <thead>
            <tr>
              <th scope="col">{t('history.when')}</th>
              <th scope="col">{t('history.case')}</th>
              <th scope="col">{t('history.event')}</th>
              <th scope="col">{t('history.by')}</th>
              <th scope="col">{t('history.scope')}</th>
              <th scope="col">{t('history.details')}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.position} data-type={e.type}>
                <td>{dateTime(e.at)}</td>
                <td>
                  <code title={e.caseId}>{shortId(e.caseId)}</code>
                </td>
                <td>{term('event', e.type)}</td>
                <td>{e.recordedByAgencyId ? agencies.name(e.recordedByAgencyId) : '—'}</td>
                <td>
                  <Scope
                    agencies={list('agency', e.scope?.agencyIds)}
                    categories={list('category', e.scope?.categories)}
                    purposes={list('purpose', e.scope?.purposes)}
                    all={
                      e.type === 'ConsentWithdrawn' && e.whole === true ? t('history.allScope') : undefined
                    }
                  />
                </td>
                <td>
                  <Details entry={e} i18n={i18n} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor !== undefined && shown !== undefined && (
        <button type="button" className="no-print" disabled={busy} onClick={() => void load(shown, cursor)}>
          {t('app.loadMore')}
        </button>
      )}
    </section>
  );
}

function Scope(props: { agencies?: string; categories?: string; purposes?: string; all?: string }) {
  const { t } = useI18n();
  const rows: Array<[string, string | undefined]> = [
    [t('actions.agencies'), props.agencies],
    [t('actions.categories'), props.categories],
    [t('actions.purposes'), props.purposes],
  ];
  const present = rows.filter(([, v]) => v !== undefined && v !== '');
  if (present.length === 0) return <span>{props.all ?? '—'}</span>;
  return (
    <dl className="value">
      {present.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Details({ entry: e, i18n }: { entry: ConsentHistoryEntry; i18n: I18n }) {
  const { t, term, date, locale } = i18n;
  const lines: string[] = [];
  const reference = e.consentId ?? e.lawfulBasisId;
  if (reference) lines.push(t('history.reference', { id: reference }));
  if (e.type === 'ConsentWithdrawn') lines.push(t(e.whole ? 'history.whole' : 'history.part'));
  if (e.capture?.method)
    lines.push(
      t('history.capture', {
        method: term('method', e.capture.method),
        language: e.capture.language ? languageName(e.capture.language, locale) : '—',
      }) + (e.capture.interpreterUsed ? `, ${t('history.interpreter')}` : ''),
    );
  if (e.basis) lines.push(term('basis', e.basis));
  if (e.expiresAt) lines.push(t('history.expires', { date: date(e.expiresAt) }));
  return (
    <>
      {lines.map((line) => (
        <span key={line} className="detail-line">
          {line}
          <br />
        </span>
      ))}
      {typeof e.justification === 'object' ? (
        <q>{t('bg.justificationErased')}</q>
      ) : (
        e.justification && <q>{e.justification}</q>
      )}
    </>
  );
}
