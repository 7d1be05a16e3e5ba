import {
  propagation,
  context,
  trace,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { startTracing, TraceparentPropagator, tracingEnabled, TracingConfigError } from './tracing';

const CALLER = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'agency=Velmora_Dashkintree_1997-05-06',
  baggage: 'case=Velmora_Dashkintree',
};

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

  it("propagates the traceparent only: a caller's tracestate and baggage are neither read nor written", () => {
    const propagator = new TraceparentPropagator();
    expect(propagator.fields()).toEqual(['traceparent']);
    const continued = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, CALLER, defaultTextMapGetter));
    expect(continued).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    expect(continued?.traceState).toBeUndefined();
    // A span context holding a tracestate (made elsewhere) is written without it.
    const carrier: Record<string, string> = {};
    const withState = { ...continued!, traceState: new TraceState(CALLER.tracestate) };
    propagator.inject(trace.setSpanContext(ROOT_CONTEXT, withState), carrier, defaultTextMapSetter);
    expect(carrier).toEqual({ traceparent: CALLER.traceparent });
  });

  it('starts with otlp, writes a traceparent, and stops', async () => {
    const tracing = startTracing('unit', { OTEL_TRACES_EXPORTER: 'otlp' });
    expect(tracing.enabled).toBe(true);
    const span = trace.getTracer('unit').startSpan('x');
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // The propagator it installs continues a caller's trace, without the caller's tracestate or baggage.
    const parent = propagation.extract(ROOT_CONTEXT, CALLER);
    expect(trace.getSpanContext(parent)?.spanId).toBe('00f067aa0ba902b7');
    expect(trace.getSpanContext(parent)?.traceState).toBeUndefined();
    expect(propagation.getBaggage(parent)).toBeUndefined();
    const child = trace.getTracer('unit').startSpan('y', {}, parent);
    const passedOn: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, child), passedOn);
    expect(Object.keys(passedOn)).toEqual(['traceparent']);
    child.end();
    span.end();
    await tracing.shutdown().catch(() => undefined);
    expect(tracingEnabled()).toBe(false);
  });
});
