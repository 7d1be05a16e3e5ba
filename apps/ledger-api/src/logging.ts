import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { LedgerConfig } from '@nrm/runtime';

/** A random (version 4) or time-ordered (version 7) UUID: nothing a person's data can be spelt in. */
const OPAQUE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[47][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A caller's X-Request-Id when it is a random or time-ordered UUID (in lower case), otherwise a
 * new UUID. The request id is answered, logged and stored with every event the request records
 * (as `correlationId`, and in the access log): events outlive the erasure of a person, so a
 * caller's own reference (which may be built from a name and a birth date) is not taken, nor a
 * name-based (v3, v5) UUID, a hash of something, nor a v1, which carries a machine's address.
 */
export function requestId(req: Pick<IncomingMessage, 'headers'>): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && OPAQUE_ID.test(given) ? given.toLowerCase() : randomUUID();
}

/**
 * JSON logs with request ids. Only the method, path and status are logged:
 * never headers (credentials), bodies or query strings, which may carry
 * personal data.
 */
export function loggerParams(config: LedgerConfig): Params {
  return {
    pinoHttp: {
      level: config.LOG_LEVEL,
      // Fastify assigns the id (see bootstrap); pino-http reuses the one on the request.
      genReqId: (req) => (typeof req.id === 'string' ? req.id : requestId(req)),
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          path: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      redact: { paths: ['req.headers', 'res.headers'], remove: true },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    },
  };
}
