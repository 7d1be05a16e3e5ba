/**
 * The outside attacker's erasure search, with tracing on (OTEL_TRACES_EXPORTER set): what a caller
 * sends in the W3C trace headers that the ledger writes into the events it records, and passes on
 * in its spans and in the Kafka messages the relay publishes. Apart from outside-erasure.e2e.spec.ts
 * because tracing is started once per process. Counts are printed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '@nrm/runtime';
import { KafkaPublisher } from '../../apps/relay/src/kafka-publisher';
import { Relay } from '../../apps/relay/src/relay';
import { RelayStore } from '../../apps/relay/src/relay-store';
import { topicNames } from '../../apps/relay/src/routing';
import { consumeAll, deleteTopics, kafkaBrokers, uniquePrefix } from '../../apps/relay/test/kafka';
import { Ledger } from './harness';

const NAME = 'Velmora_Dashkintree_1997-05-06';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('what a caller puts in trace headers, after the erasure (e2e)', () => {
  const exporter = new InMemorySpanExporter();
  const prefix = uniquePrefix('outside-erasure-tracing');
  let tracing: Tracing;
  let ledger: Ledger;
  beforeAll(async () => {
    tracing = startTracing(
      'e2e',
      { OTEL_TRACES_EXPORTER: 'none' },
      { spanProcessors: [new SimpleSpanProcessor(exporter)] },
    );
    ledger = await Ledger.boot();
  });
  afterAll(async () => {
    await ledger.close();
    await tracing.shutdown();
    await deleteTopics(kafkaBrokers(), prefix);
  });

  /**
   * FIXED (was low; only with tracing on): the request's `tracestate` (vendor entries of printable
   * text, up to 512 characters) was stored verbatim in every event's metadata with the
   * `traceparent`, so an integration whose tracing vendor entry carries its own case reference
   * (here one made of a name and a birth date) wrote it into the trail for good; the erasure
   * cannot reach it. Now the ledger's propagator reads and writes the `traceparent` only (ids),
   * and the events store that alone.
   */
  it("a tracestate made of the person's name is not written into the trail", async () => {
    expect(tracing.enabled).toBe(true);
    const clinic = await ledger.principal('health', ['caseworker'], 'ot-clinic');
    const oversight = await ledger.principal('oversight-body', ['oversight'], 'ot-dpa');
    const report = await clinic.post<{ subjectId: string }>(
      '/cases',
      {
        indicators: ['debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
        identity: { fullName: 'Another Invented Person' },
      },
      { traceparent: TRACEPARENT, tracestate: `agency=${NAME}` },
    );
    expect(report.status).toBe(201);
    expect(
      (
        await oversight.post(`/subjects/${report.body.subjectId}/erasure`, {
          ground: 'subject-request',
          reference: 'NGO-2026-781',
        })
      ).status,
    ).toBe(200);
    const stored: string[] = [];
    for await (const e of ledger.store.readAll())
      if (JSON.stringify(e.metadata).includes(NAME) || JSON.stringify(e.data).includes(NAME))
        stored.push(e.type);
    console.log(
      `outside-erasure (tracing on): events keeping a name-made tracestate after the erasure ${stored.length} (${stored.join(', ')})`,
    );
    expect(stored).toEqual([]);
  });
  /**
   * The insider's follow-up: the same tracestate, and a guardian's reference made of the name, as
   * far as they could travel: the spans the ledger exports (a span context carries its tracestate
   * to the collector), the relay's Kafka messages (values and every header), its parked events and
   * its store file.
   */
  it("nor is a tracestate or a guardian's reference passed on in spans, Kafka messages or the relay", async () => {
    const clinic = await ledger.principal('health', ['caseworker'], 'ot2-clinic');
    const ngo = await ledger.principal('ngo', ['caseworker'], 'ot2-ngo');
    const traced = { traceparent: TRACEPARENT, tracestate: `agency=${NAME}` };
    const report = await clinic.post<{ caseId: string; subjectId: string }>(
      '/cases',
      {
        indicators: ['debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
        identity: { fullName: 'Another Invented Person' },
      },
      traced,
    );
    expect(report.status).toBe(201);
    const { caseId } = report.body;
    const consent = await clinic.post(
      `/cases/${caseId}/consents`,
      {
        agencyIds: [ngo.agencyId],
        categories: ['case-status'],
        purposes: ['assistance'],
        expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
        capture: {
          method: 'guardian',
          language: 'ro',
          interpreterUsed: false,
          guardianReference: `${NAME}-g`,
        },
      },
      traced,
    );
    expect(consent.status).toBe(201);
    const referral = await clinic.post(
      `/cases/${caseId}/referrals`,
      {
        toAgencyId: ngo.agencyId,
        purpose: 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'urgent',
        respondBy: new Date(Date.now() + 2 * 86_400_000).toISOString(),
        sharedCategories: ['case-status'],
      },
      traced,
    );
    expect(referral.status).toBe(201);
    let last = 0;
    for await (const e of ledger.store.readAll()) last = e.position;

    const relayFile = join(ledger.dataDir, 'relay-attack.sqlite');
    const relayStore = new RelayStore(relayFile);
    const publisher = new KafkaPublisher({
      brokers: kafkaBrokers(),
      clientId: 'relay-outside-erasure-tracing',
    });
    const relay = new Relay({ store: ledger.store, relayStore, publisher, topics: topicNames(prefix) });
    relay.start();
    try {
      expect(await relay.waitFor(last, 30_000)).toBe(true);
    } finally {
      await relay.stop();
    }
    const parked = relayStore.parked();
    relayStore.close();
    const received = await consumeAll(kafkaBrokers(), prefix);

    const spans = exporter.getFinishedSpans();
    const inTrace = spans.filter((s) => s.spanContext().traceId === TRACEPARENT.split('-')[1]);
    const spansWithState = spans.filter(
      (s) => s.spanContext().traceState !== undefined || JSON.stringify(s.attributes).includes(NAME),
    );
    const messagesWithName = received.filter(
      (m) => m.value.includes(NAME) || JSON.stringify(m.headers).includes(NAME),
    );
    const messagesWithState = received.filter((m) => m.headers.tracestate !== undefined);
    const relayFiles = readdirSync(ledger.dataDir).filter(
      (f) => f.startsWith('relay-attack') && readFileSync(join(ledger.dataDir, f)).includes(NAME),
    );
    console.log(
      `outside-erasure (tracing on): spans ${spans.length} (${inTrace.length} in the caller's trace), with a tracestate or the name ${spansWithState.length}; ` +
        `Kafka messages ${received.length}, with a tracestate header ${messagesWithState.length}, with the name ${messagesWithName.length}; ` +
        `relay parked ${parked.length}, relay files with the name ${relayFiles.length}`,
    );
    expect(inTrace.length).toBeGreaterThan(0);
    expect(received.length).toBeGreaterThan(0);
    expect(received.some((m) => m.traceparent.split('-')[1] === TRACEPARENT.split('-')[1])).toBe(true);
    expect({
      spansWithState: spansWithState.length,
      messagesWithState: messagesWithState.length,
      messagesWithName: messagesWithName.length,
      parked: parked.map((p) => p.reason),
      relayFiles,
    }).toEqual({ spansWithState: 0, messagesWithState: 0, messagesWithName: 0, parked: [], relayFiles: [] });
  });
});
