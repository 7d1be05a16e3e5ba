import { useId } from 'react';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import { ProblemMessage } from '../ui/problem';
import { useLoad } from '../ui/use-load';

interface MyCase {
  readonly caseId: string;
  readonly relations: readonly string[];
}

export function MyCases({ onOpenCase }: { onOpenCase: (caseId: string) => void }) {
  const api = useApi();
  const { t, term } = useI18n();
  const headingId = useId();
  const [loaded] = useLoad(
    () => answer<{ cases?: MyCase[] }>(api.GET('/cases', { params: { query: { limit: 100 } } })),
    'cases',
  );
  return (
    <section aria-labelledby={headingId}>
      <h1 id={headingId}>{t('cases.heading')}</h1>
      {loaded.state === 'loading' && <p>{t('app.loading')}</p>}
      {loaded.state === 'failed' && <ProblemMessage problem={loaded.problem} />}
      {loaded.state === 'ok' && (loaded.data.cases ?? []).length === 0 && <p>{t('cases.empty')}</p>}
      {loaded.state === 'ok' && (loaded.data.cases ?? []).length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('referrals.case')}</th>
              <th scope="col">{t('cases.relations')}</th>
              <th scope="col">{t('referrals.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {(loaded.data.cases ?? []).map((c) => (
              <tr key={c.caseId}>
                <td>
                  <code>{c.caseId}</code>
                </td>
                <td>{c.relations.map((r) => term('relation', r)).join(', ')}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => onOpenCase(c.caseId)}
                    aria-label={`${t('cases.open')} ${c.caseId}`}
                  >
                    {t('cases.open')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
