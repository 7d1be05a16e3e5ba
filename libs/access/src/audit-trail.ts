// The event store's port alone (a context names no store implementation).
import type { EventStore, NewEvent } from '../../event-store/src/event-store';
import { unavailable, type Actor, type DomainError, type Purpose } from '@nrm/shared-kernel';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { accessStream, type AccessAuditEvent, type DenialReason, type ReadBasis } from './access-audit';

/** Who reads, why, and which request: what every audit event of a read carries. */
export interface ReadRequest {
  readonly actor: Actor;
  /** The X-Purpose header as sent (validated by the reader that needs it). */
  readonly purpose: string | undefined;
  readonly requestId: string;
  readonly now: string;
}

/** What the refusal audit needs to know of one request: whether a denial was already recorded for it. */
export interface RefusalScope {
  denied: boolean;
}

const refusalScopes = new AsyncLocalStorage<RefusalScope>();

/**
 * Runs the handling of one request in its own scope (see the API's `RefusalAuditInterceptor`):
 * a denial appended within it is noted there, so that a refusal is audited once.
 */
export function inRefusalScope<T>(scope: RefusalScope, run: () => T): T {
  return refusalScopes.run(scope, run);
}

/**
 * Writes the audit of reads: every read and every denial is appended as an
 * event before the answer leaves. If the append fails, the read fails too
 * (fail closed): a read that cannot be proven afterwards is not served. What is
 * thrown then is `auditUnavailable` unless the caller gives its own (`unavailable`): the API
 * answers 503.
 */
/** A read that cannot be recorded is not served: 503, try again. */
export function auditUnavailable(): DomainError {
  return unavailable(
    'AUDIT.UNAVAILABLE',
    'Audit unavailable',
    'The request could not be recorded in the audit trail, so it was not served.',
    1,
  );
}

export class AuditTrail {
  constructor(
    private readonly store: EventStore,
    private readonly unavailable: () => Error = auditUnavailable,
  ) {}

  accessed(
    request: ReadRequest,
    read: {
      view: string;
      purpose?: Purpose;
      caseId?: string;
      subjectId?: string;
      categories: readonly ReadBasis[];
      caseIds?: readonly string[];
      asOf?: string;
    },
  ): Promise<void> {
    return this.append({
      type: 'RecordAccessed',
      schemaVersion: 1,
      data: { ...who(request), ...read, requestId: request.requestId, accessedAt: request.now },
    });
  }

  denied(
    request: ReadRequest,
    denial: { view: string; reason: DenialReason; purpose?: Purpose; caseId?: string },
  ): Promise<void> {
    return this.append({
      type: 'AccessDenied',
      schemaVersion: 1,
      data: { ...who(request), ...denial, requestId: request.requestId, deniedAt: request.now },
    });
  }

  /** Appends any access-audit event (also break-glass and review events) on its own stream. */
  async append(
    event: { type: string; schemaVersion: number; data: Record<string, unknown> },
    occurredAt?: string,
  ): Promise<void> {
    const id = randomUUID();
    const data = JSON.parse(JSON.stringify(event.data)) as NewEvent['data'];
    const record: NewEvent = {
      id,
      type: event.type,
      schemaVersion: event.schemaVersion,
      data,
      metadata: {
        correlationId: typeof data.requestId === 'string' ? data.requestId : id,
        ...(typeof data.principalId === 'string' ? { principalId: data.principalId } : {}),
        ...(typeof data.agencyId === 'string' ? { agencyId: data.agencyId } : {}),
        occurredAt:
          occurredAt ??
          (typeof data.accessedAt === 'string'
            ? data.accessedAt
            : typeof data.deniedAt === 'string'
              ? data.deniedAt
              : new Date().toISOString()),
      },
    };
    try {
      await this.store.append(accessStream(id), [record], { expectedRevision: 'no-stream' });
      if (event.type === 'AccessDenied') {
        const scope = refusalScopes.getStore();
        if (scope) scope.denied = true;
      }
    } catch {
      throw this.unavailable();
    }
  }
}

function who(request: ReadRequest) {
  return {
    principalId: request.actor.principalId,
    agencyId: request.actor.agencyId,
    agencyKind: request.actor.agencyKind,
  };
}

export type { AccessAuditEvent };
