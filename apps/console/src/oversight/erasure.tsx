import { useId, useState } from 'react';
import { idempotencyKey } from '../api/client';
import { ERASURE_GROUNDS } from '../api/vocabulary';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import { SelectField, TextField } from '../ui/fields';
import { ProblemMessage, problemField } from '../ui/problem';
import { useSubmit } from '../ui/use-submit';

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
  const subject = subjectId.trim();

  const { problem, done, busy, onSubmit } = useSubmit(
    async () => {
      await answer(
        api.POST('/subjects/{subjectId}/erasure', {
          params: { path: { subjectId: subject }, header: { 'Idempotency-Key': idempotencyKey() } },
          body: {
            ground: ground as (typeof ERASURE_GROUNDS)[number],
            ...(reference.trim() ? { reference: reference.trim() } : {}),
          },
        }),
      );
      setConfirm('');
      return t('erase.done', { subject });
    },
    () => {
      if (subject !== '' && confirm.trim() === subject) return true;
      setMismatch(true);
      return false;
    },
  );

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
      <form onSubmit={onSubmit} noValidate className="action-form">
        <TextField
          id={`${id}-subject`}
          label={t('erase.subject')}
          field="subjectId"
          problemId={`${id}-subject-problem`}
          problem={problem}
          invalid={field === 'subjectId'}
          value={subjectId}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => {
            setSubjectId(e.target.value);
            setMismatch(false);
          }}
        />
        <SelectField
          id={`${id}-ground`}
          label={t('erase.ground')}
          field="ground"
          problemId={`${id}-ground-problem`}
          problem={problem}
          invalid={field === 'ground'}
          value={ground}
          onChange={setGround}
          placeholder={t('erase.ground.choose')}
          options={ERASURE_GROUNDS}
          optionLabel={(g) => term('ground', g)}
        />
        <TextField
          id={`${id}-reference`}
          label={t('erase.reference')}
          field="reference"
          problemId={`${id}-reference-problem`}
          problem={problem}
          invalid={field === 'reference'}
          value={reference}
          maxLength={200}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setReference(e.target.value)}
        />
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
