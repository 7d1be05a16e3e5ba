import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { AuthenticatedRequest } from '../access/current-actor.decorator';
import { ProblemException } from '../http/problem';
import type { CommandContext } from './command-executor';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** Builds the command context of a request: actor, time, request id, Idempotency-Key and a digest of the request. */
export function commandContextOf(request: AuthenticatedRequest): CommandContext {
  const idSecret = (request.raw as { idSecret?: unknown }).idSecret;
  const key = request.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
    throw new ProblemException({
      status: 400,
      title: 'Invalid request',
      code: 'REQUEST.INVALID',
      field: 'Idempotency-Key',
      detail: 'Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID is a good choice).',
    });
  }
  const fingerprint = createHash('sha256')
    .update(`${request.method} ${request.url.split('?')[0]}\n${JSON.stringify(request.body ?? null)}`)
    .digest('hex');
  const requestId = (request.raw as { id?: unknown }).id;
  return {
    actor: request.actor,
    now: new Date().toISOString(),
    requestId: typeof requestId === 'string' ? requestId : 'unknown',
    ...(typeof key === 'string' ? { idempotencyKey: key } : {}),
    fingerprint,
    ...(Buffer.isBuffer(idSecret) ? { idSecret } : {}),
  };
}

/** The command context of the current request. */
export const CommandCtx = createParamDecorator((_data: unknown, ctx: ExecutionContext): CommandContext =>
  commandContextOf(ctx.switchToHttp().getRequest<AuthenticatedRequest>()),
);
