import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventStore } from '@nrm/event-store';
import { Projector, type ProjectorHealth, type ReadModelStore } from '@nrm/projections';
import pino, { type Logger } from 'pino';
import { Logger as NestLogger } from '@nestjs/common';
import { type LedgerConfig, openEventStore, openReadModelStore, PROJECTIONS } from '@nrm/runtime';

/** Waits before restarting a failed projector: doubling from the first to the last, then staying there. */
export const RESTART_BACKOFF_MS = { first: 500, last: 30_000 } as const;

export interface RunningProjector {
  readonly projector: Projector;
  /** Where GET /health answers. */
  readonly healthUrl: string;
  /** Stops the projector, the health server, and closes both stores. */
  stop(): Promise<void>;
}

/**
 * The projector as its own process (production): it follows the event store,
 * keeps every read model in the configured store with its checkpoint, and
 * answers GET /health (200 while it runs, 503 with the reason otherwise). When
 * it fails (the store or the read-model database unreachable, or a projection
 * refusing an event) it restarts after a bounded back-off; the failing event is
 * retried, never skipped. Only one projector may write a read-model store: run
 * one replica (see the README on single active instances).
 */
export async function runProjector(
  config: LedgerConfig,
  options: { logger?: Logger; store?: EventStore; readModels?: ReadModelStore } = {},
): Promise<RunningProjector> {
  const logger = options.logger ?? pino({ level: config.LOG_LEVEL, base: { app: 'projector' } });
  const store = options.store ?? openEventStore(config, new NestLogger('EventStore'));
  const readModels = options.readModels ?? openReadModelStore(config);
  const projector = new Projector({
    store,
    readModels,
    projections: PROJECTIONS,
    logger: {
      info: (obj, msg) => logger.info(obj, msg),
      error: (obj, msg) => logger.error(obj, msg),
    },
  });

  let stopping = false;
  let backoff: number = RESTART_BACKOFF_MS.first;
  let restartTimer: NodeJS.Timeout | undefined;
  const watchdog = setInterval(() => {
    if (stopping || restartTimer !== undefined || projector.health().state !== 'failed') return;
    const wait = backoff;
    backoff = Math.min(backoff * 2, RESTART_BACKOFF_MS.last);
    logger.info({ inMs: wait }, 'projector failed: restarting after a back-off');
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      projector.start().then(
        () => undefined,
        (error: unknown) => logger.error({ err: messageOf(error) }, 'projector restart failed'),
      );
    }, wait);
  }, 250);
  // A full back-off again once it has run cleanly for a while.
  const calm = setInterval(() => {
    if (projector.health().state === 'running') backoff = RESTART_BACKOFF_MS.first;
  }, RESTART_BACKOFF_MS.last);

  const server = healthServer(projector, readModels);
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(config.PROJECTOR_HEALTH_PORT, config.HOST, () => listening());
  });
  const address = server.address() as AddressInfo;
  const healthUrl = `http://${config.HOST}:${address.port}/health`;

  await projector.start();
  logger.info({ healthUrl, readModels: readModels.description }, 'projector process ready');

  return {
    projector,
    healthUrl,
    async stop() {
      stopping = true;
      clearInterval(watchdog);
      clearInterval(calm);
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      await new Promise<void>((closed) => server.close(() => closed()));
      await projector.close();
      await readModels.close();
      await store.close();
    },
  };
}

function healthServer(projector: Projector, readModels: ReadModelStore): Server {
  return createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/health') {
      response.writeHead(404, { 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
      return;
    }
    const health: ProjectorHealth = projector.health();
    response.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        status: health.ok ? 'ok' : 'unavailable',
        readModels: readModels.description,
        state: health.state,
        positions: health.positions,
        ...(health.failure ? { failure: health.failure } : {}),
      }),
    );
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
