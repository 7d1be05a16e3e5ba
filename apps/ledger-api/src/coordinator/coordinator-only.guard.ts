import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { readRequestOf as readAs, type AuditTrail, type ReadRequest } from '../access/audit-trail';
import type { AuthenticatedRequest } from '../access/current-actor.decorator';
import { ProblemException } from '../http/problem';
import { mayCoordinate, NOT_THE_COORDINATOR, type CoordinatorView } from './coordinator-access';

export const COORDINATOR_AUDIT = Symbol('COORDINATOR_AUDIT');
const VIEW = 'nrm:coordinator-view';

/** Names the view a route serves, for the audit of its reads and denials. */
export const ServesView = (view: CoordinatorView) => SetMetadata(VIEW, view);

/** Who reads, why (the X-Purpose header, if any) and which request. */
export function readRequestOf(request: AuthenticatedRequest): ReadRequest {
  if (!request.actor) throw new Error('a coordinator route was reached without authentication');
  const purpose = request.headers['x-purpose'];
  return readAs(request.actor, request, typeof purpose === 'string' ? purpose : undefined);
}

/**
 * Lets only the national coordinator's coordinators through, before the query
 * is even validated, so that every refusal is a 403 and is audited as an
 * `AccessDenied` naming the view. Fails closed: if the denial cannot be
 * recorded, the answer is 503.
 */
@Injectable()
export class CoordinatorOnly implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(COORDINATOR_AUDIT) private readonly audit: AuditTrail,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const read = readRequestOf(request);
    if (mayCoordinate(read.actor)) return true;
    const view = this.reflector.get<CoordinatorView | undefined>(VIEW, context.getHandler()) ?? 'coordinator';
    // DENIAL_REASONS has no reason for a view refused by agency kind and role, hence the plain append.
    await this.audit.append({
      type: 'AccessDenied',
      schemaVersion: 1,
      data: {
        principalId: read.actor.principalId,
        agencyId: read.actor.agencyId,
        agencyKind: read.actor.agencyKind,
        view,
        reason: NOT_THE_COORDINATOR,
        requestId: read.requestId,
        deniedAt: read.now,
      },
    });
    throw new ProblemException({
      status: 403,
      title: 'Forbidden',
      code: 'COORDINATOR.ONLY',
      detail: 'Only a coordinator of the national coordinator can open this view.',
    });
  }
}
