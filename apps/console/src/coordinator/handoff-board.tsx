import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import type { BoardStatus } from '../api/client';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { REFERRAL_STATUSES } from '../api/vocabulary';
import { useI18n } from '../i18n/i18n';
import { useAgencies } from '../ui/agencies';
import { PAGE_SIZE, Pager, pageOf } from '../ui/pager';
import { FieldProblem, ProblemMessage, problemField } from '../ui/problem';
import { shortId } from '../ui/tabs';

/**
 * A row of the board as the console reads it: only these fields, picked one by one, so that an
 * identity an answer might carry by mistake is never rendered on a coordinator's screen.
 */
export interface BoardRow {
  readonly referralId: string;
  readonly fromAgencyId: string;
  readonly toAgencyId: string;
  readonly status: string;
  readonly urgency: string;
  readonly transnational: boolean;
  readonly madeAt: string;
  readonly secondsToAcknowledge: number | null;
  readonly secondsToHandoff: number | null;
  readonly overdue: boolean;
  readonly escalated: boolean;
}

interface Percentiles {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
}

interface BoardPage {
  readonly at?: string;
  readonly referrals?: readonly Record<string, unknown>[];
  readonly next?: { readonly cursor?: string };
  readonly summary?: {
    readonly referrals: number;
    readonly overdue: number;
    readonly escalated: number;
    readonly secondsToAcknowledge?: Percentiles;
    readonly secondsToHandoff?: Percentiles;
  };
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' ? v : null);

export function boardRow(raw: Readonly<Record<string, unknown>>): BoardRow {
  return {
    referralId: str(raw.referralId),
    fromAgencyId: str(raw.fromAgencyId),
    toAgencyId: str(raw.toAgencyId),
    status: str(raw.status),
    urgency: str(raw.urgency),
    transnational: raw.transnational === true,
    madeAt: str(raw.madeAt),
    secondsToAcknowledge: num(raw.secondsToAcknowledge),
    secondsToHandoff: num(raw.secondsToHandoff),
    overdue: raw.overdue === true,
    escalated: raw.escalated === true,
  };
}

/** The statuses the board filters by, from the API document. */
export const BOARD_STATUSES = REFERRAL_STATUSES;

type SortKey = 'madeAt' | 'secondsToAcknowledge' | 'secondsToHandoff';

interface Filters {
  from: string;
  to: string;
  status: BoardStatus | '';
  fromAgencyId: string;
  toAgencyId: string;
  asOf: string;
}

const EMPTY: Filters = { from: '', to: '', status: '', fromAgencyId: '', toAgencyId: '', asOf: '' };
/** A date input's day, or a datetime-local's minute, as the instant the ledger parses. */
const instant = (value: string) => (value === '' ? undefined : new Date(value).toISOString());

export function HandoffBoard() {
  const api = useApi();
  const i18n = useI18n();
  const { t, term, dateTime, duration, number } = i18n;
  const agencies = useAgencies();
  const id = useId();
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [page, setPage] = useState<BoardPage | undefined>();
  const [rows, setRows] = useState<BoardRow[]>([]);
  const [problem, setProblem] = useState<unknown>();
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: 'madeAt',
    descending: true,
  });
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState(0);

  const load = async (cursor?: string) => {
    setBusy(true);
    setProblem(undefined);
    try {
      const next = await answer<BoardPage>(
        api.GET('/coordinator/handoff-board', {
          params: {
            query: {
              from: instant(filters.from),
              to: instant(filters.to),
              status: filters.status === '' ? undefined : filters.status,
              fromAgencyId: filters.fromAgencyId || undefined,
              toAgencyId: filters.toAgencyId || undefined,
              asOf: instant(filters.asOf),
              limit: PAGE_SIZE,
              cursor,
            },
          },
        }),
      );
      const more = (next.referrals ?? []).map(boardRow);
      setRows((before) => (cursor ? [...before, ...more] : more));
      if (!cursor) setShown(0);
      setPage(next);
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };
  const apply = (event: FormEvent) => {
    event.preventDefault();
    void load();
  };
  useEffect(() => {
    // The board as it stands now, before any filter is chosen.
    void load();
  }, []);

  // Sorted once per change of the rows or the order, not on every render: with 10,000 rows loaded
  // only the page shown is rendered (the ledger's figures in the summary cover every row).
  const sorted = useMemo(
    () =>
      [...rows].sort((a, b) => {
        const x = a[sort.key];
        const y = b[sort.key];
        // Rows without the figure go last whichever the direction.
        if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
        const order = typeof x === 'number' && typeof y === 'number' ? x - y : x < y ? -1 : x > y ? 1 : 0;
        return sort.descending ? -order : order;
      }),
    [rows, sort],
  );
  const view = pageOf(sorted, shown);
  const sortButton = (key: SortKey, label: string) => (
    <button
      type="button"
      className="sort"
      onClick={() => {
        setSort((s) => ({ key, descending: s.key === key ? !s.descending : false }));
        setShown(0);
      }}
    >
      {label}
      <span aria-hidden="true">{sort.key === key ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
      <span className="visually-hidden">{t('board.sortBy', { column: label })}</span>
    </button>
  );
  const ariaSort = (key: SortKey) =>
    sort.key === key ? (sort.descending ? 'descending' : 'ascending') : undefined;
  const field = problemField(problem);
  const input = (name: keyof Filters, label: string, type: 'date' | 'datetime-local') => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        type={type}
        value={filters[name]}
        aria-invalid={field === name}
        aria-describedby={field === name ? `${id}-${name}-problem` : undefined}
        onChange={(e) => setFilters((f) => ({ ...f, [name]: e.target.value }))}
      />
      <FieldProblem problem={problem} field={name} id={`${id}-${name}-problem`} />
    </div>
  );
  const agencySelect = (name: 'fromAgencyId' | 'toAgencyId', label: string) => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <select
        id={`${id}-${name}`}
        value={filters[name]}
        onChange={(e) => setFilters((f) => ({ ...f, [name]: e.target.value }))}
      >
        <option value="">{t('board.anyAgency')}</option>
        {agencies.list.map((a) => (
          <option key={a.agencyId} value={a.agencyId}>
            {a.name}
          </option>
        ))}
      </select>
    </div>
  );
  const summary = page?.summary;
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>{t('board.heading')}</h1>
      <form onSubmit={apply} className="filters no-print" noValidate>
        {input('from', t('board.from'), 'date')}
        {input('to', t('board.to'), 'date')}
        <div className="field">
          <label htmlFor={`${id}-status`}>{t('board.status')}</label>
          <select
            id={`${id}-status`}
            value={filters.status}
            onChange={(e) => setFilters((f) => ({ ...f, status: e.target.value as BoardStatus | '' }))}
          >
            <option value="">{t('board.anyStatus')}</option>
            {BOARD_STATUSES.map((s) => (
              <option key={s} value={s}>
                {term('status', s)}
              </option>
            ))}
          </select>
        </div>
        {agencySelect('fromAgencyId', t('board.fromAgency'))}
        {agencySelect('toAgencyId', t('board.toAgency'))}
        {input('asOf', t('board.asOf'), 'datetime-local')}
        <button type="submit" className="primary" disabled={busy}>
          {t('board.apply')}
        </button>
      </form>
      {!['from', 'to', 'asOf'].includes(field ?? '') && <ProblemMessage problem={problem} />}
      {busy && <p role="status">{t('app.loading')}</p>}
      {page && (
        <>
          <p className="hint">{t('board.at', { at: dateTime(page.at) })}</p>
          {summary && (
            <>
              <p role="status">
                {t('board.summary', {
                  count: number(summary.referrals),
                  overdue: number(summary.overdue),
                  escalated: number(summary.escalated),
                })}
              </p>
              <table className="figures">
                <caption>{t('board.figures')}</caption>
                <thead>
                  <tr>
                    <td />
                    <th scope="col">{t('board.p50')}</th>
                    <th scope="col">{t('board.p90')}</th>
                    <th scope="col">{t('board.count')}</th>
                  </tr>
                </thead>
                <tbody>
                  {(
                    [
                      ['board.ack', summary.secondsToAcknowledge],
                      ['board.handoff', summary.secondsToHandoff],
                    ] as const
                  ).map(([label, p]) => (
                    <tr key={label}>
                      <th scope="row">{t(label)}</th>
                      <td>{duration(p?.p50)}</td>
                      <td>{duration(p?.p90)}</td>
                      <td>{number(p?.count ?? 0)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {sorted.length === 0 ? (
            <p>{t('board.empty')}</p>
          ) : (
            <table className="board">
              <thead>
                <tr>
                  <th scope="col">{t('board.referral')}</th>
                  <th scope="col">{t('referrals.from')}</th>
                  <th scope="col">{t('referrals.to')}</th>
                  <th scope="col">{t('referrals.status')}</th>
                  <th scope="col">{t('referrals.urgency')}</th>
                  <th scope="col" aria-sort={ariaSort('madeAt')}>
                    {sortButton('madeAt', t('board.made'))}
                  </th>
                  <th scope="col" aria-sort={ariaSort('secondsToAcknowledge')}>
                    {sortButton('secondsToAcknowledge', t('board.ack'))}
                  </th>
                  <th scope="col" aria-sort={ariaSort('secondsToHandoff')}>
                    {sortButton('secondsToHandoff', t('board.handoff'))}
                  </th>
                  <th scope="col">{t('board.flags')}</th>
                </tr>
              </thead>
              <tbody>
                {view.rows.map((r) => (
                  <tr
                    key={r.referralId}
                    className={r.escalated ? 'escalated' : r.overdue ? 'overdue' : undefined}
                    data-referral={r.referralId}
                  >
                    <td>
                      <code>{shortId(r.referralId)}</code>
                    </td>
                    <td>{agencies.name(r.fromAgencyId)}</td>
                    <td>{agencies.name(r.toAgencyId)}</td>
                    <td>{term('status', r.status)}</td>
                    <td>{term('urgency', r.urgency)}</td>
                    <td>{dateTime(r.madeAt)}</td>
                    <td>{duration(r.secondsToAcknowledge)}</td>
                    <td>{duration(r.secondsToHandoff)}</td>
                    <td>
                      {r.overdue && <span className="badge overdue">{t('referrals.overdue')}</span>}
                      {r.escalated && <span className="badge escalated">{t('referrals.escalated')}</span>}
                      {r.transnational && <span className="badge">{t('referrals.transnational')}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <Pager
            label={t('board.pages')}
            page={view}
            onPage={setShown}
            busy={busy}
            more={page.next?.cursor ? () => load(page.next?.cursor) : undefined}
          />
        </>
      )}
    </section>
  );
}
