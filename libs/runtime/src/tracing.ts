/**
 * OpenTelemetry tracing for the ledger's processes (API, projector, relay), configured by the
 * standard `OTEL_*` variables and OFF by default: unless `OTEL_TRACES_EXPORTER` names an exporter
 * (`otlp` or `console`), no SDK is started, no hook is added and the code paths below run on the
 * API's no-op implementation.
 *
 * What a span may carry (see README "Tracing"): methods, route templates, status codes, event
 * types, store positions, projection names, Kafka topics, and the pseudonymous ids the ledger makes
 * itself (event ids, request ids). Never a request or event body, a name, an address, a key or a
 * credential, and no case id either (a route template, not the path, names the route).
 */
import {
  context,
  propagation,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations, type Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation, type KafkajsMessage } from '@opentelemetry/instrumentation-kafkajs';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { PrivacySpanProcessor } from './span-privacy';

export const TRACER_NAME = 'nrm-ledger';

/**
 * The official instrumentations the ledger turns on with tracing (all by default;
 * `OTEL_NODE_DISABLED_INSTRUMENTATIONS` names those to leave off). Fastify has none here: the
 * API's request hook (apps/ledger-api/src/http/request-tracing.ts) names the HTTP server span by
 * its route template, which is what the Fastify instrumentation would add.
 */
export const INSTRUMENTATIONS = ['http', 'pg', 'kafkajs'] as const;
export type InstrumentationName = (typeof INSTRUMENTATIONS)[number];

/**
 * A Kafka message's own `traceparent`, put there by the relay (the span of the event it carries):
 * kept under this symbol while kafkajs' instrumentation writes its send span's context into the
 * headers, and written back after it, so that an agency's consumer continues the event's trace.
 */
export const MESSAGE_TRACEPARENT = Symbol.for('nrm.message.traceparent');

const TRACEPARENT = 'traceparent';

/**
 * The W3C trace context, `traceparent` only: the ids of a trace and a span. A caller's
 * `tracestate` (vendor entries of free text, up to 512 characters) and `baggage` are neither read
 * nor passed on, so a span context the ledger continues holds ids and flags only, and nothing a
 * caller wrote there reaches an event's metadata (and the immutable store, beyond any erasure), a
 * Kafka message's headers, an exported span or an outgoing request.
 */
export class TraceparentPropagator implements TextMapPropagator {
  private readonly w3c = new W3CTraceContextPropagator();

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.w3c.inject(context, carrier, {
      set: (into, key, value) => {
        if (key === TRACEPARENT) setter.set(into, key, value);
      },
    });
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.w3c.extract(context, carrier, {
      get: (from, key) => (key === TRACEPARENT ? getter.get(from, key) : undefined),
      keys: (from) => getter.keys(from).filter((key) => key === TRACEPARENT),
    });
  }

  fields(): string[] {
    return [TRACEPARENT];
  }
}

/** A wrong tracing setting, said at boot. */
export class TracingConfigError extends Error {}

export interface Tracing {
  readonly enabled: boolean;
  /** Sends what is buffered (bounded by the exporter's timeout) and stops. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, shutdown: async () => undefined };
let active: Tracing = OFF;

/** True once `startTracing` started an SDK in this process. */
export function tracingEnabled(): boolean {
  return active.enabled;
}

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Starts the SDK when the environment asks for it. `spanProcessors` replaces the exporter chosen
 * by the environment (the tests hand an in-memory exporter).
 */
export function startTracing(
  service: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { readonly spanProcessors?: readonly SpanProcessor[] } = {},
): Tracing {
  if (active.enabled) return active;
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return OFF;
  let processors: SpanProcessor[];
  if (options.spanProcessors) {
    processors = [...options.spanProcessors];
  } else {
    processors = exporterNames(env).map((name) =>
      // The batch processor buffers (OTEL_BSP_MAX_QUEUE_SIZE, default 2048) and drops when full:
      // a collector that is down or slow never holds up a request.
      name === 'otlp'
        ? new BatchSpanProcessor(new OTLPTraceExporter())
        : new BatchSpanProcessor(new ConsoleSpanExporter()),
    );
  }
  if (processors.length === 0) return OFF;
  const disabled = disabledInstrumentations(env);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME?.trim() || `nrm-ledger-${service}`,
    }),
    // Every exporter sees only what span-privacy.ts lets out.
    spanProcessors: processors.map((p) => new PrivacySpanProcessor(p)),
  });
  // The AsyncLocalStorage context manager and the W3C trace context, traceparent only (below).
  provider.register({ propagator: new TraceparentPropagator() });
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: instrumentations(disabled),
  });
  patchLoadedModules();
  active = {
    enabled: true,
    shutdown: async () => {
      active = OFF;
      unregister();
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
  return active;
}

/**
 * The OpenTelemetry variables the ledger's processes read (the SDK and the OTLP exporter read the
 * rest of theirs themselves): what a deployment may set besides the ledger's own settings.
 */
export const TRACING_VARIABLES: readonly string[] = [
  'OTEL_SDK_DISABLED',
  'OTEL_TRACES_EXPORTER',
  'OTEL_SERVICE_NAME',
  'OTEL_NODE_DISABLED_INSTRUMENTATIONS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_CERTIFICATE',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
];

/** What startTracing would refuse at boot in this environment, without starting anything. */
export function tracingConfigProblems(env: NodeJS.ProcessEnv): string[] {
  try {
    exporterNames(env);
    disabledInstrumentations(env);
    return [];
  } catch (error) {
    if (error instanceof TracingConfigError) return [error.message];
    throw error;
  }
}

function exporterNames(env: NodeJS.ProcessEnv): Array<'otlp' | 'console'> {
  const names = (env.OTEL_TRACES_EXPORTER ?? 'none')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '' && e !== 'none');
  for (const name of names)
    if (name !== 'otlp' && name !== 'console')
      throw new TracingConfigError(
        `OTEL_TRACES_EXPORTER: "${name}" is not supported; use otlp, console or none (the default)`,
      );
  return names as Array<'otlp' | 'console'>;
}

function disabledInstrumentations(env: NodeJS.ProcessEnv): ReadonlySet<InstrumentationName> {
  const names = (env.OTEL_NODE_DISABLED_INSTRUMENTATIONS ?? '')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
  for (const name of names)
    if (!(INSTRUMENTATIONS as readonly string[]).includes(name))
      throw new TracingConfigError(
        `OTEL_NODE_DISABLED_INSTRUMENTATIONS: "${name}" is not an instrumentation of the ledger; use ${INSTRUMENTATIONS.join(', ')}`,
      );
  return new Set(names as InstrumentationName[]);
}

/**
 * The instrumentations, configured to record no personal data in the first place (the privacy
 * processor is the second line): no request or response hooks that read bodies, pg without
 * parameter values, kafkajs with the relay's per-event traceparent kept (MESSAGE_TRACEPARENT).
 *
 * `registerInstrumentations` patches a module when it is next required; the processes load most
 * of theirs before tracing starts (the runtime's index opens the stores), so each instrumented
 * module is required once more right after, which patches the prototypes every client shares.
 */
function instrumentations(disabled: ReadonlySet<InstrumentationName>): Instrumentation[] {
  const list: Instrumentation[] = [];
  if (!disabled.has('http'))
    list.push(
      new HttpInstrumentation({
        // Probes and scrapes are not commands; they would drown the traces.
        ignoreIncomingRequestHook: (request) => /^\/(health|metrics)(\/|\?|$)/.test(request.url ?? ''),
      }),
    );
  if (!disabled.has('pg')) list.push(new PgInstrumentation({ enhancedDatabaseReporting: false }));
  if (!disabled.has('kafkajs'))
    list.push(
      new KafkaJsInstrumentation({
        producerHook: (_span, { message }) => restoreTraceparent(message),
      }),
    );
  return list;
}

/**
 * After kafkajs' send span wrote its context into a message's headers: the relay's traceparent, if
 * it set one, and never a `tracestate` (the propagator writes none; this holds whatever wrote it).
 */
function restoreTraceparent(message: KafkajsMessage): void {
  const own = (message as KafkajsMessage & { [MESSAGE_TRACEPARENT]?: string })[MESSAGE_TRACEPARENT];
  if (!message.headers) return;
  if (own !== undefined) message.headers.traceparent = own;
  delete message.headers.tracestate;
}

/**
 * Requires once more each instrumented module this process has already loaded, so that it is
 * patched (a module not loaded yet is patched when it is first required).
 */
export function patchLoadedModules(): void {
  for (const name of ['http', 'https', 'pg', 'pg-pool', 'kafkajs']) {
    const core = name === 'http' || name === 'https';
    try {
      if (core || require.cache[require.resolve(name)] !== undefined)
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(name);
    } catch {
      // Not installed where this process runs (the CLI image has no kafkajs): nothing to patch.
    }
  }
}

/** Ends a span with an error status naming only the error's class (messages may quote input). */
export function endWithError(span: Span, error: unknown): void {
  span.setStatus({ code: 2, message: error instanceof Error ? error.name : 'error' });
  span.end();
}
