import type { DenialReason } from '@nrm/access';
import { utcInstant } from '@nrm/projections';
import type { Purpose } from '@nrm/shared-kernel';
import type { AuditTrail, ReadRequest } from '../access/audit-trail';
import { ProblemException } from '../http/problem';
import type { AccessDecision, OversightDenialReason } from '@nrm/access';

/**
 * Appends an `AccessDenied` (fails closed like every audit append). It may name
 * a subject instead of a case, and uses this feature's reasons as well as the
 * case reads' ones.
 */
export function recordDenial(
  audit: AuditTrail,
  request: ReadRequest,
  denial: {
    view: string;
    reason: OversightDenialReason | DenialReason;
    caseId?: string;
    subjectId?: string;
    purpose?: Purpose;
  },
): Promise<void> {
  return audit.append({
    type: 'AccessDenied',
    schemaVersion: 1,
    data: {
      principalId: request.actor.principalId,
      agencyId: request.actor.agencyId,
      agencyKind: request.actor.agencyKind,
      ...denial,
      requestId: request.requestId,
      deniedAt: request.now,
    },
  });
}

/** Records the refusal, then answers 403 with the decision's code. */
export async function refuse(
  audit: AuditTrail,
  request: ReadRequest,
  decision: Extract<AccessDecision, { allowed: false }>,
  denial: { view: string; caseId?: string; subjectId?: string; purpose?: Purpose },
): Promise<never> {
  await recordDenial(audit, request, { ...denial, reason: decision.reason });
  throw new ProblemException({
    status: 403,
    title: 'Not allowed for your agency or role',
    code: decision.code,
    detail: decision.detail,
  });
}

/** The period of a query in UTC, `from` inclusive and `to` exclusive; `from` after `to` is a 400. */
export function periodOf(query: { from?: string; to?: string }): { from?: string; to?: string } {
  const from = query.from === undefined ? undefined : utcInstant(query.from);
  const to = query.to === undefined ? undefined : utcInstant(query.to);
  if (from !== undefined && to !== undefined && from > to)
    throw new ProblemException({
      status: 400,
      title: 'Invalid request',
      code: 'REQUEST.INVALID',
      field: 'to',
      detail: 'to must not be before from.',
      errors: [{ field: 'to', message: 'to must not be before from' }],
    });
  return { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}
