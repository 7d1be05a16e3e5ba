import type { MessageKey } from '../i18n/en';
import { useI18n, type I18n } from '../i18n/i18n';
import { ApiProblem } from '../api/problem';

/** A problem in words a person understands: the code's own sentence where there is one, else by status. */
export function problemWords(problem: unknown, i18n: I18n): string {
  const { t } = i18n;
  if (!(problem instanceof ApiProblem)) return t('error.server');
  const own = `error.${problem.code}`;
  if (Object.hasOwn(i18n.messages, own)) return t(own as MessageKey);
  const detail = problem.detail ?? problem.code;
  if (problem.status === 0) return t('error.network');
  if (problem.status === 400 && problem.field) return t('error.field', { detail });
  if (problem.status === 403) return t('error.forbidden');
  if (problem.status === 404) return t('error.notFound');
  if (problem.status === 409) return t('error.conflict');
  if (problem.status === 400 || problem.status === 422) return t('error.rule', { detail });
  return t('error.server');
}

/** The problem of a whole screen or action (not of one field). */
export function ProblemMessage({ problem, id }: { problem: unknown; id?: string }) {
  const i18n = useI18n();
  if (problem === undefined) return null;
  const requestId = problem instanceof ApiProblem ? problem.requestId : undefined;
  const words = problemWords(problem, i18n);
  // The ledger's own sentence (in English) when ours is a general one: it says which rule refused.
  const detail =
    problem instanceof ApiProblem && !words.includes(problem.detail ?? '') ? problem.detail : undefined;
  return (
    <div className="problem" role="alert" id={id}>
      <p>{words}</p>
      {detail && (
        <p className="detail" lang="en">
          {detail}
        </p>
      )}
      {requestId && <p className="request-id">{i18n.t('app.requestId', { id: requestId })}</p>}
    </div>
  );
}

/** The field a problem names, if any: the form shows the message next to it instead of on top. */
export function problemField(problem: unknown): string | undefined {
  return problem instanceof ApiProblem ? problem.field : undefined;
}

/** The message under one field, when the ledger's problem names that field. */
export function FieldProblem({ problem, field, id }: { problem: unknown; field: string; id: string }) {
  const i18n = useI18n();
  if (problemField(problem) !== field) return null;
  const requestId = problem instanceof ApiProblem ? problem.requestId : undefined;
  return (
    <p className="field-problem" id={id} role="alert">
      {problemWords(problem, i18n)}
      {requestId && <span className="request-id"> {i18n.t('app.requestId', { id: requestId })}</span>}
    </p>
  );
}
