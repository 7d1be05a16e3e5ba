import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dropSchema } from '../../libs/event-store/test/postgres';
import { TEST_POSTGRES_URL } from '../../libs/projections/test/read-model-backends';
import {
  consumeAll,
  deleteTopics,
  kafkaBrokers,
  killed,
  spawnRelay,
  uniquePrefix,
  type Received,
} from '../../apps/relay/test/kafka';
import { freePort, Ledger, Principal, startProjectorProcess } from './harness';

const ROOT = join(__dirname, '..', '..');

/** A span as the OTLP/HTTP JSON exporter sends it (ids in hex). */
interface OtlpSpan {
  readonly service: string;
  readonly scope: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  readonly links: ReadonlyArray<{ traceId: string; spanId: string }>;
  readonly raw: string;
}

/** The referral's messages: to the receiving agency, and the handoff to the coordinator. */
const REFERRAL_CONTRACTS = /^nrm\.(referral\.received|coordinator\.handoff)\.v1$/;

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;

/** An OTLP/HTTP receiver in the test process: what the three processes export, span by span. */
class OtlpReceiver {
  readonly spans: OtlpSpan[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      this.take(JSON.parse(body.toString('utf8')) as OtlpRequest);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private take(request: OtlpRequest): void {
    for (const resourceSpans of request.resourceSpans ?? []) {
      const service = String(value(resourceSpans.resource?.attributes, 'service.name'));
      for (const scopeSpans of resourceSpans.scopeSpans ?? [])
        for (const s of scopeSpans.spans ?? [])
          this.spans.push({
            service,
            scope: scopeSpans.scope?.name ?? '',
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            kind: s.kind,
            attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, unwrap(a.value)])),
            links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
            raw: JSON.stringify(s),
          });
    }
  }
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: OtlpValue[] };
}
interface OtlpRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: OtlpValue }> };
    scopeSpans?: Array<{
      scope?: { name?: string };
      spans?: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: Array<{ key: string; value: OtlpValue }>;
        links?: Array<{ traceId: string; spanId: string }>;
      }>;
    }>;
  }>;
}
function unwrap(v: OtlpValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(unwrap);
  return undefined;
}
function value(attributes: Array<{ key: string; value: OtlpValue }> | undefined, key: string): unknown {
  const found = attributes?.find((a) => a.key === key);
  return found ? unwrap(found.value) : undefined;
}

/** Invented personal data, sent in the command; none of it may appear in any exported span. */
const INVENTED = {
  fullName: 'Ottilie Erdacht-Spurlos',
  birthDate: '1991-07-03',
  nationality: 'UA',
  contact: '+00 555 0133 7781',
  notes: 'met at the invented ferry pier Harrowmere, works for an invented laundry',
};
const NEEDLES = [INVENTED.fullName, 'Erdacht', INVENTED.birthDate, INVENTED.contact, 'Harrowmere'];

// The caller's trace (W3C): the API continues it.
const TRACE_ID = '5af7183fb1d4cf5f0e1f2a3b4c5d6e7f';
const CALLER_SPAN = '1c2d3e4f5a6b7c8d';
const CALLER_TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;

/**
 * One command followed across the processes of the production topology, as they run in
 * deploy/compose.yaml: the API (main.ts), the projector and the relay, each its own Node process
 * with the official HTTP, pg and kafkajs instrumentations on and an OTLP/HTTP exporter pointed at a
 * receiver in this test; events, keys, read models and the audit log in PostgreSQL; the relay
 * publishing to the real Kafka broker (scripts/kafka.sh, started by jest's globalSetup).
 */
describe('tracing across the API, projector and relay processes with a real broker (e2e)', () => {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  const schemas = {
    events: `e2e_trev_${suffix}`,
    keys: `e2e_trkeys_${suffix}`,
    reads: `e2e_trrm_${suffix}`,
    audit: `e2e_traudit_${suffix}`,
  };
  const stores = {
    EVENT_STORE: 'postgres',
    EVENT_STORE_URL: TEST_POSTGRES_URL,
    EVENT_STORE_SCHEMA: schemas.events,
    ID_DERIVATION_SECRET: 'an-invented-secret-for-this-test-only-0123456789',
    KEY_STORE: 'postgres',
    KEY_STORE_URL: TEST_POSTGRES_URL,
    KEY_STORE_SCHEMA: schemas.keys,
    READ_MODEL_STORE: 'postgres',
    READ_MODEL_URL: TEST_POSTGRES_URL,
    READ_MODEL_SCHEMA: schemas.reads,
    AUDIT_LOG_STORE: 'postgres',
    AUDIT_LOG_URL: TEST_POSTGRES_URL,
    AUDIT_LOG_SCHEMA: schemas.audit,
    PROJECTOR: 'external',
  };
  const receiver = new OtlpReceiver();
  const prefix = uniquePrefix('tracing');
  const children: ChildProcess[] = [];
  let ledger: Ledger;
  let brokers: string[];

  afterAll(async () => {
    for (const child of children.reverse()) await killed(child, 'SIGTERM');
    await ledger?.close();
    await receiver.close();
    for (const schema of Object.values(schemas)) await dropSchema(schema);
    if (brokers) await deleteTopics(brokers, prefix);
  });

  it('shows one trace from the HTTP request through pg, the append, the projection and the Kafka publish, the traceparent on the message, no personal data', async () => {
    brokers = kafkaBrokers();
    const endpoint = await receiver.listen();
    const tracing = {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    };

    // Principals registered in-process (no tracing), then the stores are handed to the processes.
    ledger = await Ledger.boot(stores);
    const clinicKey = await ledger.principal('health', ['caseworker'], 'clinic-trace');
    await ledger.principal('ngo', ['caseworker'], 'ngo-trace');

    const apiPort = await freePort();
    const api = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'apps/ledger-api/src/main.ts',
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          ...stores,
          ...tracing,
          DATA_DIR: ledger.dataDir,
          PORT: String(apiPort),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'error',
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        },
        stdio: 'pipe',
      },
    );
    children.push(api);
    let apiErr = '';
    api.stderr?.on('data', (c: Buffer) => (apiErr += c.toString()));
    for (let tries = 0; !/listening on/.test(apiErr); tries++) {
      if (api.exitCode !== null || tries > 600) throw new Error(`the API did not start: ${apiErr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    children.push(await startProjectorProcess({ ...stores, ...tracing }, ledger.dataDir, await freePort()));
    children.push(
      await spawnRelay({
        ...stores,
        ...tracing,
        DATA_DIR: ledger.dataDir,
        KAFKA_BROKERS: brokers.join(','),
        RELAY_TOPIC_PREFIX: prefix,
        RELAY_CLIENT_ID: 'relay-tracing-e2e',
        LOG_LEVEL: 'info',
      }),
    );

    const clinic = new Principal(
      `http://127.0.0.1:${apiPort}`,
      clinicKey.agencyId,
      clinicKey.principalId,
      clinicKey.apiKey,
    );
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
    const consented = await clinic.post(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-trace'],
      categories: ['case-status', 'support-needs'],
      purposes: ['assistance', 'referral'],
      expiresAt: new Date(Date.now() + 180 * 86_400_000).toISOString(),
      capture: { method: 'written', language: 'ro', interpreterUsed: true },
    });
    expect(consented.status).toBe(201);
    const referred = await clinic.post<{ referralId: string }>(
      `/cases/${caseId}/referrals`,
      {
        toAgencyId: 'ngo-trace',
        purpose: 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'urgent',
        respondBy: new Date(Date.now() + 2 * 86_400_000).toISOString(),
        sharedCategories: ['case-status', 'support-needs'],
      },
      { traceparent: CALLER_TRACEPARENT },
    );
    expect(referred.status).toBe(201);

    // Wait for every process's spans of the trace (exported in batches every 50 ms).
    const inTrace = () => receiver.spans.filter((s) => s.traceId === TRACE_ID);
    const deadline = Date.now() + 45_000;
    const has = (service: string, name: RegExp) =>
      inTrace().some((s) => s.service === service && name.test(s.name));
    while (!(
      has('nrm-ledger-api', /^POST \/cases\/:caseId\/referrals$/) &&
      has('nrm-ledger-projector', /^project ReferralMade$/) &&
      has('nrm-ledger-relay', /^publish ReferralMade$/) &&
      receiver.spans.some((s) => s.service === 'nrm-ledger-relay' && /^send /.test(s.name))
    )) {
      if (Date.now() > deadline)
        throw new Error(
          `spans of the trace not all exported: ${[...new Set(inTrace().map((s) => `${s.service} ${s.name}`))].join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }

    // The Kafka messages the relay published, with their headers, read back from the broker.
    let received: Received[] = [];
    for (const until = Date.now() + 30_000; ;) {
      received = await consumeAll(brokers, prefix);
      if (received.some((m) => REFERRAL_CONTRACTS.test(m.type))) break;
      if (Date.now() > until)
        throw new Error(`no referral message on ${prefix}*: ${received.length} messages`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const spans = inTrace();
    const server = spans.filter((s) => s.kind === SERVER);
    const pg = spans.filter((s) => s.kind === CLIENT && s.attributes['db.system.name'] === 'postgresql');
    const projected = spans.filter((s) => s.name.startsWith('project '));
    const published = spans.filter((s) => s.name.startsWith('publish '));
    const publishIds = new Set(published.map((s) => s.spanId));
    const serverIds = new Set(server.map((s) => s.spanId));
    // kafkajs' send spans live in the relay's batch trace, linked to the events' publish spans.
    const batches = receiver.spans.filter(
      (s) =>
        s.name === 'send batch' && s.links.some((l) => l.traceId === TRACE_ID && publishIds.has(l.spanId)),
    );
    const batchIds = new Set(batches.map((s) => s.spanId));
    const sends = receiver.spans.filter(
      (s) => s.kind === PRODUCER && s.scope.includes('kafkajs') && batchIds.has(s.parentSpanId ?? ''),
    );
    const traced = received.filter((m) => m.traceparent.split('-')[1] === TRACE_ID);
    console.log(
      `tracing across processes: ${receiver.spans.length} spans exported by ${new Set(receiver.spans.map((s) => s.service)).size} processes, ` +
        `${spans.length} in the command's trace (HTTP server ${server.length}, pg ${pg.length}, projection ${projected.length}, publish ${published.length}); ` +
        `kafkajs send spans ${sends.length} under ${batches.length} linked batch spans; ` +
        `Kafka messages ${received.length}, ${traced.length} with the trace's traceparent`,
    );

    // The HTTP instrumentation's server spans continue the caller's span, named by route template.
    expect(
      server.map((s) => [
        s.service,
        s.name,
        s.attributes['http.route'],
        s.attributes['http.response.status_code'],
      ]),
    ).toEqual([
      ['nrm-ledger-api', 'POST /cases', '/cases', 201],
      ['nrm-ledger-api', 'POST /cases/:caseId/referrals', '/cases/:caseId/referrals', 201],
    ]);
    expect(server.every((s) => s.parentSpanId === CALLER_SPAN)).toBe(true);
    // Probes are not traced (the projector's /health was polled until it answered).
    const servers = receiver.spans.filter((s) => s.kind === SERVER);
    expect(servers.filter((s) => /health|metrics/.test(s.name))).toEqual([]);
    // The three commands, nothing else.
    expect(servers.map((s) => s.name)).toEqual([
      'POST /cases',
      'POST /cases/:caseId/consents',
      'POST /cases/:caseId/referrals',
    ]);
    // pg's spans sit under the requests; their statements carry placeholders, never a literal.
    expect(pg.length).toBeGreaterThan(0);
    const statements = pg
      .map((s) => s.attributes['db.query.text'])
      .filter((t): t is string => typeof t === 'string');
    expect(statements.some((t) => /\$1\b/.test(t))).toBe(true);
    expect(statements.filter((t) => t.includes("'"))).toEqual([]);
    // The projector's and the relay's spans, each in its own process, are children of a request span.
    expect(
      projected.every((s) => s.service === 'nrm-ledger-projector' && serverIds.has(s.parentSpanId ?? '')),
    ).toBe(true);
    expect(projected.map((s) => s.name)).toEqual(
      expect.arrayContaining(['project PotentialVictimReported', 'project ReferralMade']),
    );
    expect(published.every((s) => s.kind === PRODUCER && s.service === 'nrm-ledger-relay')).toBe(true);
    expect(published.every((s) => serverIds.has(s.parentSpanId ?? ''))).toBe(true);
    expect(sends.length).toBeGreaterThan(0);
    // On the broker: the referral's messages carry the relay's publish span as their traceparent.
    const referralMessages = received.filter((m) => REFERRAL_CONTRACTS.test(m.type));
    expect(referralMessages.length).toBeGreaterThan(0);
    expect(referralMessages.every((m) => m.traceparent.split('-')[1] === TRACE_ID)).toBe(true);
    expect(traced.every((m) => publishIds.has(m.traceparent.split('-')[2] ?? ''))).toBe(true);

    // The attacker's read of everything exported: no personal data, no case id, no Kafka key.
    const text = receiver.spans.map((s) => s.raw.toLowerCase());
    const needles = [...NEEDLES, caseId, referred.body.referralId ?? caseId, clinicKey.apiKey];
    const found = needles.filter((n) => text.some((t) => t.includes(n.toLowerCase())));
    console.log(
      `tracing across processes, personal-data scan: ${receiver.spans.length} spans, ${needles.length} needles, ${found.length} found`,
    );
    expect(found).toEqual([]);
  }, 180_000);
});
