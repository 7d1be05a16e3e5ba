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
import { context, propagation, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export const TRACER_NAME = 'nrm-ledger';

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
    const exporters = (env.OTEL_TRACES_EXPORTER ?? 'none')
      .split(',')
      .map((e) => e.trim().toLowerCase())
      .filter((e) => e !== '' && e !== 'none');
    processors = exporters.map((name) => {
      // The batch processor buffers (OTEL_BSP_MAX_QUEUE_SIZE, default 2048) and drops when full:
      // a collector that is down or slow never holds up a request.
      if (name === 'otlp') return new BatchSpanProcessor(new OTLPTraceExporter());
      if (name === 'console') return new BatchSpanProcessor(new ConsoleSpanExporter());
      throw new TracingConfigError(
        `OTEL_TRACES_EXPORTER: "${name}" is not supported; use otlp, console or none (the default)`,
      );
    });
  }
  if (processors.length === 0) return OFF;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME?.trim() || `nrm-ledger-${service}`,
    }),
    spanProcessors: processors,
  });
  // The AsyncLocalStorage context manager and the W3C trace-context (and baggage) propagator.
  provider.register();
  active = {
    enabled: true,
    shutdown: async () => {
      active = OFF;
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
  return active;
}

/** Ends a span with an error status naming only the error's class (messages may quote input). */
export function endWithError(span: Span, error: unknown): void {
  span.setStatus({ code: 2, message: error instanceof Error ? error.name : 'error' });
  span.end();
}
