import { useId, useState } from 'react';
import { idempotencyKey, type Finding } from '../api/client';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { FINDINGS } from '../api/vocabulary';
import { useI18n } from '../i18n/i18n';
import { SelectField, TextField } from '../ui/fields';
import { ProblemMessage, problemField } from '../ui/problem';
import { useLoad } from '../ui/use-load';
import { useSubmit } from '../ui/use-submit';

interface BreakGlassEntry {
  readonly eventId: string;
  readonly at: string;
  readonly agencyId: string;
  readonly caseId?: string;
  readonly subjectId?: string;
  readonly purpose?: string;
  readonly basis?: ReadonlyArray<{ readonly category: string }>;
  /** `{ erased: true }` once the person is erased: the text was sealed under their key. */
  readonly justification?: string | { readonly erased: true };
  readonly review?: { readonly status: string; readonly finding?: string };
}

export { FINDINGS };

export function BreakGlassQueue() {
  const api = useApi();
  const { t, term, dateTime } = useI18n();
  const id = useId();
  const [status, setStatus] = useState<'pending' | 'reviewed'>('pending');
  const [done, setDone] = useState('');
  const [loaded, reload] = useLoad(
    () =>
      answer<{ entries?: BreakGlassEntry[] }>(
        api.GET('/oversight/break-glass', { params: { query: { status, limit: 100 } } }),
      ),
    status,
  );
  const entries = loaded.state === 'ok' ? (loaded.data.entries ?? []) : [];
  return (
    <section aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>{t('bg.heading')}</h1>
      <div className="field no-print">
        <label htmlFor={`${id}-status`}>{t('bg.status')}</label>
        <select
          id={`${id}-status`}
          value={status}
          onChange={(e) => setStatus(e.target.value === 'reviewed' ? 'reviewed' : 'pending')}
        >
          <option value="pending">{t('bg.pending')}</option>
          <option value="reviewed">{t('bg.reviewed')}</option>
        </select>
      </div>
      <p role="status">{done}</p>
      {loaded.state === 'loading' && <p>{t('app.loading')}</p>}
      {loaded.state === 'failed' && <ProblemMessage problem={loaded.problem} />}
      {loaded.state === 'ok' && entries.length === 0 && <p>{t('bg.empty')}</p>}
      {entries.map((entry) => (
        <article key={entry.eventId} className="break-glass-entry" aria-labelledby={`${id}-${entry.eventId}`}>
          <h2 id={`${id}-${entry.eventId}`}>
            {dateTime(entry.at)} · {entry.agencyId}
          </h2>
          <dl className="facts">
            <div>
              <dt>{t('bg.case')}</dt>
              <dd>
                <code>{entry.caseId ?? '—'}</code>
              </dd>
            </div>
            <div>
              <dt>{t('bg.subject')}</dt>
              <dd>
                <code>{entry.subjectId ?? '—'}</code>
              </dd>
            </div>
            <div>
              <dt>{t('bg.purpose')}</dt>
              <dd>{entry.purpose ? term('purpose', entry.purpose) : '—'}</dd>
            </div>
            <div>
              <dt>{t('bg.read')}</dt>
              <dd>{(entry.basis ?? []).map((b) => term('category', b.category)).join(', ') || '—'}</dd>
            </div>
            <div>
              <dt>{t('bg.justification')}</dt>
              <dd>
                <blockquote>
                  {typeof entry.justification === 'object'
                    ? t('bg.justificationErased')
                    : (entry.justification ?? '—')}
                </blockquote>
              </dd>
            </div>
            {entry.review?.finding && (
              <div>
                <dt>{t('bg.finding')}</dt>
                <dd>{term('finding', entry.review.finding)}</dd>
              </div>
            )}
          </dl>
          {entry.review?.status !== 'reviewed' && (
            <ReviewForm
              accessEventId={entry.eventId}
              onDone={() => {
                setDone(t('bg.done'));
                reload();
              }}
            />
          )}
        </article>
      ))}
    </section>
  );
}

function ReviewForm({ accessEventId, onDone }: { accessEventId: string; onDone: () => void }) {
  const api = useApi();
  const { t, term } = useI18n();
  const id = useId();
  const [finding, setFinding] = useState<Finding | ''>('');
  const [note, setNote] = useState('');
  const { problem, busy, onSubmit } = useSubmit(async () => {
    await answer(
      api.POST('/oversight/break-glass/{accessEventId}/review', {
        params: { path: { accessEventId }, header: { 'Idempotency-Key': idempotencyKey() } },
        body: { finding: finding as Finding, ...(note.trim() ? { note: note.trim() } : {}) },
      }),
    );
    onDone();
  });
  const field = problemField(problem);
  return (
    <form onSubmit={onSubmit} className="review no-print" noValidate aria-label={t('bg.review')}>
      <SelectField
        id={`${id}-finding`}
        label={t('bg.finding')}
        field="finding"
        problemId={`${id}-finding-problem`}
        problem={problem}
        invalid={field === 'finding'}
        value={finding}
        onChange={(f) => setFinding(f as Finding | '')}
        placeholder={t('bg.chooseFinding')}
        options={FINDINGS}
        optionLabel={(f) => term('finding', f)}
      />
      <TextField
        id={`${id}-note`}
        label={t('bg.note')}
        field="note"
        problemId={`${id}-note-problem`}
        problem={problem}
        invalid={field === 'note'}
        value={note}
        maxLength={200}
        autoComplete="off"
        onChange={(e) => setNote(e.target.value)}
      />
      <button type="submit" className="primary" disabled={busy}>
        {t('bg.submit')}
      </button>
      {field !== 'finding' && field !== 'note' && <ProblemMessage problem={problem} />}
    </form>
  );
}
