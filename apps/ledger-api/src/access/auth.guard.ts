import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { Actor } from '@nrm/shared-kernel';
import { ProblemException } from '../http/problem';
import { AuditTrail, readRequestOf } from './audit-trail';
import type { AuthenticatedRequest } from './current-actor.decorator';
import { IdentityProviderUnavailable, JwtVerifier } from './jwt-verifier';
import { PUBLIC_ROUTE } from './public.decorator';
import { RateLimits } from './rate-limits';
import { RegistryService } from './registry.service';

export const JWT_VERIFIER = Symbol('JWT_VERIFIER');
export const RATE_LIMITS = Symbol('RATE_LIMITS');

/** RFC 6750: `Bearer 1*SP b64token`. Nothing else is trimmed from a credential. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

function unauthorized(detail: string): ProblemException {
  return new ProblemException({ status: 401, title: 'Unauthorized', code: 'AUTH.UNAUTHENTICATED', detail });
}

function ambiguous(field: string, detail: string): ProblemException {
  return new ProblemException({
    status: 400,
    title: 'Ambiguous credentials',
    code: 'AUTH.AMBIGUOUS_CREDENTIALS',
    field,
    detail,
  });
}

/** How many times a header was sent (Node keeps only the first Authorization, and joins repeated X-Api-Key). */
function timesSent(request: AuthenticatedRequest, name: string): number {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) count++;
  return count;
}

/**
 * The one credential of a request, exactly as sent: `Authorization: Bearer …`
 * or `X-Api-Key`. Two credentials, even the same twice, are refused (400)
 * rather than one of them chosen: a proxy or client that adds its own must
 * not decide silently who the request acts as.
 */
export function credentialOf(request: AuthenticatedRequest): string | undefined {
  const authorizations = timesSent(request, 'authorization');
  const apiKeys = timesSent(request, 'x-api-key');
  if (authorizations > 1)
    throw ambiguous(
      'Authorization',
      'The Authorization header was sent more than once; send one credential.',
    );
  if (apiKeys > 1)
    throw ambiguous('X-Api-Key', 'The X-Api-Key header was sent more than once; send one credential.');
  if (authorizations === 1 && apiKeys === 1)
    throw ambiguous(
      'X-Api-Key',
      'Both an Authorization header and an X-Api-Key were sent; send one credential, in one of them.',
    );
  const header = request.headers.authorization;
  if (typeof header === 'string') return BEARER.exec(header)?.[1];
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

/**
 * Every route but the public ones needs a principal: an API key
 * (`Authorization: Bearer nrm_…` or `X-Api-Key`) or, where configured, a JWT
 * from the identity provider. A principal that the registry has switched off,
 * or whose agency it has, is refused (403, audited) whatever its credential.
 * Authorization (what that principal may do) is decided by the domain and the
 * access policy, not here. Rate limits (429) apply first: per address to a request
 * without a credential, per address to failed authentications (past the limit the
 * address's credentials are refused unchecked), per principal to the rest.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);
  private readonly audit: AuditTrail;

  constructor(
    private readonly reflector: Reflector,
    private readonly registry: RegistryService,
    @Inject(JWT_VERIFIER) private readonly jwt: JwtVerifier | null,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(RATE_LIMITS) private readonly limits: RateLimits,
  ) {
    this.audit = new AuditTrail(store);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]))
      return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const credential = credentialOf(request);
    if (!credential) {
      await this.limits.address(request.ip);
      throw unauthorized('Send an API key or token: Authorization: Bearer <credential>.');
    }
    // An address that failed too often is refused before its credential is even looked at.
    await this.limits.refuseIfLockedOut(request.ip);

    let actor: Actor | undefined;
    if (credential.startsWith('nrm_')) {
      actor = this.registry.authenticateApiKey(credential);
    } else if (this.jwt) {
      const principalId = await this.principalOf(this.jwt, credential);
      actor = principalId ? this.registry.view.actorFor(principalId) : undefined;
      if (principalId && !actor) {
        // The provider vouches for this principal: perhaps registered a moment ago elsewhere.
        await this.registry.refresh();
        actor = this.registry.view.actorFor(principalId);
      }
    }
    if (!actor) {
      await this.limits.failedAuthentication(request.ip);
      throw unauthorized('The credential is not valid, has been revoked, or names no registered principal.');
    }
    await this.limits.principal(actor.principalId);
    await this.refuseIfDisabled(actor, request);
    request.actor = actor;
    return true;
  }

  private async refuseIfDisabled(actor: Actor, request: AuthenticatedRequest): Promise<void> {
    const standing = this.registry.view.standing(actor.principalId);
    if (standing === 'active') return;
    await this.audit.denied(readRequestOf(actor, request), {
      view: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
      reason: standing,
    });
    throw new ProblemException(
      standing === 'principal-disabled'
        ? {
            status: 403,
            title: 'Principal disabled',
            code: 'AUTH.PRINCIPAL_DISABLED',
            detail: 'This principal has been switched off in the registry; its credentials are refused.',
          }
        : {
            status: 403,
            title: 'Agency disabled',
            code: 'AUTH.AGENCY_DISABLED',
            detail:
              "This principal's agency has been switched off in the registry; its credentials are refused.",
          },
    );
  }

  private async principalOf(jwt: JwtVerifier, token: string): Promise<string | undefined> {
    try {
      return await jwt.principalOf(token);
    } catch (error) {
      if (!(error instanceof IdentityProviderUnavailable)) throw error;
      this.logger.error(
        { err: error.cause instanceof Error ? error.cause.message : String(error.cause) },
        'JWKS unavailable',
      );
      throw new ProblemException({
        status: 503,
        title: 'Identity provider unavailable',
        code: 'AUTH.IDENTITY_PROVIDER_UNAVAILABLE',
        detail: 'Tokens cannot be checked right now; try again shortly.',
        retryAfterSeconds: 5,
      });
    }
  }
}
