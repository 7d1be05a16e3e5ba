import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ProblemException } from '../http/problem';
import type { AuthenticatedRequest } from './current-actor.decorator';
import { IdentityProviderUnavailable, JwtVerifier } from './jwt-verifier';
import { PUBLIC_ROUTE } from './public.decorator';
import { RegistryService } from './registry.service';

export const JWT_VERIFIER = Symbol('JWT_VERIFIER');

function unauthorized(detail: string): ProblemException {
  return new ProblemException({ status: 401, title: 'Unauthorized', code: 'AUTH.UNAUTHENTICATED', detail });
}

/**
 * Every route but the public ones needs a principal: an API key
 * (`Authorization: Bearer nrm_…` or `X-Api-Key`) or, where configured, a JWT
 * from the identity provider. Authorization (what that principal may do) is
 * decided by the domain and the access policy, not here.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly registry: RegistryService,
    @Inject(JWT_VERIFIER) private readonly jwt: JwtVerifier | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]))
      return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const apiKeyHeader = request.headers['x-api-key'];
    let credential: string | undefined;
    if (typeof header === 'string' && /^Bearer\s+/i.test(header))
      credential = header.replace(/^Bearer\s+/i, '').trim();
    else if (typeof apiKeyHeader === 'string') credential = apiKeyHeader.trim();
    if (!credential) throw unauthorized('Send an API key or token: Authorization: Bearer <credential>.');

    if (credential.startsWith('nrm_')) {
      request.actor = await this.registry.authenticateApiKey(credential);
    } else if (this.jwt) {
      const principalId = await this.principalOf(this.jwt, credential);
      request.actor = principalId ? this.registry.view.actorFor(principalId) : undefined;
      if (principalId && !request.actor) {
        await this.registry.refresh();
        request.actor = this.registry.view.actorFor(principalId);
      }
    }
    if (!request.actor)
      throw unauthorized('The credential is not valid, has been revoked, or names no registered principal.');
    return true;
  }

  private async principalOf(jwt: JwtVerifier, token: string): Promise<string | undefined> {
    try {
      return await jwt.principalOf(token);
    } catch (error) {
      if (!(error instanceof IdentityProviderUnavailable)) throw error;
      this.logger.error(
        { err: error.cause instanceof Error ? error.cause.message : String(error.cause) },
        'JWKS unreachable',
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
