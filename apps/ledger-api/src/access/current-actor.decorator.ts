import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Actor } from '@nrm/shared-kernel';
import type { FastifyRequest } from 'fastify';

export type AuthenticatedRequest = FastifyRequest & { actor?: Actor };

/** The authenticated principal, as set by the AuthGuard. */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<AuthenticatedRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a route without authentication');
  return actor;
});
