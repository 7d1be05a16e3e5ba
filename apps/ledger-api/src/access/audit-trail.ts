import {
  AuditTrail as AccessAuditTrail,
  inRefusalScope,
  type AccessAuditEvent,
  type ReadRequest,
  type RefusalScope,
} from '@nrm/access';
import type { EventStore } from '@nrm/event-store';
import type { Actor } from '@nrm/shared-kernel';
import { ProblemException } from '../http/problem';
import type { AuthenticatedRequest } from './current-actor.decorator';

/**
 * The audit of reads is libs/access's (`AuditTrail`); the API adds what is HTTP about it: the read
 * request of an HTTP request, and the 503 answered when the audit cannot be written.
 */
export { inRefusalScope, type AccessAuditEvent, type ReadRequest, type RefusalScope };

/** The read request of an HTTP request: who, why (X-Purpose, when the route asks), which request, when. */
export function readRequestOf(actor: Actor, request: AuthenticatedRequest, purpose?: string): ReadRequest {
  const rawId = (request.raw as { id?: unknown }).id;
  return {
    actor,
    purpose,
    requestId: typeof rawId === 'string' ? rawId : String(request.id),
    now: new Date().toISOString(),
  };
}

/** A read that cannot be recorded is not served: 503, try again. */
function auditUnavailable(): ProblemException {
  return new ProblemException({
    status: 503,
    title: 'Audit unavailable',
    code: 'AUDIT.UNAVAILABLE',
    detail: 'The request could not be recorded in the audit trail, so it was not served.',
    retryAfterSeconds: 1,
  });
}

/** The audit trail of libs/access, failing closed with the API's 503. */
export class AuditTrail extends AccessAuditTrail {
  constructor(store: EventStore) {
    super(store, auditUnavailable);
  }
}
