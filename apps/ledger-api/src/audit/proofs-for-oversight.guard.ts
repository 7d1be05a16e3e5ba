import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { readRequestOf, type AuditTrail } from '../access/audit-trail';
import type { AuthenticatedRequest } from '../access/current-actor.decorator';
import { ProblemException } from '../http/problem';
import { recordDenial } from '../oversight/audited-read';
import { mayOverseeAccess } from '@nrm/access';

export const AUDIT_DENIALS = Symbol('AUDIT_DENIALS');
const VIEW = 'nrm:audit-view';

/** Names the view a proof route serves, for the audit of its refusals. */
export const ProofView = (view: 'audit-inclusion-proof' | 'audit-consistency-proof' | 'audit-cosignature') =>
  SetMetadata(VIEW, view);

/**
 * Proofs are for the oversight body's principals with the oversight role
 * (`mayOverseeAccess`), checked before the query is validated. A refusal is
 * a 403, recorded as an `AccessDenied` first (503 if it cannot be recorded).
 */
@Injectable()
export class ProofsForOversight implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(AUDIT_DENIALS) private readonly audit: AuditTrail,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!request.actor) throw new Error('a proof route was reached without authentication');
    const decision = mayOverseeAccess(request.actor);
    if (decision.allowed) return true;
    const view = this.reflector.get<string | undefined>(VIEW, context.getHandler()) ?? 'audit-proofs';
    await recordDenial(this.audit, readRequestOf(request.actor, request), { view, reason: decision.reason });
    throw new ProblemException({
      status: 403,
      title: 'Not allowed for your agency or role',
      code: decision.code,
      detail: 'Proofs of the audit log are for the oversight body (role oversight).',
    });
  }
}
