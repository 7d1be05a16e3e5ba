import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { LedgerConfig } from '@nrm/runtime';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A caller's X-Request-Id when it is a plain token, otherwise a new UUID. */
export function requestId(req: Pick<IncomingMessage, 'headers'>): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
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
