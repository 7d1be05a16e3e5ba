import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import pino from 'pino';
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

/** Bytes of log lines gathered before an asynchronous write (LOG_SYNC=off). */
export const LOG_CHUNK_BYTES = 4096;
/** Longest a gathered line waits for its write when traffic is too thin to fill a chunk. */
export const LOG_FLUSH_MS = 100;

type Destination = ReturnType<typeof pino.destination>;
let asyncStdout: Destination | undefined;

/**
 * Where the API's log lines go: stdout, written line by line with a blocking write (LOG_SYNC=on),
 * or gathered and written in chunks by an asynchronous write (off). One asynchronous destination
 * per process (apps built again in one process, as the e2e tests do, share it). pino flushes it
 * synchronously on `exit` (a clean shutdown, `process.exit`, an uncaught exception) and after
 * every `fatal` line.
 */
export function logDestination(config: Pick<LedgerConfig, 'LOG_SYNC'>): Destination {
  if (config.LOG_SYNC === 'on') return pino.destination({ dest: 1, sync: true });
  asyncStdout ??= pino.destination({
    dest: 1,
    sync: false,
    minLength: LOG_CHUNK_BYTES,
    periodicFlush: LOG_FLUSH_MS,
  });
  return asyncStdout;
}

/**
 * JSON logs with request ids. Only the method, path and status are logged:
 * never headers (credentials), bodies or query strings, which may carry
 * personal data.
 */
export function loggerParams(config: LedgerConfig): Params {
  return {
    pinoHttp: [
      {
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
      logDestination(config),
    ],
  };
}
