import { useId, useRef, useState, type FormEvent } from 'react';
import { useApi } from '../api/context';
import { answer, ApiProblem } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import { ProblemMessage } from '../ui/problem';
import { NoEd25519, verifyExportText, type SignedCheckpoint, type Verification } from './verify-export';

/** The same verification with the command-line tool, for a file of this name. */
export function verifyCommand(fileName: string): string {
  const file = /^[\w.-]+$/.test(fileName) ? fileName : `'${fileName.replace(/'/g, `'\\''`)}'`;
  return `npm run -s ledger -- verify --file ${file} --checkpoint checkpoint.json --public-key ledger.vkey`;
}

/** A file's text (UTF-8): Blob.text where there is one, else a FileReader. */
function textOf(file: File): Promise<string> {
  if (typeof file.text === 'function') return file.text();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(reader.error ?? new Error('the file could not be read'));
    reader.readAsText(file, 'utf-8');
  });
}

/** An export file verified in the browser, each step's result shown; the file is sent nowhere. */
export function VerifyExportFile() {
  const api = useApi();
  const { t } = useI18n();
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [fileName, setFileName] = useState('log.ndjson');
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Verification | undefined>();
  const [problem, setProblem] = useState<unknown>();
  const [notice, setNotice] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const file = input.current?.files?.[0];
    setResult(undefined);
    setProblem(undefined);
    setNotice('');
    if (!file) {
      setMissing(true);
      return;
    }
    setBusy(true);
    try {
      const [key, latest] = await Promise.all([
        answer(api.GET('/audit/public-key')),
        answer<SignedCheckpoint | undefined>(api.GET('/audit/checkpoints/latest')),
      ]);
      if (!latest || typeof latest.treeSize !== 'number') {
        setNotice(t('verify.noCheckpoint'));
        return;
      }
      setResult(
        await verifyExportText(
          await textOf(file),
          {
            verifierKey: key.verifierKey,
            latest,
            consistency: async (from, to) =>
              (await answer(api.GET('/audit/proofs/consistency', { params: { query: { from, to } } }))).proof,
          },
          globalThis.crypto.subtle,
        ),
      );
    } catch (failure) {
      if (failure instanceof NoEd25519) setNotice(t('verify.noWebCrypto'));
      else if (failure instanceof ApiProblem && failure.code === 'AUDIT.NO_CHECKPOINT')
        setNotice(t('verify.noCheckpoint'));
      else setProblem(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{t('verify.heading')}</h2>
      <p>{t('verify.intro')}</p>
      <form onSubmit={(e) => void submit(e)} noValidate className="inline-form no-print">
        <label htmlFor={`${id}-file`}>{t('verify.file')}</label>
        <input
          id={`${id}-file`}
          ref={input}
          type="file"
          accept=".ndjson,.jsonl,.json,application/x-ndjson,text/plain"
          aria-invalid={missing}
          aria-describedby={missing ? `${id}-file-problem` : undefined}
          onChange={(e) => {
            setMissing(false);
            setFileName(e.target.files?.[0]?.name ?? 'log.ndjson');
          }}
        />
        <button type="submit" className="primary" disabled={busy}>
          {t('verify.submit')}
        </button>
        {missing && (
          <p className="field-problem" id={`${id}-file-problem`} role="alert">
            {t('verify.chooseFile')}
          </p>
        )}
      </form>
      <p role="status">{busy ? t('verify.running') : notice}</p>
      <ProblemMessage problem={problem} />
      {result && (
        <>
          <p className={result.ok ? 'notice' : 'problem'} role={result.ok ? undefined : 'alert'}>
            {t(result.ok ? 'verify.ok' : 'verify.failed')}
          </p>
          <h3>{t('verify.steps')}</h3>
          <ol className="verify-steps">
            {result.steps.map((s) => (
              <li key={s.step} data-step={s.step} data-result={s.outcome}>
                <strong>{t(`verify.step.${s.step}`)}</strong>:{' '}
                {t(
                  s.outcome === 'passed'
                    ? 'verify.passed'
                    : s.outcome === 'failed'
                      ? 'verify.failedStep'
                      : 'verify.skipped',
                )}
                {s.detail && (
                  <>
                    {' '}
                    <span className="hint" lang="en">
                      ({s.detail})
                    </span>
                  </>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
      <p>{t('verify.cli')}</p>
      <pre>
        <code>{verifyCommand(fileName)}</code>
      </pre>
    </section>
  );
}
