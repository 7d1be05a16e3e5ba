import { useId } from 'react';
import { useApi } from '../api/context';
import { answer, ApiProblem } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import { ProblemMessage } from '../ui/problem';
import { useLoad } from '../ui/use-load';

/** The names on a signed note's signature lines ("— <name> <signature>"), the log's own left out. */
export function witnessesOf(note: string, origin: string): string[] {
  const signatures = note.split('\n\n').slice(1).join('\n\n');
  return signatures
    .split('\n')
    .filter((line) => line.startsWith('— '))
    .map((line) => line.slice(2).split(' ')[0] ?? '')
    .filter((name) => name !== '' && name !== origin);
}

const VERIFY_STEPS = [
  'npm run -s ledger -- public-key --vkey > ledger.vkey',
  'npm run -s ledger -- checkpoint > checkpoint.json',
  'npm run -s ledger -- export --from 1 --out log.ndjson --purpose oversight-review --reason <file number>',
  'npm run -s ledger -- verify --file log.ndjson --checkpoint checkpoint.json --public-key ledger.vkey',
];

export function Integrity() {
  const api = useApi();
  const { t, dateTime, number } = useI18n();
  const id = useId();
  const [loaded] = useLoad(
    () =>
      answer(api.GET('/audit/checkpoints/latest')).catch((problem: unknown) => {
        if (problem instanceof ApiProblem && problem.status === 404) return undefined;
        throw problem;
      }),
    'latest',
  );
  const checkpoint = loaded.state === 'ok' ? loaded.data : undefined;
  const witnesses = checkpoint ? witnessesOf(checkpoint.note, checkpoint.origin) : [];
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>{t('integrity.heading')}</h1>
      <p>{t('integrity.intro')}</p>
      {loaded.state === 'loading' && <p>{t('app.loading')}</p>}
      {loaded.state === 'failed' && <ProblemMessage problem={loaded.problem} />}
      {loaded.state === 'ok' && !checkpoint && <p>{t('integrity.none')}</p>}
      {checkpoint && (
        <>
          <dl className="facts">
            <div>
              <dt>{t('integrity.origin')}</dt>
              <dd>
                <code>{checkpoint.origin}</code>
              </dd>
            </div>
            <div>
              <dt>{t('integrity.treeSize')}</dt>
              <dd>{number(checkpoint.treeSize)}</dd>
            </div>
            <div>
              <dt>{t('integrity.time')}</dt>
              <dd>{dateTime(checkpoint.time)}</dd>
            </div>
            <div>
              <dt>{t('integrity.rootHash')}</dt>
              <dd>
                <code className="hash">{checkpoint.rootHash}</code>
              </dd>
            </div>
            <div>
              <dt>{t('integrity.keyId')}</dt>
              <dd>
                <code>{checkpoint.keyId}</code>
              </dd>
            </div>
            <div>
              <dt>{t('integrity.witnesses')}</dt>
              <dd>
                {witnesses.length === 0 ? (
                  t('integrity.noWitness')
                ) : (
                  <ul className="value-list">
                    {witnesses.map((w) => (
                      <li key={w}>
                        <code>{w}</code>
                      </li>
                    ))}
                  </ul>
                )}
              </dd>
            </div>
          </dl>
          <p>{t('integrity.verify')}</p>
          <ol className="steps">
            {VERIFY_STEPS.map((step) => (
              <li key={step}>
                <code>{step}</code>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
