import { randomUUID } from 'node:crypto';
import { Ledger, type Principal } from './harness';

/**
 * A non-party learns nothing of a case, referral, consent or subject that an unknown id would not
 * tell (DOMAIN.md rule 7). Every operation of the served OpenAPI document that takes such an id in
 * its path, read or command, is asked by agencies with no part in a real case, once with the real
 * ids and once with random ones, and the two answers are compared byte for byte: status, every
 * header but the date and the request id, and the body with the request id taken out. The same
 * for a body that fails validation, and for each id malformed while the others are real or random.
 * A new route is covered as soon as it is served. For each operation, some party of the fixture
 * must get another answer for the real ids than for random ones: the real ids are real.
 *
 * Every refused attempt on well-formed ids must be on the record: exactly one AccessDenied with
 * the request's id, the principal and the operation.
 */

interface Schema {
  type?: string;
  $ref?: string;
  example?: unknown;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  minimum?: number;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/**
 * Operations the national coordinator performs on any case: designating a competent authority is its
 * work, so to it a real case answers otherwise than a mistyped id (each attempt audited). To every
 * other case operation it is a stranger.
 */
const COORDINATOR_OPERATIONS = new Set(['POST /cases/{caseId}/designations']);

/** The path parameters that name something whose existence must not leak. */
const GUARDED_IDS = ['caseId', 'referralId', 'consentId', 'subjectId'] as const;
type GuardedId = (typeof GUARDED_IDS)[number];
const MALFORMED = '-malformed';

/** Same length in every probe, so that content-length cannot differ by it. */
// A UUID: the ledger takes no other request id from a caller (it would be stored in the trail).
const nextRequestId = () => randomUUID();

interface Probe {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
  readonly requestId: string;
}

function exampleOf(schema: Schema | undefined, doc: OpenApi): unknown {
  if (!schema) return undefined;
  if (schema.$ref) return exampleOf(doc.components.schemas[schema.$ref.split('/').pop()!], doc);
  if (schema.example !== undefined) return schema.example;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.type === 'object' || schema.properties) {
    const out: Record<string, unknown> = {};
    for (const name of schema.required ?? []) out[name] = exampleOf(schema.properties?.[name], doc);
    return out;
  }
  if (schema.type === 'array') return [exampleOf(schema.items, doc)];
  if (schema.type === 'number' || schema.type === 'integer') return schema.minimum ?? 1;
  if (schema.type === 'boolean') return false;
  return 'x';
}

/** The headers an operation requires, each with its first allowed value (X-Purpose: assistance). */
function requiredHeaders(op: Operation): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const p of op.parameters ?? []) {
    const first = p.schema?.enum?.[0];
    if (p.in === 'header' && p.required) headers[p.name] = typeof first === 'string' ? first : 'x';
  }
  return headers;
}

describe('existence: a foreign id answers exactly like an unknown one (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let police: Principal;
  let coordinator: Principal;
  let oversight: Principal;
  let strangers: Principal[];
  let competentStranger: Principal;
  const real = {} as Record<GuardedId, string>;

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker', 'decision-maker']);
    ngo = await ledger.principal('ngo', ['caseworker', 'break-glass']);
    police = await ledger.principal('law-enforcement', ['caseworker', 'decision-maker']);
    coordinator = await ledger.principal('national-coordinator', ['coordinator']);
    oversight = await ledger.principal('oversight-body', ['oversight']);
    competentStranger = await ledger.principal('law-enforcement', [
      'caseworker',
      'decision-maker',
      'break-glass',
    ]);
    strangers = [
      await ledger.principal('shelter', ['caseworker', 'decision-maker', 'break-glass']),
      await ledger.principal('foreign-nrm', ['caseworker']),
      await ledger.principal('labour-inspectorate', ['caseworker', 'decision-maker']),
      competentStranger,
    ];

    // A case well under way: assessed, consent recorded, referred and acknowledged, grounds decided, reflection running.
    const reported = await clinic.post<{ caseId: string; subjectId: string }>('/cases', {
      indicators: ['restricted-movement', 'debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    expect(reported.status).toBe(201);
    real.caseId = reported.body.caseId;
    real.subjectId = reported.body.subjectId;
    const on = `/cases/${real.caseId}`;
    const ok = async (answer: Promise<{ status: number; body: Record<string, unknown> }>) => {
      const { status, body } = await answer;
      expect({ status, body }).toMatchObject({ status: expect.any(Number) });
      expect(status).toBeLessThan(300);
      return body;
    };
    await ok(
      clinic.post(`${on}/indicator-assessments`, {
        outcome: 'indicators-present',
        indicatorsConfirmed: ['debt-bondage'],
        exploitationForms: ['labour'],
      }),
    );
    const consent = await ok(
      clinic.post(`${on}/consents`, {
        agencyIds: [ngo.agencyId],
        categories: ['case-status', 'support-needs'],
        purposes: ['assistance', 'referral'],
        expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(),
        capture: { method: 'written', language: 'ro', interpreterUsed: true },
      }),
    );
    real.consentId = consent.consentId as string;
    const referral = await ok(
      clinic.post(`${on}/referrals`, {
        toAgencyId: ngo.agencyId,
        purpose: 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'urgent',
        respondBy: new Date(Date.now() + 86_400_000).toISOString(),
        sharedCategories: ['case-status'],
      }),
    );
    real.referralId = referral.referralId as string;
    await ok(ngo.post(`/referrals/${real.referralId}/acknowledgement`));
    // The police decides once the case is referred to it (seized of it).
    await ok(
      clinic.post(`${on}/referrals`, {
        toAgencyId: police.agencyId,
        purpose: 'protection',
        servicesRequested: [],
        urgency: 'urgent',
        respondBy: new Date(Date.now() + 86_400_000).toISOString(),
        sharedCategories: [],
      }),
    );
    await ok(police.post(`${on}/reasonable-grounds-decision`, { outcome: 'positive' }));
    await ok(
      ngo.post(`${on}/reflection-period`, { startsOn: new Date().toISOString().slice(0, 10), days: 30 }),
    );
  });
  afterAll(() => ledger.close());

  async function probe(
    who: Principal,
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Probe> {
    const requestId = nextRequestId();
    const response = await fetch(`${ledger.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${who.apiKey}`,
        'x-request-id': requestId,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const kept = [...response.headers.entries()]
      .filter(([name]) => name !== 'date' && name !== 'x-request-id')
      .sort(([a], [b]) => a.localeCompare(b));
    return {
      status: response.status,
      headers: JSON.stringify(kept),
      body: text.split(requestId).join('<request-id>'),
      requestId,
    };
  }

  it('gives a party of one case the answer of an unknown consent for a consent of another case', async () => {
    const other = await ngo.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-NH',
    });
    // The NGO reported it, so it is in contact; it records consent for another agency (never itself).
    const granted = await ngo.post<{ consentId: string }>(`/cases/${other.body.caseId}/consents`, {
      agencyIds: [clinic.agencyId],
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      capture: { method: 'written', language: 'nl', interpreterUsed: false },
    });
    expect(granted.status).toBe(201);
    const withdraw = (consentId: string) =>
      probe(clinic, 'POST', `/cases/${real.caseId}/consents/${consentId}/withdrawal`, {}, {});
    const foreign = await withdraw(granted.body.consentId);
    const unknown = await withdraw(randomUUID());
    expect(foreign.status).toBe(404);
    expect([foreign.status, foreign.headers, foreign.body]).toEqual([
      unknown.status,
      unknown.headers,
      unknown.body,
    ]);
  });

  it('gives a non-party the answer of an unknown id on every operation that takes one, and audits each refusal', async () => {
    const doc = (await (await fetch(`${ledger.base}/openapi.json`)).json()) as OpenApi;
    const operations: Array<{ method: string; template: string; op: Operation; ids: GuardedId[] }> = [];
    for (const [template, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods)) {
        const names = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        const ids = names.filter((n): n is GuardedId => (GUARDED_IDS as readonly string[]).includes(n));
        if (ids.length > 0) operations.push({ method: method.toUpperCase(), template, op, ids });
      }

    const pathOf = (template: string, values: Record<string, string>) =>
      template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name] ?? randomUUID()));
    const randomIds = (): Record<GuardedId, string> => ({
      caseId: randomUUID(),
      referralId: randomUUID(),
      consentId: randomUUID(),
      subjectId: randomUUID(),
    });

    let pairs = 0;
    let distinguishable = 0;
    const leaks: string[] = [];
    const refused: string[] = [];
    for (const { method, template, op, ids } of operations) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      const valid = schema ? exampleOf(schema, doc) : method === 'POST' ? {} : undefined;
      const bodies: Array<[string, unknown]> = [['valid body', valid]];
      if (schema) bodies.push(['invalid body', { notAField: true }]);
      const headers = requiredHeaders(op);
      // A party of the case that is none of the referral's also counts as a stranger to the referral.
      // The coordinator and the oversight body are party to no case (the one oversees handoffs, the
      // other reads the audit and erases): strangers to every operation on a case alone.
      const askers = ids.every((id) => id === 'referralId')
        ? [...strangers, police]
        : ids.every((id) => id === 'caseId' || id === 'consentId')
          ? COORDINATOR_OPERATIONS.has(`${method} ${template}`)
            ? [...strangers, oversight]
            : [...strangers, coordinator, oversight]
          : strangers;
      for (const who of askers) {
        const compare = async (
          label: string,
          a: Record<string, string>,
          b: Record<string, string>,
          body: unknown,
        ) => {
          const key = { 'idempotency-key': `exist-key-${pairs}` };
          const first = await probe(who, method, pathOf(template, a), body, { ...headers, ...key });
          const second = await probe(who, method, pathOf(template, b), body, { ...headers, ...key });
          pairs++;
          const wellFormed = ![...Object.values(a), ...Object.values(b)].includes(MALFORMED);
          if (wellFormed) {
            if (first.status >= 400) refused.push(first.requestId);
            if (second.status >= 400) refused.push(second.requestId);
          }
          const same =
            first.status === second.status && first.headers === second.headers && first.body === second.body;
          if (same) return;
          distinguishable++;
          leaks.push(
            `${method} ${template} (${label}) as ${who.agencyId}: ${first.status} ${first.body} <> ${second.status} ${second.body}`,
          );
        };
        for (const [label, body] of bodies) await compare(label, real, randomIds(), body);
        for (const id of ids) {
          const spoil = (values: Record<string, string>) => ({ ...values, [id]: MALFORMED });
          await compare(`${id} malformed`, spoil(real), spoil(randomIds()), valid);
        }
      }
    }

    // The real ids are real: for each operation some party of the fixture is answered otherwise than for random ids.
    let proven = 0;
    const unproven: string[] = [];
    const parties = [clinic, ngo, police, oversight, coordinator];
    const erasureLast = [...operations].sort(
      (a, b) => Number(/erasure/.test(a.template)) - Number(/erasure/.test(b.template)),
    );
    for (const { method, template, op } of erasureLast) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      let body = schema ? exampleOf(schema, doc) : method === 'POST' ? {} : undefined;
      // An erasure names its legal ground: optional in the schema only because the deprecated
      // reason (a reference code) may stand in for it, so the required fields alone are refused
      // before the id is looked at.
      if (/erasure/.test(template) && typeof body === 'object' && body !== null)
        body = { ...body, ground: 'subject-request' };
      const headers = requiredHeaders(op);
      let differs = false;
      for (const who of parties) {
        const unknown = await probe(who, method, pathOf(template, randomIds()), body, headers);
        const known = await probe(who, method, pathOf(template, real), body, headers);
        if (known.status !== unknown.status || known.body !== unknown.body) {
          differs = true;
          break;
        }
      }
      if (differs) proven++;
      else unproven.push(`${method} ${template}`);
    }

    const audited = new Set<string>();
    const deniedPerRequest = new Map<string, number>();
    for (const e of await ledger.auditEvents())
      if (e.type === 'AccessDenied' && typeof e.data.requestId === 'string') {
        audited.add(e.data.requestId);
        deniedPerRequest.set(e.data.requestId, (deniedPerRequest.get(e.data.requestId) ?? 0) + 1);
      }
    const unaudited = refused.filter((id) => !audited.has(id));
    const twice = refused.filter((id) => (deniedPerRequest.get(id) ?? 0) > 1);

    console.log(
      `existence: operations covered ${operations.length}, pairs compared ${pairs}, distinguishable answers ${distinguishable}` +
        `, real ids proven ${proven}/${operations.length};` +
        ` refused attempts ${refused.length}, audited ${refused.length - unaudited.length}, audited twice ${twice.length}`,
    );
    expect(operations.length).toBeGreaterThanOrEqual(26);
    expect(leaks).toEqual([]);
    expect(unproven).toEqual([]);
    expect(unaudited).toEqual([]);
    expect(twice).toEqual([]);
  });
});
