import { useId, useState, type FormEvent } from 'react';
import { idempotencyKey, type Schemas } from '../api/client';
import { useApi } from '../api/context';
import { answer, ApiProblem } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import { useAgencies } from '../ui/agencies';
import { CheckboxGroup, FieldProblemFor, formField } from '../ui/choices';
import { ProblemMessage } from '../ui/problem';

type Grant = Schemas['GrantConsentDto'];
export type Category = Grant['categories'][number];
export type ConsentPurpose = Grant['purposes'][number];
export type CaptureMethod = Grant['capture']['method'];
type Referral = Schemas['MakeReferralDto'];
type Service = Referral['servicesRequested'][number];
type Urgency = Referral['urgency'];

export const CATEGORIES = [
  'identity',
  'contact',
  'health',
  'exploitation',
  'immigration-status',
  'support-needs',
  'case-status',
] as const satisfies readonly Category[];
export const CONSENT_PURPOSES = [
  'assistance',
  'referral',
  'protection',
  'investigation',
  'statistics',
] as const satisfies readonly ConsentPurpose[];
export const CAPTURE_METHODS = [
  'written',
  'verbal-with-witness',
  'guardian',
] as const satisfies readonly CaptureMethod[];
export const URGENCIES = ['routine', 'urgent', 'emergency'] as const satisfies readonly Urgency[];
export const SERVICES = [
  'accommodation',
  'medical',
  'psychological',
  'legal',
  'interpretation',
  'language-training',
  'education',
  'employment-counselling',
  'internship',
  'financial',
  'return-assistance',
] as const satisfies readonly Service[];

const DAY = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** A `datetime-local` value (the reader's local time) for an instant. */
const localDateTime = (ms: number) => {
  const at = new Date(ms);
  return new Date(ms - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
/** The instant of a `datetime-local` value, or the value as typed for the ledger to refuse by name. */
const instantOf = (local: string) => {
  const ms = new Date(local).getTime();
  return Number.isNaN(ms) ? local : new Date(ms).toISOString();
};

/** The problem's field as this form names it, when it is one of `fields`; else undefined (a form-wide problem). */
function fieldOf(problem: unknown, fields: readonly string[]): string | undefined {
  const field = problem instanceof ApiProblem ? formField(problem.field) : undefined;
  return field !== undefined && fields.includes(field) ? field : undefined;
}

/**
 * What a caseworker records on a case without reading it: the person's consent and its
 * withdrawal, and a referral. Each form keeps what was typed when the ledger refuses it.
 */
export function CaseActions({ caseId }: { caseId: string }) {
  const { t } = useI18n();
  const id = useId();
  const [lastConsent, setLastConsent] = useState('');
  return (
    <section aria-labelledby={`${id}-heading`} className="case-actions no-print">
      <h2 id={`${id}-heading`}>{t('actions.heading')}</h2>
      <p className="hint">{t('actions.intro')}</p>
      <RecordConsent caseId={caseId} onRecorded={setLastConsent} />
      <WithdrawConsent caseId={caseId} lastConsent={lastConsent} />
      <MakeReferral caseId={caseId} />
    </section>
  );
}

const CONSENT_FIELDS = [
  'agencyIds',
  'categories',
  'purposes',
  'expiresAt',
  'capture.method',
  'capture.language',
  'capture.witnessPrincipalId',
  'capture.guardianReference',
];

export function RecordConsent({
  caseId,
  onRecorded,
}: {
  caseId: string;
  onRecorded: (consentId: string) => void;
}) {
  const api = useApi();
  const { t, term } = useI18n();
  const agencies = useAgencies();
  const id = useId();
  const [agencyIds, setAgencyIds] = useState<string[]>([]);
  const [categories, setCategories] = useState<Category[]>([]);
  const [purposes, setPurposes] = useState<ConsentPurpose[]>([]);
  const [expiresOn, setExpiresOn] = useState(() => isoDay(Date.now() + 180 * DAY));
  const [method, setMethod] = useState<CaptureMethod | ''>('');
  const [language, setLanguage] = useState('');
  const [interpreterUsed, setInterpreterUsed] = useState(false);
  const [witness, setWitness] = useState('');
  const [guardian, setGuardian] = useState('');
  const [problem, setProblem] = useState<unknown>();
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setDone('');
    setBusy(true);
    try {
      const recorded = await answer<{ consentId?: unknown }>(
        api.POST('/cases/{caseId}/consents', {
          params: { path: { caseId }, header: { 'Idempotency-Key': idempotencyKey() } },
          body: {
            agencyIds,
            categories,
            purposes,
            // The end of the chosen day, in UTC: a date is what the person agreed to.
            expiresAt: expiresOn === '' ? '' : `${expiresOn}T23:59:59Z`,
            capture: {
              method: method as CaptureMethod,
              language: language.trim(),
              interpreterUsed,
              ...(method === 'verbal-with-witness' && witness.trim() !== ''
                ? { witnessPrincipalId: witness.trim() }
                : {}),
              ...(method === 'guardian' && guardian.trim() !== ''
                ? { guardianReference: guardian.trim() }
                : {}),
            },
          },
        }),
      );
      const consentId = recorded.consentId;
      const reference = typeof consentId === 'string' ? consentId : '';
      setDone(t('consent.done', { id: reference }));
      onRecorded(reference);
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };

  const field = fieldOf(problem, CONSENT_FIELDS);
  const describe = (name: string) => ({
    'aria-invalid': field === name,
    'aria-describedby': field === name ? `${id}-${name}-problem` : undefined,
  });
  return (
    <form
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby={`${id}-heading`}
      className="action-form"
    >
      <h3 id={`${id}-heading`}>{t('consent.heading')}</h3>
      <p className="hint">{t('consent.hint')}</p>
      {agencies.list.length === 0 ? (
        <p>{t('actions.loadingAgencies')}</p>
      ) : (
        <CheckboxGroup
          id={id}
          legend={t('actions.agencies')}
          field="agencyIds"
          options={agencies.list.map((a) => a.agencyId)}
          chosen={agencyIds}
          onChange={setAgencyIds}
          label={(a) => agencies.name(a)}
          problem={problem}
          invalid={field === 'agencyIds'}
        />
      )}
      <CheckboxGroup
        id={id}
        legend={t('actions.categories')}
        field="categories"
        options={CATEGORIES}
        chosen={categories}
        onChange={setCategories}
        label={(c) => term('category', c)}
        problem={problem}
        invalid={field === 'categories'}
      />
      <CheckboxGroup
        id={id}
        legend={t('actions.purposes')}
        field="purposes"
        options={CONSENT_PURPOSES}
        chosen={purposes}
        onChange={setPurposes}
        label={(p) => term('purpose', p)}
        problem={problem}
        invalid={field === 'purposes'}
      />
      <div className="field">
        <label htmlFor={`${id}-expires`}>{t('consent.expiresAt')}</label>
        <input
          id={`${id}-expires`}
          type="date"
          value={expiresOn}
          onChange={(e) => setExpiresOn(e.target.value)}
          {...describe('expiresAt')}
        />
        <FieldProblemFor problem={problem} field="expiresAt" id={`${id}-expiresAt-problem`} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-method`}>{t('consent.method')}</label>
        <select
          id={`${id}-method`}
          value={method}
          onChange={(e) => setMethod(e.target.value as CaptureMethod | '')}
          {...describe('capture.method')}
        >
          <option value="">{t('consent.chooseMethod')}</option>
          {CAPTURE_METHODS.map((m) => (
            <option key={m} value={m}>
              {term('method', m)}
            </option>
          ))}
        </select>
        <FieldProblemFor problem={problem} field="capture.method" id={`${id}-capture.method-problem`} />
      </div>
      {method === 'verbal-with-witness' && (
        <div className="field">
          <label htmlFor={`${id}-witness`}>{t('consent.witness')}</label>
          <input
            id={`${id}-witness`}
            value={witness}
            autoComplete="off"
            onChange={(e) => setWitness(e.target.value)}
            {...describe('capture.witnessPrincipalId')}
          />
          <FieldProblemFor
            problem={problem}
            field="capture.witnessPrincipalId"
            id={`${id}-capture.witnessPrincipalId-problem`}
          />
        </div>
      )}
      {method === 'guardian' && (
        <div className="field">
          <label htmlFor={`${id}-guardian`}>{t('consent.guardian')}</label>
          <input
            id={`${id}-guardian`}
            value={guardian}
            autoComplete="off"
            onChange={(e) => setGuardian(e.target.value)}
            {...describe('capture.guardianReference')}
          />
          <FieldProblemFor
            problem={problem}
            field="capture.guardianReference"
            id={`${id}-capture.guardianReference-problem`}
          />
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-language`}>{t('consent.language')}</label>
        <input
          id={`${id}-language`}
          value={language}
          autoComplete="off"
          size={8}
          onChange={(e) => setLanguage(e.target.value)}
          {...describe('capture.language')}
        />
        <FieldProblemFor problem={problem} field="capture.language" id={`${id}-capture.language-problem`} />
      </div>
      <label className="choice">
        <input
          type="checkbox"
          checked={interpreterUsed}
          onChange={(e) => setInterpreterUsed(e.target.checked)}
        />{' '}
        {t('consent.interpreter')}
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {t('consent.submit')}
      </button>
      {field === undefined && <ProblemMessage problem={problem} />}
      <p role="status">{done}</p>
    </form>
  );
}

const WITHDRAW_FIELDS = ['consentId', 'agencyIds', 'categories', 'purposes'];

export function WithdrawConsent({ caseId, lastConsent }: { caseId: string; lastConsent: string }) {
  const api = useApi();
  const { t, term } = useI18n();
  const agencies = useAgencies();
  const id = useId();
  const [typed, setTyped] = useState<string | undefined>();
  const consentId = typed ?? lastConsent;
  const [part, setPart] = useState(false);
  const [agencyIds, setAgencyIds] = useState<string[]>([]);
  const [categories, setCategories] = useState<Category[]>([]);
  const [purposes, setPurposes] = useState<ConsentPurpose[]>([]);
  const [problem, setProblem] = useState<unknown>();
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setDone('');
    setBusy(true);
    try {
      // Only the lists named: a list left out is not withdrawn from, no list at all withdraws the whole.
      const body = part
        ? {
            ...(agencyIds.length > 0 ? { agencyIds } : {}),
            ...(categories.length > 0 ? { categories } : {}),
            ...(purposes.length > 0 ? { purposes } : {}),
          }
        : {};
      const withdrawn = await answer<{ [field: string]: unknown }>(
        api.POST('/cases/{caseId}/consents/{consentId}/withdrawal', {
          params: {
            path: { caseId, consentId: consentId.trim() },
            header: { 'Idempotency-Key': idempotencyKey() },
          },
          body,
        }),
      );
      const whole = !part || withdrawn.whole === true;
      setDone(t(whole ? 'withdraw.doneWhole' : 'withdraw.done'));
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };

  const field = fieldOf(problem, WITHDRAW_FIELDS);
  return (
    <form
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby={`${id}-heading`}
      className="action-form"
    >
      <h3 id={`${id}-heading`}>{t('withdraw.heading')}</h3>
      <div className="field">
        <label htmlFor={`${id}-consent`}>{t('withdraw.consentId')}</label>
        <input
          id={`${id}-consent`}
          value={consentId}
          autoComplete="off"
          onChange={(e) => setTyped(e.target.value)}
          aria-invalid={field === 'consentId'}
          aria-describedby={field === 'consentId' ? `${id}-consentId-problem` : undefined}
        />
        <FieldProblemFor problem={problem} field="consentId" id={`${id}-consentId-problem`} />
      </div>
      <fieldset className="choices">
        <legend>{t('withdraw.scope')}</legend>
        <label className="choice">
          <input type="radio" name={`${id}-scope`} checked={!part} onChange={() => setPart(false)} />{' '}
          {t('withdraw.whole')}
        </label>
        <label className="choice">
          <input type="radio" name={`${id}-scope`} checked={part} onChange={() => setPart(true)} />{' '}
          {t('withdraw.part')}
        </label>
      </fieldset>
      {part && (
        <>
          <CheckboxGroup
            id={id}
            legend={t('actions.agencies')}
            field="agencyIds"
            options={agencies.list.map((a) => a.agencyId)}
            chosen={agencyIds}
            onChange={setAgencyIds}
            label={(a) => agencies.name(a)}
            problem={problem}
            invalid={field === 'agencyIds'}
          />
          <CheckboxGroup
            id={id}
            legend={t('actions.categories')}
            field="categories"
            options={CATEGORIES}
            chosen={categories}
            onChange={setCategories}
            label={(c) => term('category', c)}
            problem={problem}
            invalid={field === 'categories'}
          />
          <CheckboxGroup
            id={id}
            legend={t('actions.purposes')}
            field="purposes"
            options={CONSENT_PURPOSES}
            chosen={purposes}
            onChange={setPurposes}
            label={(p) => term('purpose', p)}
            problem={problem}
            invalid={field === 'purposes'}
          />
        </>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {t('withdraw.submit')}
      </button>
      {field === undefined && <ProblemMessage problem={problem} />}
      <p role="status">{done}</p>
    </form>
  );
}

const REFERRAL_FIELDS = [
  'toAgencyId',
  'purpose',
  'servicesRequested',
  'urgency',
  'respondBy',
  'sharedCategories',
];

export function MakeReferral({ caseId }: { caseId: string }) {
  const api = useApi();
  const { t, term } = useI18n();
  const agencies = useAgencies();
  const id = useId();
  const [toAgencyId, setToAgencyId] = useState('');
  const [purpose, setPurpose] = useState<ConsentPurpose | ''>('');
  const [services, setServices] = useState<Service[]>([]);
  const [urgency, setUrgency] = useState<Urgency>('routine');
  const [respondBy, setRespondBy] = useState(() => localDateTime(Date.now() + 2 * DAY));
  const [shared, setShared] = useState<Category[]>([]);
  const [problem, setProblem] = useState<unknown>();
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(undefined);
    setDone('');
    setBusy(true);
    try {
      const made = await answer<{ referralId?: unknown }>(
        api.POST('/cases/{caseId}/referrals', {
          params: { path: { caseId }, header: { 'Idempotency-Key': idempotencyKey() } },
          body: {
            toAgencyId,
            purpose: purpose as ConsentPurpose,
            servicesRequested: services,
            urgency,
            respondBy: instantOf(respondBy),
            sharedCategories: shared,
          },
        }),
      );
      const referralId = made.referralId;
      setDone(t('refer.done', { id: typeof referralId === 'string' ? referralId : '' }));
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };

  const field = fieldOf(problem, REFERRAL_FIELDS);
  const describe = (name: string) => ({
    'aria-invalid': field === name,
    'aria-describedby': field === name ? `${id}-${name}-problem` : undefined,
  });
  return (
    <form
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby={`${id}-heading`}
      className="action-form"
    >
      <h3 id={`${id}-heading`}>{t('refer.heading')}</h3>
      <div className="field">
        <label htmlFor={`${id}-to`}>{t('refer.to')}</label>
        <select
          id={`${id}-to`}
          value={toAgencyId}
          onChange={(e) => setToAgencyId(e.target.value)}
          {...describe('toAgencyId')}
        >
          <option value="">{t('refer.chooseAgency')}</option>
          {agencies.list.map((a) => (
            <option key={a.agencyId} value={a.agencyId}>
              {a.name}
            </option>
          ))}
        </select>
        <FieldProblemFor problem={problem} field="toAgencyId" id={`${id}-toAgencyId-problem`} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-purpose`}>{t('refer.purpose')}</label>
        <select
          id={`${id}-purpose`}
          value={purpose}
          onChange={(e) => setPurpose(e.target.value as ConsentPurpose | '')}
          {...describe('purpose')}
        >
          <option value="">{t('refer.choosePurpose')}</option>
          {CONSENT_PURPOSES.map((p) => (
            <option key={p} value={p}>
              {term('purpose', p)}
            </option>
          ))}
        </select>
        <FieldProblemFor problem={problem} field="purpose" id={`${id}-purpose-problem`} />
      </div>
      <CheckboxGroup
        id={id}
        legend={t('refer.services')}
        field="servicesRequested"
        options={SERVICES}
        chosen={services}
        onChange={setServices}
        label={(s) => term('service', s)}
        problem={problem}
        invalid={field === 'servicesRequested'}
      />
      <div className="field">
        <label htmlFor={`${id}-urgency`}>{t('refer.urgency')}</label>
        <select
          id={`${id}-urgency`}
          value={urgency}
          onChange={(e) => setUrgency(e.target.value as Urgency)}
          {...describe('urgency')}
        >
          {URGENCIES.map((u) => (
            <option key={u} value={u}>
              {term('urgency', u)}
            </option>
          ))}
        </select>
        <FieldProblemFor problem={problem} field="urgency" id={`${id}-urgency-problem`} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-respond`}>{t('refer.respondBy')}</label>
        <input
          id={`${id}-respond`}
          type="datetime-local"
          value={respondBy}
          onChange={(e) => setRespondBy(e.target.value)}
          {...describe('respondBy')}
        />
        <FieldProblemFor problem={problem} field="respondBy" id={`${id}-respondBy-problem`} />
      </div>
      <CheckboxGroup
        id={id}
        legend={t('refer.shared')}
        field="sharedCategories"
        options={CATEGORIES}
        chosen={shared}
        onChange={setShared}
        label={(c) => term('category', c)}
        problem={problem}
        invalid={field === 'sharedCategories'}
      />
      <button type="submit" className="primary" disabled={busy}>
        {t('refer.submit')}
      </button>
      {field === undefined && <ProblemMessage problem={problem} />}
      <p role="status">{done}</p>
    </form>
  );
}
