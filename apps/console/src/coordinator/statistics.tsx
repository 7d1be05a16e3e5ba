import { useId } from 'react';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import { ProblemMessage } from '../ui/problem';
import { useLoad } from '../ui/use-load';

type Cell = { readonly count: number } | { readonly suppressed: true };

interface Month {
  readonly month: string;
  readonly cases?: Cell;
  readonly byExploitationForm?: Readonly<Record<string, Cell>>;
}

interface StatisticsAnswer {
  readonly k?: number;
  readonly months?: readonly Month[];
}

/** A count, or a cell marked as suppressed (never a blank or a zero that would hide the difference). */
export function StatisticCell({ cell }: { cell: Cell | undefined }) {
  const { t, number } = useI18n();
  if (cell === undefined) return <td>—</td>;
  if ('suppressed' in cell)
    return (
      <td className="suppressed" data-suppressed="true">
        {t('stats.suppressed')}
      </td>
    );
  return <td>{number(cell.count)}</td>;
}

export function Statistics() {
  const api = useApi();
  const { t } = useI18n();
  const id = useId();
  const [loaded] = useLoad(() => answer<StatisticsAnswer>(api.GET('/coordinator/statistics')), 'statistics');
  const months = loaded.state === 'ok' ? (loaded.data.months ?? []) : [];
  const forms = [...new Set(months.flatMap((m) => Object.keys(m.byExploitationForm ?? {})))];
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>{t('stats.heading')}</h1>
      {loaded.state === 'loading' && <p>{t('app.loading')}</p>}
      {loaded.state === 'failed' && <ProblemMessage problem={loaded.problem} />}
      {loaded.state === 'ok' && (
        <>
          <p className="hint" id={`${id}-note`}>
            {t('stats.suppressedNote', { k: loaded.data.k ?? 5 })}
          </p>
          <div className="scroll" role="region" aria-labelledby={`${id}-heading`} tabIndex={0}>
            <table aria-describedby={`${id}-note`}>
              <thead>
                <tr>
                  <th scope="col">{t('stats.month')}</th>
                  <th scope="col">{t('stats.cases')}</th>
                  {forms.map((f) => (
                    <th scope="col" key={f}>
                      <span className="visually-hidden">{t('stats.byForm')}: </span>
                      {f}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {months.map((m) => (
                  <tr key={m.month}>
                    <th scope="row">{m.month}</th>
                    <StatisticCell cell={m.cases} />
                    {forms.map((f) => (
                      <StatisticCell key={f} cell={m.byExploitationForm?.[f]} />
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {months.length === 0 && <p>{t('app.none')}</p>}
        </>
      )}
    </section>
  );
}
