import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { createHash, createHmac } from 'node:crypto';
import type { AuthenticatedRequest } from '../access/current-actor.decorator';
import { ProblemException } from '../http/problem';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/** Body fields sealed under the subject's key: a digest of them would outlive the erasure. */
const SEALED_FIELDS = ['identity', 'justification'] as const;

/**
 * A digest of what was asked, stored with the events so that a key reused with
 * another request is refused. Identity data and a justification are left out
 * (they are sealed, and a hash of them in an immutable event would let anyone
 * holding an export confirm a guess of an erased person's name), and the digest
 * is keyed with the installation's secret, so that no dictionary can be run against it.
 */
export function fingerprintOf(
  method: string,
  path: string,
  body: unknown,
  secret: Buffer | undefined,
): string {
  let unsealed = body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body))
    for (const field of SEALED_FIELDS)
      if (field in (unsealed as object))
        unsealed = { ...(unsealed as Record<string, unknown>), [field]: '(sealed)' };
  const text = `${method} ${path}\n${JSON.stringify(unsealed ?? null)}`;
  return (secret ? createHmac('sha256', secret) : createHash('sha256')).update(text).digest('hex');
}

/** Builds the command context of a request: actor, time, request id and a digest of the request. */
export function commandContextOf(request: AuthenticatedRequest): CommandContext {
  const fingerprint = fingerprintOf(
    request.method,
    request.url.split('?')[0] ?? '',
    request.body,
    idSecretOf(request),
  );
  const requestId = (request.raw as { id?: unknown }).id;
  return {
    actor: request.actor,
    now: new Date().toISOString(),
    requestId: typeof requestId === 'string' ? requestId : 'unknown',
    fingerprint,
  };
}

/**
 * The options a command handler is called with: its idempotency, when the client sent an
 * Idempotency-Key (a malformed key is a 400). The ids of a keyed request are derived with the
 * installation's id secret; without the secret (not configured) a key cannot be honoured.
 */
export function commandOptionsOf(request: AuthenticatedRequest): CommandOptions {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return {};
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
    throw new ProblemException({
      status: 400,
      title: 'Invalid request',
      code: 'REQUEST.INVALID',
      field: 'Idempotency-Key',
      detail: 'Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID is a good choice).',
    });
  }
  const idSecret = idSecretOf(request);
  if (idSecret === undefined) throw new Error('ids derived from an Idempotency-Key need the id secret');
  return { idempotency: { key, idSecret } };
}

function idSecretOf(request: AuthenticatedRequest): Buffer | undefined {
  const raw = (request.raw as { idSecret?: unknown }).idSecret;
  return Buffer.isBuffer(raw) ? raw : undefined;
}

/** The command context of the current request. */
export const CommandCtx = createParamDecorator((_data: unknown, ctx: ExecutionContext): CommandContext =>
  commandContextOf(ctx.switchToHttp().getRequest<AuthenticatedRequest>()),
);

/** The command options of the current request (its Idempotency-Key, validated). */
export const Idempotent = createParamDecorator((_data: unknown, ctx: ExecutionContext): CommandOptions =>
  commandOptionsOf(ctx.switchToHttp().getRequest<AuthenticatedRequest>()),
);
