import { useId, useState, type ReactNode } from 'react';
import { idempotencyKey, type Schemas } from '../api/client';
import { useApi } from '../api/context';
import { answer, ApiProblem } from '../api/problem';
import { useI18n } from '../i18n/i18n';
import { useAgencies } from '../ui/agencies';
import { CheckboxGroup, formField } from '../ui/choices';
import { SelectField, TextField } from '../ui/fields';
import { ProblemMessage } from '../ui/problem';
import { useSubmit, type Submission } from '../ui/use-submit';

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

/** One form of the section: its heading, its fields, the button, a problem of no one field, and what was done. */
function ActionForm({
  id,
  heading,
  submitLabel,
  submission,
  field,
  children,
}: {
  id: string;
  heading: string;
  submitLabel: string;
  submission: Submission;
  /** The field the problem is shown next to; undefined shows it under the button. */
  field: string | undefined;
  children: ReactNode;
}) {
  return (
    <form onSubmit={submission.onSubmit} noValidate aria-labelledby={`${id}-heading`} className="action-form">
      <h3 id={`${id}-heading`}>{heading}</h3>
      {children}
      <button type="submit" className="primary" disabled={submission.busy}>
        {submitLabel}
      </button>
      {field === undefined && <ProblemMessage problem={submission.problem} />}
      <p role="status">{submission.done}</p>
    </form>
  );
}

/** What a consent covers: agencies, data categories and purposes. */
interface Scope {
  readonly agencyIds: string[];
  readonly categories: Category[];
  readonly purposes: ConsentPurpose[];
}
const NO_SCOPE: Scope = { agencyIds: [], categories: [], purposes: [] };

/** The agencies, categories and purposes of a consent, as three groups of checkboxes. */
function ScopeChoices({
  id,
  agencies,
  scope,
  onChange,
  problem,
  field,
  waitForAgencies = false,
}: {
  id: string;
  agencies: ReturnType<typeof useAgencies>;
  scope: Scope;
  onChange: (change: (scope: Scope) => Scope) => void;
  problem: unknown;
  field: string | undefined;
  /** Say the agencies are loading, rather than show an empty group, until they come. */
  waitForAgencies?: boolean;
}) {
  const { t, term } = useI18n();
  return (
    <>
      {waitForAgencies && agencies.list.length === 0 ? (
        <p>{t('actions.loadingAgencies')}</p>
      ) : (
        <CheckboxGroup
          id={id}
          legend={t('actions.agencies')}
          field="agencyIds"
          options={agencies.list.map((a) => a.agencyId)}
          chosen={scope.agencyIds}
          onChange={(agencyIds) => onChange((s) => ({ ...s, agencyIds }))}
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
        chosen={scope.categories}
        onChange={(categories) => onChange((s) => ({ ...s, categories }))}
        label={(c) => term('category', c)}
        problem={problem}
        invalid={field === 'categories'}
      />
      <CheckboxGroup
        id={id}
        legend={t('actions.purposes')}
        field="purposes"
        options={CONSENT_PURPOSES}
        chosen={scope.purposes}
        onChange={(purposes) => onChange((s) => ({ ...s, purposes }))}
        label={(p) => term('purpose', p)}
        problem={problem}
        invalid={field === 'purposes'}
      />
    </>
  );
}

/** The id and problem props of the control for `name` in a form whose problem names `field`. */
const fieldProps = (id: string, field: string | undefined, problem: unknown, name: string) => ({
  field: name,
  problemId: `${id}-${name}-problem`,
  problem,
  invalid: field === name,
});

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
  const [scope, setScope] = useState(NO_SCOPE);
  const [expiresOn, setExpiresOn] = useState(() => isoDay(Date.now() + 180 * DAY));
  const [method, setMethod] = useState<CaptureMethod | ''>('');
  const [language, setLanguage] = useState('');
  const [interpreterUsed, setInterpreterUsed] = useState(false);
  const [witness, setWitness] = useState('');
  const [guardian, setGuardian] = useState('');

  const submission = useSubmit(async () => {
    const recorded = await answer<{ consentId?: unknown }>(
      api.POST('/cases/{caseId}/consents', {
        params: { path: { caseId }, header: { 'Idempotency-Key': idempotencyKey() } },
        body: {
          ...scope,
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
    onRecorded(reference);
    return t('consent.done', { id: reference });
  });

  const { problem } = submission;
  const field = fieldOf(problem, CONSENT_FIELDS);
  const about = (name: string) => fieldProps(id, field, problem, name);
  return (
    <ActionForm
      id={id}
      heading={t('consent.heading')}
      submitLabel={t('consent.submit')}
      submission={submission}
      field={field}
    >
      <p className="hint">{t('consent.hint')}</p>
      <ScopeChoices
        id={id}
        agencies={agencies}
        scope={scope}
        onChange={setScope}
        problem={problem}
        field={field}
        waitForAgencies
      />
      <TextField
        id={`${id}-expires`}
        label={t('consent.expiresAt')}
        {...about('expiresAt')}
        type="date"
        value={expiresOn}
        onChange={(e) => setExpiresOn(e.target.value)}
      />
      <SelectField
        id={`${id}-method`}
        label={t('consent.method')}
        {...about('capture.method')}
        value={method}
        onChange={(m) => setMethod(m as CaptureMethod | '')}
        placeholder={t('consent.chooseMethod')}
        options={CAPTURE_METHODS}
        optionLabel={(m) => term('method', m)}
      />
      {method === 'verbal-with-witness' && (
        <TextField
          id={`${id}-witness`}
          label={t('consent.witness')}
          {...about('capture.witnessPrincipalId')}
          value={witness}
          autoComplete="off"
          onChange={(e) => setWitness(e.target.value)}
        />
      )}
      {method === 'guardian' && (
        <TextField
          id={`${id}-guardian`}
          label={t('consent.guardian')}
          {...about('capture.guardianReference')}
          value={guardian}
          autoComplete="off"
          onChange={(e) => setGuardian(e.target.value)}
        />
      )}
      <TextField
        id={`${id}-language`}
        label={t('consent.language')}
        {...about('capture.language')}
        value={language}
        autoComplete="off"
        size={8}
        onChange={(e) => setLanguage(e.target.value)}
      />
      <label className="choice">
        <input
          type="checkbox"
          checked={interpreterUsed}
          onChange={(e) => setInterpreterUsed(e.target.checked)}
        />{' '}
        {t('consent.interpreter')}
      </label>
    </ActionForm>
  );
}

const WITHDRAW_FIELDS = ['consentId', 'agencyIds', 'categories', 'purposes'];

export function WithdrawConsent({ caseId, lastConsent }: { caseId: string; lastConsent: string }) {
  const api = useApi();
  const { t } = useI18n();
  const agencies = useAgencies();
  const id = useId();
  const [typed, setTyped] = useState<string | undefined>();
  const consentId = typed ?? lastConsent;
  const [part, setPart] = useState(false);
  const [scope, setScope] = useState(NO_SCOPE);

  const submission = useSubmit(async () => {
    // Only the lists named: a list left out is not withdrawn from, no list at all withdraws the whole.
    const { agencyIds, categories, purposes } = scope;
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
    return t(whole ? 'withdraw.doneWhole' : 'withdraw.done');
  });

  const { problem } = submission;
  const field = fieldOf(problem, WITHDRAW_FIELDS);
  return (
    <ActionForm
      id={id}
      heading={t('withdraw.heading')}
      submitLabel={t('withdraw.submit')}
      submission={submission}
      field={field}
    >
      <TextField
        id={`${id}-consent`}
        label={t('withdraw.consentId')}
        {...fieldProps(id, field, problem, 'consentId')}
        value={consentId}
        autoComplete="off"
        onChange={(e) => setTyped(e.target.value)}
      />
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
        <ScopeChoices
          id={id}
          agencies={agencies}
          scope={scope}
          onChange={setScope}
          problem={problem}
          field={field}
        />
      )}
    </ActionForm>
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

  const submission = useSubmit(async () => {
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
    return t('refer.done', { id: typeof referralId === 'string' ? referralId : '' });
  });

  const { problem } = submission;
  const field = fieldOf(problem, REFERRAL_FIELDS);
  const about = (name: string) => fieldProps(id, field, problem, name);
  return (
    <ActionForm
      id={id}
      heading={t('refer.heading')}
      submitLabel={t('refer.submit')}
      submission={submission}
      field={field}
    >
      <SelectField
        id={`${id}-to`}
        label={t('refer.to')}
        {...about('toAgencyId')}
        value={toAgencyId}
        onChange={setToAgencyId}
        placeholder={t('refer.chooseAgency')}
        options={agencies.list.map((a) => a.agencyId)}
        optionLabel={(a) => agencies.name(a)}
      />
      <SelectField
        id={`${id}-purpose`}
        label={t('refer.purpose')}
        {...about('purpose')}
        value={purpose}
        onChange={(p) => setPurpose(p as ConsentPurpose | '')}
        placeholder={t('refer.choosePurpose')}
        options={CONSENT_PURPOSES}
        optionLabel={(p) => term('purpose', p)}
      />
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
      <SelectField
        id={`${id}-urgency`}
        label={t('refer.urgency')}
        {...about('urgency')}
        value={urgency}
        onChange={(u) => setUrgency(u as Urgency)}
        options={URGENCIES}
        optionLabel={(u) => term('urgency', u)}
      />
      <TextField
        id={`${id}-respond`}
        label={t('refer.respondBy')}
        {...about('respondBy')}
        type="datetime-local"
        value={respondBy}
        onChange={(e) => setRespondBy(e.target.value)}
      />
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
    </ActionForm>
  );
}
