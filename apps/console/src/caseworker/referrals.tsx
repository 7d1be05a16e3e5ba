import { useId, useState, type FormEvent } from 'react';
import { idempotencyKey, type DeclineReason } from '../api/client';
import { useApi } from '../api/context';
import { answer } from '../api/problem';
import { DECLINE_REASONS } from '../api/vocabulary';
import { useI18n } from '../i18n/i18n';
import { useAgencies } from '../ui/agencies';
import { FieldProblem, ProblemMessage, problemField } from '../ui/problem';
import { shortId } from '../ui/tabs';
import { useLoad } from '../ui/use-load';

export interface Referral {
  readonly referralId: string;
  /** Absent for a referral declined, or withdrawn before it was accepted, shown to its receiver. */
  readonly caseId?: string;
  readonly fromAgencyId: string;
  readonly toAgencyId: string;
  readonly transnational: boolean;
  readonly purpose: string;
  readonly urgency: string;
  readonly status: string;
  readonly escalated: boolean;
  readonly respondBy: string;
  readonly overdue: boolean;
  readonly madeAt: string;
}

const OPEN = new Set(['made', 'acknowledged', 'accepted']);

/** Open referrals first, the overdue among them first, then by the time an answer is due. */
export function waitingOrder(referrals: readonly Referral[]): Referral[] {
  const rank = (r: Referral) => (OPEN.has(r.status) ? (r.overdue ? 0 : 1) : 2);
  return [...referrals].sort((a, b) => rank(a) - rank(b) || a.respondBy.localeCompare(b.respondBy));
}

export { DECLINE_REASONS };

type Step = 'acknowledge' | 'accept' | 'handoff' | 'decline';

/** What the receiving agency may do next, by status (the ledger decides; this only offers). */
function nextSteps(status: string): Step[] {
  if (status === 'made') return ['acknowledge', 'decline'];
  if (status === 'acknowledged') return ['accept', 'decline'];
  if (status === 'accepted') return ['handoff'];
  return [];
}

export function Referrals({
  direction,
  onOpenCase,
}: {
  direction: 'in' | 'out';
  onOpenCase: (caseId: string) => void;
}) {
  const api = useApi();
  const i18n = useI18n();
  const { t, term, dateTime } = i18n;
  const agencies = useAgencies();
  const headingId = useId();
  const [done, setDone] = useState<string>('');
  const [loaded, reload] = useLoad(
    () =>
      answer<{ referrals?: Referral[] }>(
        api.GET('/referrals', { params: { query: { direction, limit: 100 } } }),
      ).then((page) => waitingOrder(page.referrals ?? [])),
    direction,
  );

  return (
    <section aria-labelledby={headingId}>
      <h1 id={headingId}>{t(direction === 'in' ? 'referrals.in.heading' : 'referrals.out.heading')}</h1>
      <p className="status" role="status">
        {done}
      </p>
      {loaded.state === 'loading' && <p>{t('app.loading')}</p>}
      {loaded.state === 'failed' && (
        <>
          <ProblemMessage problem={loaded.problem} />
          <button type="button" onClick={reload}>
            {t('app.retry')}
          </button>
        </>
      )}
      {loaded.state === 'ok' && loaded.data.length === 0 && <p>{t('referrals.empty')}</p>}
      {loaded.state === 'ok' && loaded.data.length > 0 && (
        <table>
          <caption>{t('referrals.caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('referrals.case')}</th>
              <th scope="col">{t(direction === 'in' ? 'referrals.from' : 'referrals.to')}</th>
              <th scope="col">{t('referrals.purpose')}</th>
              <th scope="col">{t('referrals.urgency')}</th>
              <th scope="col">{t('referrals.status')}</th>
              <th scope="col">{t('referrals.respondBy')}</th>
              <th scope="col">{t('referrals.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {loaded.data.map((r) => (
              <tr key={r.referralId} className={r.overdue && OPEN.has(r.status) ? 'overdue' : undefined}>
                <td>
                  {r.caseId !== undefined ? (
                    <button type="button" className="link" onClick={() => onOpenCase(r.caseId!)}>
                      <span className="visually-hidden">{t('referrals.openCase')} </span>
                      <code>{shortId(r.caseId)}</code>
                    </button>
                  ) : (
                    t('referrals.noStanding')
                  )}
                </td>
                <td>{agencies.name(direction === 'in' ? r.fromAgencyId : r.toAgencyId)}</td>
                <td>{term('purpose', r.purpose)}</td>
                <td>{term('urgency', r.urgency)}</td>
                <td>
                  {term('status', r.status)}
                  {r.escalated && <span className="badge escalated">{t('referrals.escalated')}</span>}
                  {r.transnational && <span className="badge">{t('referrals.transnational')}</span>}
                </td>
                <td>
                  {dateTime(r.respondBy)}
                  {r.overdue && OPEN.has(r.status) && (
                    <span className="badge overdue">{t('referrals.overdue')}</span>
                  )}
                </td>
                <td>
                  {direction === 'in' && (
                    <ReferralActions
                      referral={r}
                      onDone={(step) => {
                        setDone(t(`referrals.done.${step}`));
                        reload();
                      }}
                    />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ReferralActions({ referral, onDone }: { referral: Referral; onDone: (step: Step) => void }) {
  const api = useApi();
  const { t, term } = useI18n();
  const id = useId();
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState<DeclineReason | ''>('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<unknown>();
  const path = { referralId: referral.referralId };

  const run = async (step: Step) => {
    setBusy(true);
    setProblem(undefined);
    const header = { 'Idempotency-Key': idempotencyKey() };
    try {
      if (step === 'acknowledge')
        await answer(api.POST('/referrals/{referralId}/acknowledgement', { params: { path, header } }));
      else if (step === 'accept')
        await answer(api.POST('/referrals/{referralId}/acceptance', { params: { path, header } }));
      else if (step === 'handoff')
        await answer(api.POST('/referrals/{referralId}/handoff', { params: { path, header } }));
      else
        await answer(
          api.POST('/referrals/{referralId}/decline', {
            params: { path, header },
            // An unchosen reason is sent as is: the ledger's answer names the field.
            body: { reason: reason as DeclineReason },
          }),
        );
      setDeclining(false);
      onDone(step);
    } catch (failure) {
      setProblem(failure);
    } finally {
      setBusy(false);
    }
  };
  const decline = (event: FormEvent) => {
    event.preventDefault();
    void run('decline');
  };

  const steps = nextSteps(referral.status);
  const described = `${id}-label`;
  return (
    <div className="actions">
      <span id={described} className="visually-hidden">
        {shortId(referral.referralId)}
      </span>
      {!declining &&
        steps.map((step) => (
          <button
            key={step}
            type="button"
            disabled={busy}
            aria-describedby={described}
            onClick={() => (step === 'decline' ? setDeclining(true) : void run(step))}
          >
            {t(`referrals.${step}`)}
          </button>
        ))}
      {declining && (
        <form onSubmit={decline} className="inline-form">
          <label htmlFor={`${id}-reason`}>{t('referrals.declineReason')}</label>
          <select
            id={`${id}-reason`}
            name="reason"
            value={reason}
            aria-invalid={problemField(problem) === 'reason'}
            aria-describedby={problemField(problem) === 'reason' ? `${id}-reason-problem` : undefined}
            onChange={(e) => setReason(e.target.value as DeclineReason | '')}
          >
            <option value="">{t('referrals.chooseReason')}</option>
            {DECLINE_REASONS.map((r) => (
              <option key={r} value={r}>
                {term('reason', r)}
              </option>
            ))}
          </select>
          <FieldProblem problem={problem} field="reason" id={`${id}-reason-problem`} />
          <button type="submit" disabled={busy} className="primary">
            {t('referrals.confirmDecline')}
          </button>
          <button type="button" onClick={() => setDeclining(false)}>
            {t('referrals.cancel')}
          </button>
        </form>
      )}
      {problemField(problem) !== 'reason' && <ProblemMessage problem={problem} />}
    </div>
  );
}
