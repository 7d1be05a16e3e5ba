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
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer, tracingEnabled } from '@nrm/runtime';

const TRACED = Symbol('nrm.trace');

interface Traced {
  [TRACED]?: { span: Span; context: Context };
}

/**
 * A server span per request, continuing the caller's W3C `traceparent` when it sends one. The
 * span is named by the method and the route template (`POST /cases/:caseId/consent`), never the
 * path, so no case id enters it. Its context is made current again just before the handler (the
 * body is parsed from socket events that do not carry it), so the command executor stores it in
 * the appended events' metadata. Nothing is added when tracing is off.
 */
export function traceRequests(fastify: FastifyInstance): void {
  if (!tracingEnabled()) return;
  fastify.addHook('onRequest', (request, _reply, done) => {
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
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
    if (traced) {
      traced.span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
      traced.span.end();
    }
    done();
  });
}
