import { useId, useState, type FormEvent } from 'react';
import { idempotencyKey } from '../api/client';
import { ERASURE_GROUNDS } from '../api/vocabulary';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import { FieldProblem, ProblemMessage, problemField } from '../ui/problem';

/**
 * Erasure of a person's identity data (crypto-shredding), behind an explicit confirmation: the
 * page says what goes and what stays, and the person reference must be typed a second time. Why
 * is a legal ground from the API's list and an optional reference code: the record outlives the
 * erasure in clear, so it takes no prose that could name the person.
 */
export function Erasure() {
  const api = useApi();
  const { t, term } = useI18n();
  const id = useId();
  const [subjectId, setSubjectId] = useState('');
  const [ground, setGround] = useState('');
  const [reference, setReference] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [problem, setProblem] = useState<unknown>();
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setDone('');
    const subject = subjectId.trim();
    if (subject === '' || confirm.trim() !== subject) {
      setMismatch(true);
      return;
    }
    setBusy(true);
    try {
      await answer(
        api.POST('/subjects/{subjectId}/erasure', {
          params: { path: { subjectId: subject }, header: { 'Idempotency-Key': idempotencyKey() } },
          body: {
            ground: ground as (typeof ERASURE_GROUNDS)[number],
            ...(reference.trim() ? { reference: reference.trim() } : {}),
          },
        }),
      );
      setDone(t('erase.done', { subject }));
      setConfirm('');
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };

  const field = problemField(problem);
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>{t('erase.heading')}</h1>
      <div className="danger-zone">
        <p>{t('erase.intro')}</p>
        <h2>{t('erase.removed')}</h2>
        <ul>
          <li>{t('erase.removed.identity')}</li>
          <li>{t('erase.removed.reports')}</li>
        </ul>
        <h2>{t('erase.kept')}</h2>
        <ul>
          <li>{t('erase.kept.events')}</li>
          <li>{t('erase.kept.record')}</li>
        </ul>
      </div>
      <form onSubmit={(e) => void submit(e)} noValidate className="action-form">
        <div className="field">
          <label htmlFor={`${id}-subject`}>{t('erase.subject')}</label>
          <input
            id={`${id}-subject`}
            value={subjectId}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={field === 'subjectId'}
            aria-describedby={field === 'subjectId' ? `${id}-subject-problem` : undefined}
            onChange={(e) => {
              setSubjectId(e.target.value);
              setMismatch(false);
            }}
          />
          <FieldProblem problem={problem} field="subjectId" id={`${id}-subject-problem`} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-ground`}>{t('erase.ground')}</label>
          <select
            id={`${id}-ground`}
            value={ground}
            aria-invalid={field === 'ground'}
            aria-describedby={field === 'ground' ? `${id}-ground-problem` : undefined}
            onChange={(e) => setGround(e.target.value)}
          >
            <option value="">{t('erase.ground.choose')}</option>
            {ERASURE_GROUNDS.map((g) => (
              <option key={g} value={g}>
                {term('ground', g)}
              </option>
            ))}
          </select>
          <FieldProblem problem={problem} field="ground" id={`${id}-ground-problem`} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-reference`}>{t('erase.reference')}</label>
          <input
            id={`${id}-reference`}
            value={reference}
            maxLength={200}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={field === 'reference'}
            aria-describedby={field === 'reference' ? `${id}-reference-problem` : undefined}
            onChange={(e) => setReference(e.target.value)}
          />
          <FieldProblem problem={problem} field="reference" id={`${id}-reference-problem`} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-confirm`}>{t('erase.confirm')}</label>
          <input
            id={`${id}-confirm`}
            value={confirm}
            spellCheck={false}
            autoComplete="off"
            aria-invalid={mismatch}
            aria-describedby={mismatch ? `${id}-confirm-problem` : undefined}
            onChange={(e) => {
              setConfirm(e.target.value);
              setMismatch(false);
            }}
          />
          {mismatch && (
            <p className="field-problem" id={`${id}-confirm-problem`} role="alert">
              {t('erase.mismatch')}
            </p>
          )}
        </div>
        <button type="submit" className="danger" disabled={busy}>
          {t('erase.submit')}
        </button>
        {field !== 'subjectId' && field !== 'ground' && field !== 'reference' && (
          <ProblemMessage problem={problem} />
        )}
        <p role="status">{done}</p>
      </form>
    </section>
  );
}
