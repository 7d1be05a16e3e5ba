import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '@nrm/runtime';
import { KafkaPublisher } from '../../apps/relay/src/kafka-publisher';
import { Relay } from '../../apps/relay/src/relay';
import { RelayStore } from '../../apps/relay/src/relay-store';
import { topicNames } from '../../apps/relay/src/routing';
import { consumeAll, deleteTopics, kafkaBrokers, uniquePrefix } from '../../apps/relay/test/kafka';
import { Ledger } from './harness';

/** Invented personal data, sent in the command; none of it may appear in any span. */
const INVENTED = {
  fullName: 'Zofia Wymyślona-Traceson',
  birthDate: '1987-02-19',
  nationality: 'MD',
  contact: '+00 555 0199 4412',
  notes: 'met at the invented bus station Quillbrook, works for an invented farm',
};
const NEEDLES = [INVENTED.fullName, 'Wymyślona', INVENTED.birthDate, INVENTED.contact, 'Quillbrook'];

// A caller's trace (W3C): the ledger continues it.
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('tracing with OpenTelemetry (e2e)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let ledger: Ledger;
  let relayStore: RelayStore;
  let relay: Relay | undefined;
  const prefix = uniquePrefix('tracing-in-process');

  beforeAll(async () => {
    tracing = startTracing(
      'e2e',
      { OTEL_TRACES_EXPORTER: 'none' },
      {
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      },
    );
    ledger = await Ledger.boot();
    relayStore = new RelayStore(':memory:');
  });
  afterAll(async () => {
    await relay?.stop();
    relayStore.close();
    await ledger.close();
    await tracing.shutdown();
    await deleteTopics(kafkaBrokers(), prefix);
  });

  it('follows one command from the HTTP request through the append, the projection and the relay to Kafka headers, without personal data', async () => {
    expect(tracing.enabled).toBe(true);
    const clinic = await ledger.principal('health', ['caseworker'], 'clinic-tracing');
    const reported = await clinic.post<{ caseId: string }>(
      '/cases',
      {
        indicators: ['debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
        identity: INVENTED,
      },
      { traceparent: CALLER_TRACEPARENT },
    );
    expect(reported.status).toBe(201);
    const caseId = reported.body.caseId;
    // Consent (outside the trace) for the shelter the case is then referred to.
    await ledger.principal('ngo', ['caseworker'], 'ngo-tracing');
    const consented = await clinic.post(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-tracing'],
      categories: ['case-status', 'support-needs'],
      purposes: ['assistance', 'referral'],
      expiresAt: new Date(Date.now() + 180 * 86_400_000).toISOString(),
      capture: { method: 'written', language: 'ro', interpreterUsed: true },
    });
    expect(consented.status).toBe(201);
    // A second command of the same trace: the referral is delivered to the shelter's topic.
    const referred = await clinic.post(
      `/cases/${caseId}/referrals`,
      {
        toAgencyId: 'ngo-tracing',
        purpose: 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'urgent',
        respondBy: new Date(Date.now() + 2 * 86_400_000).toISOString(),
        sharedCategories: ['case-status', 'support-needs'],
      },
      { traceparent: CALLER_TRACEPARENT },
    );
    expect(referred.status).toBe(201);

    // The appended event carries the request span's context.
    const appended = [];
    for await (const e of ledger.store.readAll({}))
      if (e.metadata.traceparent !== undefined) appended.push(e);
    expect(appended.length).toBeGreaterThan(0);
    const last = appended[appended.length - 1]!;
    expect(last.metadata.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));

    // The embedded projector's span for the event (read-your-writes: the command waited for it,
    // or the GET below does).
    await clinic.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' });

    // The relay, from the same store, to the real broker (scripts/kafka.sh, jest's globalSetup).
    const brokers = kafkaBrokers();
    const publisher = new KafkaPublisher({ brokers, clientId: 'relay-tracing-in-process' });
    relay = new Relay({ store: ledger.store, relayStore, publisher, topics: topicNames(prefix) });
    relay.start();
    expect(await relay.waitFor(last.position, 30_000)).toBe(true);
    await relay.stop();
    await new Promise((r) => setImmediate(r));

    const spans = exporter.getFinishedSpans();
    const inTrace = spans.filter((s) => s.spanContext().traceId === TRACE_ID);
    const server = inTrace.filter((s) => s.kind === SpanKind.SERVER);
    const projected = inTrace.filter((s) => s.name.startsWith('project '));
    const published = inTrace.filter((s) => s.name.startsWith('publish '));
    // What the broker holds, headers and all, read back by a consumer.
    const sent = (await consumeAll(brokers, prefix)).map((m) => ({
      eventId: m.eventId,
      headers: { traceparent: m.traceparent || undefined },
    }));
    const delivered = sent.filter((m) => m.headers.traceparent?.split('-')[1] === TRACE_ID);
    console.log(
      `tracing: ${spans.length} spans, ${inTrace.length} in the command's trace (server ${server.length}, projection ${projected.length}, publish ${published.length}); Kafka messages ${sent.length}, ${delivered.length} with its traceparent`,
    );
    expect(
      server.map((s) => [s.attributes['http.route'], s.attributes['http.response.status_code']]),
    ).toEqual([
      ['/cases', 201],
      ['/cases/:caseId/referrals', 201],
    ]);
    // The server spans continue the caller's span; projection and publish spans are their children.
    expect(server.every((s) => s.parentSpanContext?.spanId === '00f067aa0ba902b7')).toBe(true);
    const serverSpanIds = new Set(server.map((s) => s.spanContext().spanId));
    expect(projected.length).toBeGreaterThanOrEqual(2);
    expect(projected.every((s) => serverSpanIds.has(s.parentSpanContext?.spanId ?? ''))).toBe(true);
    expect(published.length).toBeGreaterThan(0);
    expect(published.every((s) => serverSpanIds.has(s.parentSpanContext?.spanId ?? ''))).toBe(true);
    // Every message of the command's events names the publish span in its headers.
    expect(delivered.length).toBeGreaterThan(0);
    const publishSpanIds = new Set(published.map((s) => s.spanContext().spanId));
    expect(delivered.every((m) => publishSpanIds.has(m.headers.traceparent!.split('-')[2]!))).toBe(true);
    const appendedIds = new Set(appended.map((e) => e.id));
    expect(
      sent
        .filter((m) => appendedIds.has(m.eventId))
        .every((m) => m.headers.traceparent?.split('-')[1] === TRACE_ID),
    ).toBe(true);

    // The attacker's read of the spans: no personal data, and no case id, in any name or attribute.
    const found = spans.flatMap((s) => leaks(s, [...NEEDLES, caseId]));
    console.log(
      `tracing personal-data scan: ${spans.length} spans, ${countValues(spans)} attribute values, ${NEEDLES.length + 1} needles, ${found.length} found`,
    );
    expect(found).toEqual([]);
  });
});

function countValues(spans: readonly ReadableSpan[]): number {
  return spans.reduce((n, s) => n + Object.keys(s.attributes).length, 0);
}

function leaks(span: ReadableSpan, needles: readonly string[]): string[] {
  const text = JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    resource: span.resource.attributes,
    status: span.status,
  }).toLowerCase();
  return needles.filter((n) => text.includes(n.toLowerCase())).map((n) => `${span.name}: ${n}`);
}
