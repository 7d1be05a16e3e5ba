import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { RATE_LIMITS } from './access/auth.guard';
import type { RateLimits } from './access/rate-limits';
import { PROBLEM_CONTENT_TYPE, ProblemException, problemType, type ProblemDocument } from './http/problem';
import { idDerivationSecret } from '@nrm/runtime/commands';
import type { LedgerMetrics } from './metrics/metrics';
import { METRICS } from './metrics/metrics.controller';
import type { LedgerConfig } from '@nrm/runtime';
import { serveConsole } from './http/console-static';
import { frameworkErrorAsProblem, unparsableRequestAsProblem } from './http/framework-errors';
import { useBoundedJsonParser } from './http/json-body';
import { compiledValidationPipe } from './http/validation';
import { requestId } from './logging';
import { traceRequests } from './http/request-tracing';
import { setUpOpenApi } from './openapi';
import { QuietBootLogger } from './startup';

/** Builds the ledger app from a validated configuration (used by main and by the e2e tests). */
export async function createApp(config: LedgerConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    new FastifyAdapter({
      bodyLimit: config.BODY_LIMIT_BYTES,
      // Whose X-Forwarded-For names the client (the address rate limits count by); none by default.
      trustProxy: config.TRUST_PROXY.length > 0 ? config.TRUST_PROXY : false,
      genReqId: requestId,
      clientErrorHandler: unparsableRequestAsProblem,
      // Errors of Fastify's router (an undecodable path, an over-long path parameter) as problems too.
      frameworkErrors: frameworkErrorAsProblem,
    }),
    // bodyParser: false keeps Nest from adding form and text parsers: commands are JSON only.
    { bufferLogs: true, abortOnError: false, bodyParser: false },
  );
  app.useLogger(new QuietBootLogger(app.get(Logger)));
  // Fastify's own text/plain parser would hand a string to the validation pipe; 415 says it better.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  useBoundedJsonParser(app.getHttpAdapter().getInstance());
  const idSecret = idDerivationSecret(config);
  // A span per request when tracing is on (OTEL_TRACES_EXPORTER; see libs/runtime/src/tracing.ts).
  traceRequests(app.getHttpAdapter().getInstance());
  // Every answer names its request id, so that a caseworker can quote it in a support call.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      void reply.header('x-request-id', request.id);
      // No answer of the ledger may be framed by another site (the Swagger UI at /docs, where a
      // person pastes a key, and the printable access report included); the console adds its CSP.
      void reply.header('x-frame-options', 'DENY');
      // What ids derived from an Idempotency-Key are keyed with (see commands/id-secret.ts).
      (request.raw as { idSecret?: Buffer }).idSecret = idSecret;
    });
  // The API docs are served by Fastify, not by a Nest route the guard sees: limited per address here.
  const limits = app.get<RateLimits>(RATE_LIMITS);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      if (!/^\/(docs|openapi\.)/.test(request.routeOptions.url ?? '')) return;
      // Swagger UI, where a person pastes a key and presses "Try it out", is never framed by another site.
      if ((request.routeOptions.url ?? '').startsWith('/docs'))
        void reply.header('content-security-policy', "frame-ancestors 'none'");
      try {
        await limits.address(request.ip);
      } catch (error) {
        if (!(error instanceof ProblemException)) throw error;
        const { problem } = error;
        return reply
          .status(problem.status)
          .header('content-type', PROBLEM_CONTENT_TYPE)
          .header('retry-after', String(problem.retryAfterSeconds ?? 1))
          .send(
            JSON.stringify({
              type: problemType(problem.code),
              ...problem,
              requestId: request.id,
            } satisfies ProblemDocument),
          );
      }
    });
  const metrics = app.get<LedgerMetrics>(METRICS);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', async (request, reply) => {
      metrics.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    });
  app.useGlobalPipes(compiledValidationPipe());
  // After SIGTERM/SIGINT and the shutdown hooks, exit through process.exit (code 0): its `exit` event
  // is where pino writes the log lines still gathered (LOG_SYNC=off), which a re-sent signal would drop.
  app.enableShutdownHooks([], { useProcessExit: true });
  setUpOpenApi(app);
  await serveConsole(app, config.CONSOLE_DIR);
  return app;
}
