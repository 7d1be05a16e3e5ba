import {
  AuditTrail as AccessAuditTrail,
  inRefusalScope,
  type AccessAuditEvent,
  type ReadRequest,
  type RefusalScope,
} from '@nrm/access';
import type { Actor } from '@nrm/shared-kernel';
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

/** The audit trail of libs/access: it fails closed with `AUDIT.UNAVAILABLE` (503, Retry-After 1). */
export { AccessAuditTrail as AuditTrail };
