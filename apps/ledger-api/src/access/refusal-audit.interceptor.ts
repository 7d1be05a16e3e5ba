import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { DenialReason } from '@nrm/access';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { caseOfReferral } from '@nrm/projections';
import { PURPOSES } from '@nrm/shared-kernel';
import { catchError, from, mergeMap, Observable, throwError } from 'rxjs';
import type { ReadModel } from '@nrm/runtime';
import { ID_PATTERN } from '../http/ids';
import { problemOf } from '../http/problem-details.filter';
import { READ_MODEL } from '../projections/projections.module';
import { AuditTrail, inRefusalScope, type RefusalScope } from './audit-trail';
import type { AuthenticatedRequest } from './current-actor.decorator';

/** Path parameters recorded as fields of their own (and projected for oversight). */
const NAMED_IDS = ['caseId', 'subjectId', 'referralId', 'consentId'] as const;

/**
 * Every refused attempt of an authenticated principal is on the record: when a
 * request ends in a 4xx answer (but 401, which has no principal) and nothing
 * in its handling already appended an `AccessDenied` (the case reads, the
 * oversight views and break-glass record their own, with their own reasons),
 * this appends one naming the operation (`POST /referrals/:referralId/acceptance`),
 * the principal, the ids of the path and the answer's status and code. Pipes run
 * inside, so a refused body or query (a purpose sent as `?purpose=` instead of
 * `X-Purpose`) is audited too. A path holding a malformed id is not: it names
 * nothing. Fails closed like every audit append: no record, no answer but 503.
 */
@Injectable()
export class RefusalAuditInterceptor implements NestInterceptor {
  private readonly audit: AuditTrail;

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(READ_MODEL) private readonly readModel: ReadModel,
  ) {
    this.audit = new AuditTrail(store);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const scope: RefusalScope = { denied: false };
    return new Observable((subscriber) =>
      inRefusalScope(scope, () =>
        next
          .handle()
          .pipe(
            catchError((error: unknown) =>
              from(this.refused(request, scope, error)).pipe(mergeMap(() => throwError(() => error))),
            ),
          )
          .subscribe(subscriber),
      ),
    );
  }

  private async refused(request: AuthenticatedRequest, scope: RefusalScope, error: unknown): Promise<void> {
    const actor = request.actor;
    if (!actor || scope.denied) return;
    const problem = problemOf(error);
    if (problem.status < 400 || problem.status >= 500 || problem.status === 401) return;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const ids: Record<string, string> = {};
    for (const [name, value] of Object.entries(params)) {
      if (typeof value !== 'string' || !ID_PATTERN.test(value)) return;
      ids[name] = value;
    }
    const named = Object.fromEntries(NAMED_IDS.filter((n) => n in ids).map((n) => [n, ids[n]]));
    const others = Object.fromEntries(
      Object.entries(ids).filter(([n]) => !(NAMED_IDS as readonly string[]).includes(n)),
    );
    const caseId = named.caseId ?? (await this.caseOfReferral(named.referralId));
    const purpose = request.headers['x-purpose'];
    const rawId = (request.raw as { id?: unknown }).id;
    await this.audit.append({
      type: 'AccessDenied',
      schemaVersion: 1,
      data: {
        principalId: actor.principalId,
        agencyId: actor.agencyId,
        agencyKind: actor.agencyKind,
        view: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
        ...named,
        ...(caseId !== undefined ? { caseId } : {}),
        ...(Object.keys(others).length > 0 ? { otherIds: others } : {}),
        ...(typeof purpose === 'string' && (PURPOSES as readonly string[]).includes(purpose)
          ? { purpose }
          : {}),
        reason: reasonOf(problem, request),
        status: problem.status,
        code: problem.code,
        requestId: typeof rawId === 'string' ? rawId : String(request.id),
        deniedAt: new Date().toISOString(),
      },
    });
  }

  /** The case of a referral, for oversight to find the refusal under its case (nothing when unknown). */
  private async caseOfReferral(referralId: string | undefined): Promise<string | undefined> {
    if (referralId === undefined) return undefined;
    return caseOfReferral(this.readModel.store, referralId);
  }
}

function reasonOf(problem: { status: number; code: string }, request: AuthenticatedRequest): DenialReason {
  switch (problem.status) {
    case 404:
      return problem.code === 'CASE.NOT_FOUND'
        ? 'not-a-party-or-unknown-case'
        : problem.code === 'REFERRAL.NOT_FOUND'
          ? 'not-a-party-or-unknown-referral'
          : problem.code === 'SUBJECT.NOT_FOUND'
            ? 'not-a-party-or-unknown-subject'
            : 'not-found';
    case 403:
      return 'not-allowed';
    case 409:
      return 'not-possible-in-state';
    case 422:
      return 'rule-broken';
    default: {
      const query = request.query;
      const purposeInQuery =
        typeof query === 'object' && query !== null && Object.keys(query).some((k) => /^purpose$/i.test(k));
      return purposeInQuery && problem.status === 400 ? 'purpose-not-in-header' : 'invalid-request';
    }
  }
}
