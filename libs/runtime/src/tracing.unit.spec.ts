import { propagation, context, trace } from '@opentelemetry/api';
import { startTracing, tracingEnabled, TracingConfigError } from './tracing';

describe('tracing configuration (OTEL_*)', () => {
  it('is off by default: no SDK, no propagator, no traceparent written', () => {
    const tracing = startTracing('unit', {});
    expect(tracing.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    const carrier: Record<string, string> = {};
    const span = trace.getTracer('unit').startSpan('x');
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    expect(span.isRecording()).toBe(false);
    expect(carrier).toEqual({});
  });

  it('stays off with OTEL_TRACES_EXPORTER=none and with OTEL_SDK_DISABLED=true', () => {
    expect(startTracing('unit', { OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
    expect(startTracing('unit', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).enabled).toBe(
      false,
    );
    expect(tracingEnabled()).toBe(false);
  });

  it('refuses an exporter it does not ship at boot, naming the variable', () => {
    expect(() => startTracing('unit', { OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(TracingConfigError);
    expect(() => startTracing('unit', { OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER/);
  });

  it('refuses an instrumentation name it does not know in OTEL_NODE_DISABLED_INSTRUMENTATIONS', () => {
    const env = { OTEL_TRACES_EXPORTER: 'otlp', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg, express' };
    expect(() => startTracing('unit', env)).toThrow(/OTEL_NODE_DISABLED_INSTRUMENTATIONS: "express"/);
    expect(tracingEnabled()).toBe(false);
  });

  it('starts with otlp, writes a traceparent, and stops', async () => {
    const tracing = startTracing('unit', { OTEL_TRACES_EXPORTER: 'otlp' });
    expect(tracing.enabled).toBe(true);
    const span = trace.getTracer('unit').startSpan('x');
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    span.end();
    await tracing.shutdown().catch(() => undefined);
    expect(tracingEnabled()).toBe(false);
  });
});
