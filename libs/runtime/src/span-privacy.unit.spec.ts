import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { exportableStatement, PrivacySpanProcessor } from './span-privacy';

/** What the HTTP, pg and kafkajs instrumentations record, with invented personal data in it. */
const RECORDED = {
  'http.request.method': 'POST',
  'http.route': '/cases/:caseId/referrals',
  'http.response.status_code': 201,
  'url.path': '/cases/c-5f1e0d2a9b/referrals',
  'url.query': 'name=Ilse%20Erfunden-Spanner',
  'client.address': '198.51.100.23',
  'network.peer.address': '198.51.100.23',
  'user_agent.original': 'agency-tool/1.0 (Ilse Erfunden-Spanner)',
  'messaging.system': 'kafka',
  'messaging.destination.name': 'nrm.agency.ngo-a',
  'messaging.kafka.message.key': 'c-5f1e0d2a9b',
  'db.system.name': 'postgresql',
  'pg.values': ['Ilse Erfunden-Spanner'],
  'db.user': 'ledger',
  'nrm.event.type': 'ReferralMade',
};
const NEEDLES = ['c-5f1e0d2a9b', 'Ilse', 'Erfunden', '198.51.100.23', 'ledger'];

describe('the privacy gate in front of every span exporter', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new PrivacySpanProcessor(new SimpleSpanProcessor(exporter))],
  });
  const tracer = provider.getTracer('unit');
  afterAll(() => provider.shutdown());
  beforeEach(() => exporter.reset());

  it('lets out only allowed attributes: no path, query, address, user agent, message key or values', () => {
    const span = tracer.startSpan('POST /cases/:caseId/referrals', {
      kind: SpanKind.SERVER,
      attributes: RECORDED,
    });
    span.recordException(new RangeError('value "Ilse Erfunden-Spanner" out of range'));
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'duplicate key (name)=(Ilse Erfunden-Spanner)' });
    span.end();
    const [exported] = exporter.getFinishedSpans();
    expect(Object.keys(exported!.attributes).sort()).toEqual([
      'db.system.name',
      'http.request.method',
      'http.response.status_code',
      'http.route',
      'messaging.destination.name',
      'messaging.system',
      'nrm.event.type',
    ]);
    expect(exported!.events.map((e) => e.attributes)).toEqual([{ 'exception.type': 'RangeError' }]);
    expect(exported!.status).toEqual({ code: SpanStatusCode.ERROR });
    const text = JSON.stringify({
      name: exported!.name,
      attributes: exported!.attributes,
      events: exported!.events,
      status: exported!.status,
    });
    const found = NEEDLES.filter((n) => text.includes(n));
    console.log(
      `span privacy gate: ${Object.keys(RECORDED).length} attributes recorded, ${Object.keys(exported!.attributes).length} exported, ${NEEDLES.length} needles, ${found.length} found`,
    );
    expect(found).toEqual([]);
    // The span the SDK keeps is unchanged: only the exporter's view is scrubbed.
    expect(exported!.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('exports a statement with placeholders, never one with a literal', () => {
    const statements = {
      'SELECT position, data FROM "events" WHERE stream_id = $1 ORDER BY position LIMIT 500': true,
      'INSERT INTO keys (subject, key) VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING': true,
      "SELECT * FROM subjects WHERE name = 'Ilse Erfunden-Spanner'": false,
      "SELECT * FROM subjects WHERE name = E'Ilse'": false,
      'DO $body$ BEGIN PERFORM 1; END $body$': false,
      'SELECT $$Ilse$$': false,
    };
    for (const [text, allowed] of Object.entries(statements)) {
      expect(exportableStatement(text)).toBe(allowed);
      tracer.startSpan('pg.query', { attributes: { 'db.query.text': text } }).end();
    }
    const exported = exporter.getFinishedSpans().map((s) => s.attributes['db.query.text']);
    expect(exported.filter((t) => t !== undefined)).toEqual(
      Object.entries(statements)
        .filter(([, allowed]) => allowed)
        .map(([text]) => text),
    );
    expect(JSON.stringify(exported)).not.toContain('Ilse');
  });

  it('keeps an error status that names only a class', () => {
    const span = tracer.startSpan('x');
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'KafkaJSConnectionError' });
    span.end();
    expect(exporter.getFinishedSpans()[0]!.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'KafkaJSConnectionError',
    });
  });
});
