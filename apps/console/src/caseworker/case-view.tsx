import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { idempotencyKey, type Purpose, type ServiceType } from '../api/client';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { CATEGORIES, PURPOSES, SERVICE_TYPES } from '../api/vocabulary';
import { useI18n } from '../i18n/i18n';
import { FieldProblem, ProblemMessage, problemField } from '../ui/problem';

/** Every category the ledger knows (its API document's enum): what is not returned is named as not covered. */
export const DATA_CATEGORIES = CATEGORIES;
export { PURPOSES, SERVICE_TYPES };

export interface CaseDocument {
  readonly caseId: string;
  readonly purpose: string;
  readonly categories: Readonly<Record<string, unknown>>;
  readonly basis?: Readonly<Record<string, string>>;
}

// The purpose is remembered for this tab only, and only as a default the person still sees and can change.
let purposeOfSession: Purpose | '' = '';

export function CaseView({ caseId, onBack }: { caseId: string; onBack: () => void }) {
  const api = useApi();
  const { t, term } = useI18n();
  const id = useId();
  const [purpose, setPurpose] = useState<Purpose | ''>(purposeOfSession);
  const [view, setView] = useState<CaseDocument | undefined>();
  const [problem, setProblem] = useState<unknown>();
  const [missingPurpose, setMissingPurpose] = useState(false);
  const [busy, setBusy] = useState(false);

  const open = async (event: FormEvent) => {
    event.preventDefault();
    if (purpose === '') {
      setMissingPurpose(true);
      return;
    }
    purposeOfSession = purpose;
    setBusy(true);
    setProblem(undefined);
    try {
      setView(
        await answer<CaseDocument>(
          api.GET('/cases/{caseId}', { params: { path: { caseId }, header: { 'X-Purpose': purpose } } }),
        ),
      );
    } catch (failure) {
      setView(undefined);
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };

  const shown = view ? Object.keys(view.categories) : [];
  const hidden = DATA_CATEGORIES.filter((c) => !shown.includes(c));
  return (
    <section aria-labelledby={`${id}-heading`}>
      <button type="button" onClick={onBack} className="no-print">
        {t('case.back')}
      </button>
      <h1 id={`${id}-heading`}>{t('case.heading', { id: caseId })}</h1>
      <form onSubmit={(e) => void open(e)} className="inline-form" noValidate>
        <label htmlFor={`${id}-purpose`}>{t('case.purpose')}</label>
        <select
          id={`${id}-purpose`}
          name="purpose"
          value={purpose}
          required
          aria-invalid={missingPurpose}
          aria-describedby={missingPurpose ? `${id}-purpose-missing` : undefined}
          onChange={(e) => {
            setPurpose(e.target.value as Purpose | '');
            setMissingPurpose(false);
          }}
        >
          <option value="">{t('case.choosePurpose')}</option>
          {PURPOSES.map((p) => (
            <option key={p} value={p}>
              {term('purpose', p)}
            </option>
          ))}
        </select>
        {missingPurpose && (
          <p className="field-problem" id={`${id}-purpose-missing`}>
            {t('case.purposeRequired')}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {t('case.open')}
        </button>
      </form>
      <ProblemMessage problem={problem} />
      {view && (
        <>
          <p className="purpose-shown">{t('case.shownFor', { purpose: term('purpose', view.purpose) })}</p>
          <p className="recorded">{t('case.recorded')}</p>
          <section className="not-covered" aria-labelledby={`${id}-hidden`}>
            <h2 id={`${id}-hidden`}>{t('case.notCovered.heading')}</h2>
            {hidden.length === 0 ? (
              <p>{t('case.allCovered')}</p>
            ) : (
              <ul>
                {hidden.map((c) => (
                  <li key={c}>{t('case.notCovered.line', { category: term('category', c) })}</li>
                ))}
              </ul>
            )}
          </section>
          {shown.map((category) => (
            <section key={category} className="category" aria-labelledby={`${id}-${category}`}>
              <h2 id={`${id}-${category}`}>{term('category', category)}</h2>
              {view.basis?.[category] && (
                <p className="hint">{t('case.basis', { basis: term('basis', view.basis[category]) })}</p>
              )}
              <Value value={view.categories[category]} />
            </section>
          ))}
          <RecordService caseId={caseId} />
        </>
      )}
    </section>
  );
}

/** A category's data as nested lists: the console shows what the read returned, nothing more. */
function Value({ value }: { value: unknown }): ReactNode {
  const { dateTime } = useI18n();
  if (value === null || value === undefined) return <span>—</span>;
  if (Array.isArray(value))
    return value.length === 0 ? (
      <span>—</span>
    ) : (
      <ul className="value-list">
        {(value as unknown[]).map((item, index) => (
          <li key={index}>
            <Value value={item} />
          </li>
        ))}
      </ul>
    );
  if (typeof value === 'object')
    return (
      <dl className="value">
        {Object.entries(value as Record<string, unknown>).map(([key, inner]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>
              <Value value={inner} />
            </dd>
          </div>
        ))}
      </dl>
    );
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)) return <span>{dateTime(value)}</span>;
  if (typeof value === 'number' || typeof value === 'boolean') return <span>{String(value)}</span>;
  return <span>{typeof value === 'string' ? value : ''}</span>;
}

function RecordService({ caseId }: { caseId: string }) {
  const api = useApi();
  const { t, term } = useI18n();
  const id = useId();
  const [serviceType, setServiceType] = useState<ServiceType | ''>('');
  const [providedOn, setProvidedOn] = useState(() => new Date().toISOString().slice(0, 10));
  const [problem, setProblem] = useState<unknown>();
  const [done, setDone] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setDone('');
    try {
      await answer(
        api.POST('/cases/{caseId}/support-services', {
          params: { path: { caseId }, header: { 'Idempotency-Key': idempotencyKey() } },
          body: { serviceType: serviceType as ServiceType, providedOn },
        }),
      );
      setDone(t('case.service.done'));
    } catch (failure) {
      setProblem(failure);
    }
  };
  const field = problemField(problem);
  return (
    <section aria-labelledby={`${id}-heading`} className="no-print">
      <h2 id={`${id}-heading`}>{t('case.service.heading')}</h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div className="field">
          <label htmlFor={`${id}-type`}>{t('case.service.type')}</label>
          <select
            id={`${id}-type`}
            value={serviceType}
            aria-invalid={field === 'serviceType'}
            aria-describedby={field === 'serviceType' ? `${id}-type-problem` : undefined}
            onChange={(e) => setServiceType(e.target.value as ServiceType | '')}
          >
            <option value="">{t('case.service.chooseType')}</option>
            {SERVICE_TYPES.map((s) => (
              <option key={s} value={s}>
                {term('service', s)}
              </option>
            ))}
          </select>
          <FieldProblem problem={problem} field="serviceType" id={`${id}-type-problem`} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-date`}>{t('case.service.date')}</label>
          <input
            id={`${id}-date`}
            type="date"
            value={providedOn}
            aria-invalid={field === 'providedOn'}
            aria-describedby={field === 'providedOn' ? `${id}-date-problem` : undefined}
            onChange={(e) => setProvidedOn(e.target.value)}
          />
          <FieldProblem problem={problem} field="providedOn" id={`${id}-date-problem`} />
        </div>
        <button type="submit" className="primary">
          {t('case.service.submit')}
        </button>
        {field !== 'serviceType' && field !== 'providedOn' && <ProblemMessage problem={problem} />}
        <p role="status">{done}</p>
      </form>
    </section>
  );
}
