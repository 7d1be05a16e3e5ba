import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer, tracingEnabled } from '@nrm/runtime';

const TRACED = Symbol('nrm.trace');

interface Traced {
  /** `span` is the hook's own, ended on response; absent when the HTTP instrumentation owns it. */
  [TRACED]?: { span?: Span; context: Context };
}

/**
 * A server span per request, continuing the caller's W3C `traceparent` when it sends one. The
 * span is named by the method and the route template (`POST /cases/:caseId/consent`), never the
 * path, so no case id enters it. Its context is made current again just before the handler (the
 * body is parsed from socket events that do not carry it), so the command executor stores it in
 * the appended events' metadata. Nothing is added when tracing is off.
 *
 * Behind a real socket the official HTTP instrumentation has already opened the server span (and
 * continued the caller's context): the hook then gives it the route template (through the RPC
 * metadata the instrumentation names its span from) and the request id, and opens none of its
 * own. Requests injected without a socket (the in-process tests) get the hook's own span.
 */
export function traceRequests(fastify: FastifyInstance): void {
  if (!tracingEnabled()) return;
  fastify.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const active = context.active();
    const rpc = getRPCMetadata(active);
    const httpSpan = trace.getSpan(active);
    if (rpc?.type === RPCType.HTTP && httpSpan?.isRecording()) {
      if (route !== undefined) {
        rpc.route = route;
        httpSpan.setAttribute('http.route', route);
      }
      httpSpan.updateName(`${request.method} ${route ?? 'unmatched'}`);
      httpSpan.setAttribute('nrm.request_id', request.id);
      // Ended by the instrumentation, with the status code.
      (request as FastifyRequest & Traced)[TRACED] = { context: active };
      return done();
    }
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer().startSpan(
      `${request.method} ${route ?? 'unmatched'}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          ...(route !== undefined ? { 'http.route': route } : {}),
          'nrm.request_id': request.id,
        },
      },
      parent,
    );
    const ctx = trace.setSpan(parent, span);
    (request as FastifyRequest & Traced)[TRACED] = { span, context: ctx };
    context.with(ctx, done);
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const traced = (request as FastifyRequest & Traced)[TRACED];
    if (!traced) return done();
    context.with(traced.context, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const traced = (request as FastifyRequest & Traced)[TRACED];
    if (traced?.span) {
      traced.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
      traced.span.end();
    }
    done();
  });
}
