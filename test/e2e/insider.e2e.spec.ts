/**
 * Issue #11, item 9: the insider suite. Each actor of the threat model attacks through the HTTP API
 * with chained steps (become a party, then grant, then read), and what reaches its Kafka topic is
 * measured with the relay's own routing over every stored event (as consent-insider does):
 *
 * (a) a caseworker at a party agency widening its own access (self-consent, guardian capture, lawful
 *     basis, withdraw and re-grant, a second principal of its agency, break-glass);
 * (b) a non-party agency: real against random ids on every operation of the served OpenAPI document
 *     that takes a case, referral, consent or subject id; then trying to become party, then reading;
 * (c) a foreign contact point party through a transnational referral;
 * (d) a registry admin at an ordinary agency;
 * (e) the national coordinator;
 * (f) a decision-maker at a competent authority not seized of the case.
 *
 * Designation (`POST /cases/{caseId}/designations`) is the coordinator's alone: every other actor
 * trying it (itself, an accomplice) gets the unknown-case answer, compared with a random case; the
 * coordinator's own attempts at itself, an accomplice or a contact point abroad are refused; and an
 * authority it does designate decides, but reads no more than consent covers for it.
 *
 * Invented data only. Canary strings sit in every identity field and free text; every answer body an
 * attacker receives is searched for them, and the bytes of sensitive categories (identity, contact,
 * health, exploitation, immigration status) it was not entitled to are counted as foreign bytes.
 * Break-glass is the documented exception: counted apart, and each must be recorded and queued for
 * review. Every refused request carries an X-Request-Id of ours and must have exactly one
 * AccessDenied with that id. The suite fails on any foreign byte, distinguishable pair, unaudited
 * refusal or 5xx.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadRelayConfig } from '../../apps/relay/src/config';
import { runRelay } from '../../apps/relay/src/relay-process';
import { BatchState } from '../../apps/relay/src/relay-store';
import { route, topicNames, type RelayStateView } from '../../apps/relay/src/routing';
import type { AgencyIntegrationEvent } from '@nrm/contracts';
import { Ledger, Principal } from './harness';

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const today = () => new Date().toISOString().slice(0, 10);

const CANARY_NAME = 'Qelvaro Tunnsbrikova';
const CANARY_BIRTH = '1961-07-23';
const CANARY_CONTACT = '+00 417 993 2206 qx-canary-contact';
const CANARY_NOTES = 'zentrivox-notes-canary: met at the harbour gate';
const CANARIES = [CANARY_NAME, CANARY_BIRTH, CANARY_CONTACT, CANARY_NOTES];
const SENSITIVE = ['identity', 'contact', 'health', 'exploitation', 'immigration-status'];
const PURPOSES = ['assistance', 'referral', 'protection', 'investigation', 'statistics'];
const JUSTIFICATION =
  'Person found injured at the harbour; protection team needs the case now (insider test).';

const REPORT = {
  indicators: ['debt-bondage', 'withheld-documents', 'restricted-movement'],
  exploitationForms: ['labour', 'sexual'],
  minor: false,
  region: 'NL-ZH',
  identity: {
    fullName: CANARY_NAME,
    birthDate: CANARY_BIRTH,
    nationality: 'MD',
    contact: CANARY_CONTACT,
    notes: CANARY_NOTES,
  },
};
const ASSESSMENT = {
  outcome: 'indicators-present',
  indicatorsConfirmed: ['debt-bondage', 'withheld-documents'],
  exploitationForms: ['labour', 'sexual'],
};
const WRITTEN = { method: 'written', language: 'ro', interpreterUsed: true };
const GUARDIAN = {
  method: 'guardian',
  language: 'ro',
  interpreterUsed: false,
  guardianReference: 'GRD-9001',
};
const consentBody = (agencyIds: string[], categories: string[], capture: object = WRITTEN) => ({
  agencyIds,
  categories,
  purposes: ['assistance', 'referral', 'protection', 'investigation'],
  expiresAt: inDays(180),
  capture,
});
const lawfulBasisBody = (agencyIds: string[], categories: string[]) => ({
  agencyIds,
  categories,
  purposes: ['assistance', 'referral', 'protection', 'investigation'],
  basis: 'court-order',
  justification: 'Court order 2026/0913 of the district court requires the case file to be shared.',
});
const referralBody = (toAgencyId: string, purpose: string, sharedCategories: string[] = []) => ({
  toAgencyId,
  purpose,
  servicesRequested: purpose === 'assistance' ? ['accommodation'] : [],
  urgency: 'urgent',
  respondBy: inDays(2),
  sharedCategories,
});

type ActorKey = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';
const ACTOR_NAMES: Record<ActorKey, string> = {
  a: '(a) party caseworker',
  b: '(b) non-party agency',
  c: '(c) foreign contact point',
  d: '(d) agency registry admin',
  e: '(e) national coordinator',
  f: '(f) unseized decision-maker',
};

interface Tally {
  attempts: number;
  refusedIds: string[];
  foreignBytes: number;
  distinguishable: number;
  pairs: number;
  breakGlass: number;
  breakGlassBytes: number;
}

interface Sent {
  readonly status: number;
  readonly text: string;
  readonly body: Record<string, unknown>;
  readonly headers: string;
  readonly requestId: string;
}

// OpenAPI walking, for the non-party probes (as existence.e2e.spec.ts does).
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
interface Operation {
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}
const GUARDED = ['caseId', 'referralId', 'consentId', 'subjectId'] as const;
type Guarded = (typeof GUARDED)[number];

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

describe('insider suite: every actor of the threat model attacks (issue #11 item 9, e2e)', () => {
  jest.setTimeout(600_000);
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let ngoSecond: Principal;
  let shelter: Principal;
  let accomplice: Principal;
  let foreign: Principal;
  let police: Principal;
  let unseized: Principal;
  let coordinator: Principal;
  let coordAdmin: Principal;
  let agencyAdmin: Principal;
  let oversight: Principal;
  const real = {} as Record<Guarded, string>;
  let ngoConsentId = '';
  let secondCaseId = '';
  const holes: string[] = [];
  const emptyTally = (): Tally => ({
    attempts: 0,
    refusedIds: [],
    foreignBytes: 0,
    distinguishable: 0,
    pairs: 0,
    breakGlass: 0,
    breakGlassBytes: 0,
  });
  const tallies: Record<ActorKey, Tally> = {
    a: emptyTally(),
    b: emptyTally(),
    c: emptyTally(),
    d: emptyTally(),
    e: emptyTally(),
    f: emptyTally(),
  };
  const breakGlassRequests: Array<{ actor: ActorKey; requestId: string; principalId: string }> = [];
  let counter = 0;
  /** Same length for every request, so that content-length never differs by it. */
  // A UUID: the ledger takes no other request id from a caller (it would be stored in the trail).
  const nextRequestId = () => {
    counter++;
    return randomUUID();
  };

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'in-clinic');
    ngo = await ledger.principal('ngo', ['caseworker', 'break-glass'], 'in-ngo');
    ngoSecond = await ledger.principal('ngo', ['caseworker', 'decision-maker'], 'in-ngo');
    shelter = await ledger.principal(
      'shelter',
      ['caseworker', 'decision-maker', 'break-glass'],
      'in-shelter',
    );
    accomplice = await ledger.principal('ngo', ['caseworker'], 'in-accomplice');
    foreign = await ledger.principal('foreign-nrm', ['caseworker', 'decision-maker'], 'in-foreign');
    await ledger.principal('foreign-nrm', ['caseworker'], 'in-foreign-b');
    police = await ledger.principal('law-enforcement', ['caseworker', 'decision-maker'], 'in-police');
    unseized = await ledger.principal(
      'law-enforcement',
      ['caseworker', 'decision-maker', 'break-glass'],
      'in-police-b',
    );
    coordinator = await ledger.principal('national-coordinator', ['coordinator'], 'in-coord');
    coordAdmin = await ledger.principal('national-coordinator', ['registry-admin'], 'in-coord');
    agencyAdmin = await ledger.principal('ngo', ['registry-admin'], 'in-adm');
    oversight = await ledger.principal('oversight-body', ['oversight'], 'in-dpa');

    // The legitimate path: the clinic reports with identity, assesses, records consent for the NGO
    // (case status and support needs) and for the foreign contact point (case status, written),
    // refers to both (handoffs completed) and to the police, which decides.
    const ok = async (a: Promise<{ status: number; body: Record<string, unknown> }>, status = 201) => {
      const answer = await a;
      // Commands answer 201 or 200; the setup only needs them to succeed.
      expect({
        status: answer.status >= 200 && answer.status < 300 ? status : answer.status,
        body: answer.body,
      }).toMatchObject({ status });
      return answer.body;
    };
    const reported = await ok(clinic.post('/cases', REPORT));
    real.caseId = reported.caseId as string;
    real.subjectId = reported.subjectId as string;
    const on = `/cases/${real.caseId}`;
    await ok(clinic.post(`${on}/indicator-assessments`, ASSESSMENT), 200);
    ngoConsentId = (
      await ok(
        clinic.post(`${on}/consents`, {
          ...consentBody(['in-ngo'], ['case-status', 'support-needs']),
          purposes: ['assistance', 'referral'],
        }),
      )
    ).consentId as string;
    real.consentId = ngoConsentId;
    await ok(clinic.post(`${on}/consents`, consentBody(['in-foreign'], ['case-status'])));
    const toNgo = await ok(
      clinic.post(`${on}/referrals`, referralBody('in-ngo', 'assistance', ['case-status'])),
    );
    real.referralId = toNgo.referralId as string;
    for (const step of ['acknowledgement', 'acceptance', 'handoff'])
      await ok(ngo.post(`/referrals/${real.referralId}/${step}`), 200);
    const toForeign = await ok(
      clinic.post(`${on}/referrals`, referralBody('in-foreign', 'referral', ['case-status'])),
    );
    for (const step of ['acknowledgement', 'acceptance', 'handoff'])
      await ok(foreign.post(`/referrals/${toForeign.referralId as string}/${step}`), 200);
    await ok(clinic.post(`${on}/referrals`, referralBody('in-police', 'protection')));
    await ok(police.post(`${on}/reasonable-grounds-decision`, { outcome: 'positive' }), 200);
    await ok(ngo.post(`${on}/reflection-period`, { startsOn: today(), days: 30 }), 200);
    await ok(ngo.post(`${on}/support-services`, { serviceType: 'medical', providedOn: today() }), 200);
    // A second case, of which the police is not seized.
    const second = await ok(clinic.post('/cases', { ...REPORT, region: 'NL-NH' }));
    secondCaseId = second.caseId as string;
  });

  afterAll(async () => {
    const total = {
      attempts: 0,
      refused: 0,
      audited: 0,
      foreign: 0,
      distinguishable: 0,
      breakGlass: 0,
    };
    const deniedCount = await deniedPerRequest();
    for (const key of Object.keys(ACTOR_NAMES) as ActorKey[]) {
      const t = tallies[key];
      const audited = t.refusedIds.filter((id) => deniedCount.get(id) === 1).length;
      console.log(
        `insider ${ACTOR_NAMES[key]}: attempts ${t.attempts}, refused ${t.refusedIds.length}, audited ${audited}` +
          `, foreign bytes ${t.foreignBytes}, distinguishable ${t.distinguishable} of ${t.pairs} pairs` +
          `, break-glass reads ${t.breakGlass} (${t.breakGlassBytes} bytes beyond consent)`,
      );
      total.attempts += t.attempts;
      total.refused += t.refusedIds.length;
      total.audited += audited;
      total.foreign += t.foreignBytes;
      total.distinguishable += t.distinguishable;
      total.breakGlass += t.breakGlass;
    }
    const share = total.refused === 0 ? 100 : Math.floor((100 * total.audited) / total.refused);
    console.log(
      `insider: actors 6, attempts ${total.attempts}, refused ${total.refused}, audited ${total.audited} (${share}%)` +
        `, foreign bytes ${total.foreign}, distinguishable ${total.distinguishable}` +
        `, break-glass reads ${total.breakGlass} (all queued for review)` +
        (holes.length ? `; holes ${holes.length}:\n  ${holes.join('\n  ')}` : ''),
    );
    await ledger.close();
  });

  async function deniedPerRequest(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const e of await ledger.auditEvents())
      if (e.type === 'AccessDenied' && typeof e.data.requestId === 'string')
        counts.set(e.data.requestId, (counts.get(e.data.requestId) ?? 0) + 1);
    return counts;
  }

  /** Canary bytes in a text: each occurrence of each canary counts its length. */
  function canaryBytes(text: string): number {
    let bytes = 0;
    for (const canary of CANARIES) bytes += (text.split(canary).length - 1) * Buffer.byteLength(canary);
    return bytes;
  }

  /** Bytes of sensitive categories in a case view's `categories` (none is granted to any attacker). */
  function sensitiveBytes(body: Record<string, unknown>): number {
    const categories = body.categories;
    if (!categories || typeof categories !== 'object') return 0;
    let bytes = 0;
    for (const category of SENSITIVE)
      if (category in categories)
        bytes += Buffer.byteLength(JSON.stringify((categories as Record<string, unknown>)[category]));
    return bytes;
  }

  /**
   * One request by an attacker: tallied, searched for foreign bytes, its refusal kept for the audit
   * check. `breakGlass` marks the documented exception (counted apart, never as foreign bytes).
   */
  async function send(
    actor: ActorKey,
    who: Principal,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    options: { breakGlass?: boolean; label?: string } = {},
  ): Promise<Sent> {
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
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = {};
    }
    const tally = tallies[actor];
    tally.attempts++;
    if (response.status >= 500)
      holes.push(
        `${ACTOR_NAMES[actor]}: ${method} ${path} answered ${response.status} ${text.slice(0, 200)}`,
      );
    if (response.status >= 400) tally.refusedIds.push(requestId);
    const foreignHere = canaryBytes(text) + (response.status < 300 ? sensitiveBytes(parsed) : 0);
    if (options.breakGlass) tally.breakGlassBytes += foreignHere;
    else if (foreignHere > 0) {
      tally.foreignBytes += foreignHere;
      holes.push(
        `${ACTOR_NAMES[actor]}: ${method} ${path} (${options.label ?? 'attack'}) as ${who.agencyId}/${who.principalId}` +
          ` obtained ${foreignHere} foreign bytes: ${response.status} ${text.slice(0, 300)}`,
      );
    }
    const kept = [...response.headers.entries()]
      .filter(([name]) => name !== 'date' && name !== 'x-request-id')
      .sort(([a], [b]) => a.localeCompare(b));
    return {
      status: response.status,
      text: text.split(requestId).join('<request-id>'),
      body: parsed,
      headers: JSON.stringify(kept),
      requestId,
    };
  }

  /** An attack that must be refused (optionally with this status and code). */
  async function mustRefuse(
    actor: ActorKey,
    who: Principal,
    method: string,
    path: string,
    body: unknown,
    label: string,
    expected?: { status: number; code?: string },
    headers: Record<string, string> = {},
  ): Promise<Sent> {
    const answer = await send(actor, who, method, path, body, headers, { label });
    if (answer.status < 400)
      holes.push(
        `${ACTOR_NAMES[actor]}: ${label}: ${method} ${path} accepted ${answer.status} ${answer.text.slice(0, 300)}`,
      );
    else if (
      expected &&
      (answer.status !== expected.status || (expected.code && answer.body.code !== expected.code))
    )
      holes.push(
        `${ACTOR_NAMES[actor]}: ${label}: ${method} ${path} answered ${answer.status} ${String(answer.body.code)}` +
          ` (expected ${expected.status} ${expected.code ?? ''})`,
      );
    return answer;
  }

  /** Reads the case for every purpose, live and as of now; every answer is searched. */
  async function harvest(actor: ActorKey, who: Principal, caseId: string): Promise<number[]> {
    const statuses: number[] = [];
    for (const purpose of PURPOSES)
      for (const query of ['', `?asOf=${encodeURIComponent(new Date().toISOString())}`]) {
        const answer = await send(actor, who, 'GET', `/cases/${caseId}${query}`, undefined, {
          'x-purpose': purpose,
        });
        statuses.push(answer.status);
      }
    // Lists that name cases and referrals.
    await send(actor, who, 'GET', '/cases');
    for (const direction of ['in', 'out']) await send(actor, who, 'GET', `/referrals?direction=${direction}`);
    return statuses;
  }

  /** Real against random ids: status, headers (but date and request id) and body must be the same. */
  async function comparePair(
    actor: ActorKey,
    who: Principal,
    method: string,
    realPath: string,
    randomPath: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<void> {
    const key = { 'idempotency-key': `insider-key-${String(counter).padStart(7, '0')}` };
    const first = await send(
      actor,
      who,
      method,
      realPath,
      body,
      { ...headers, ...key },
      { label: 'real id' },
    );
    const second = await send(
      actor,
      who,
      method,
      randomPath,
      body,
      { ...headers, ...key },
      { label: 'random id' },
    );
    tallies[actor].pairs++;
    if (first.status === second.status && first.headers === second.headers && first.text === second.text)
      return;
    tallies[actor].distinguishable++;
    holes.push(
      `${ACTOR_NAMES[actor]}: distinguishable ${method} ${realPath} as ${who.agencyId}: ` +
        `${first.status} ${first.headers} ${first.text.slice(0, 200)} <> ${second.status} ${second.headers} ${second.text.slice(0, 200)}`,
    );
  }

  /** Every operation of the served document taking a guarded id, probed real against random. */
  async function probeAll(
    actor: ActorKey,
    who: Principal,
    only?: (ids: Guarded[], operation: string) => boolean,
  ): Promise<void> {
    const doc = (await (await fetch(`${ledger.base}/openapi.json`)).json()) as OpenApi;
    let operations = 0;
    for (const [template, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods)) {
        const ids = (op.parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .filter((n): n is Guarded => (GUARDED as readonly string[]).includes(n));
        if (ids.length === 0 || (only && !only(ids, `${method.toUpperCase()} ${template}`))) continue;
        operations++;
        const headers: Record<string, string> = {};
        for (const p of op.parameters ?? []) {
          const first = p.schema?.enum?.[0];
          if (p.in === 'header' && p.required) headers[p.name] = typeof first === 'string' ? first : 'x';
        }
        const schema = op.requestBody?.content?.['application/json']?.schema;
        const valid = schema ? exampleOf(schema, doc) : method === 'post' ? {} : undefined;
        const fill = (values: Record<string, string>) =>
          template.replace(/\{(\w+)\}/g, (_, name: string) =>
            encodeURIComponent(values[name] ?? randomUUID()),
          );
        const random = {
          caseId: randomUUID(),
          referralId: randomUUID(),
          consentId: randomUUID(),
          subjectId: randomUUID(),
        };
        await comparePair(actor, who, method.toUpperCase(), fill(real), fill(random), valid, headers);
        if (schema)
          await comparePair(
            actor,
            who,
            method.toUpperCase(),
            fill(real),
            fill(random),
            { notAField: 1 },
            headers,
          );
      }
    expect(operations).toBeGreaterThan(0);
  }

  /**
   * Anyone but the coordinator designating a competent authority (itself, an accomplice): the answer
   * of an unknown case, compared with a random case id.
   */
  async function designationAttempts(actor: ActorKey, who: Principal, authorityIds: string[]): Promise<void> {
    for (const authorityId of authorityIds) {
      const body = { authorityId, reason: 'no-authority-seized' };
      await comparePair(
        actor,
        who,
        'POST',
        `/cases/${real.caseId}/designations`,
        `/cases/${randomUUID()}/designations`,
        body,
        {},
      );
      await mustRefuse(
        actor,
        who,
        'POST',
        `/cases/${real.caseId}/designations`,
        body,
        `designate ${authorityId}`,
        { status: 404, code: 'CASE.NOT_FOUND' },
      );
    }
  }

  /** What the relay would publish on the agency's topic, by its own routing over every stored event. */
  async function kafkaForeignBytes(actor: ActorKey, agencyId: string): Promise<number> {
    const empty: RelayStateView = {
      caseState: () => undefined,
      referral: () => undefined,
      agencyKind: () => undefined,
    };
    const state = new BatchState(empty);
    const topics = topicNames('');
    let bytes = 0;
    let messages = 0;
    for await (const event of ledger.store.readAll()) {
      const routing = route(event, state, topics);
      if (routing.kind !== 'publish') continue;
      state.apply(routing.change);
      for (const message of routing.messages) {
        if (message.topic !== topics.agency(agencyId)) continue;
        messages++;
        const value = JSON.parse(message.value) as AgencyIntegrationEvent;
        const here =
          canaryBytes(message.value) +
          (value.categories.some((c) => SENSITIVE.includes(c)) ? Buffer.byteLength(message.value) : 0);
        if (here > 0)
          holes.push(
            `${ACTOR_NAMES[actor]}: kafka ${message.topic} carried ${here} foreign bytes: ${message.value.slice(0, 300)}`,
          );
        bytes += here;
      }
    }
    tallies[actor].foreignBytes += bytes;
    return messages;
  }

  it('(a) a caseworker at a party agency cannot widen its own access', async () => {
    const on = `/cases/${real.caseId}`;
    // Positive control: it is party and reads case status for assistance.
    const control = await send('a', ngo, 'GET', on, undefined, { 'x-purpose': 'assistance' });
    expect(control.status).toBe(200);
    expect(Object.keys(control.body.categories as object)).toContain('case-status');

    const selfGrant = { status: 422, code: 'CONSENT.SELF_GRANT' };
    await mustRefuse(
      'a',
      ngo,
      'POST',
      `${on}/consents`,
      consentBody(['in-ngo'], ['identity', 'contact']),
      'self-consent',
      selfGrant,
    );
    await mustRefuse(
      'a',
      ngo,
      'POST',
      `${on}/consents`,
      consentBody(['in-ngo'], ['identity', 'exploitation', 'health'], GUARDIAN),
      'guardian self-consent',
      selfGrant,
    );
    await mustRefuse(
      'a',
      ngo,
      'POST',
      `${on}/consents`,
      consentBody(['in-clinic', 'in-ngo'], ['identity']),
      'self hidden second',
      selfGrant,
    );
    await mustRefuse(
      'a',
      ngo,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-ngo'], ['identity', 'exploitation']),
      'self lawful basis',
      selfGrant,
    );
    // The same through a second principal of its own agency.
    await mustRefuse(
      'a',
      ngoSecond,
      'POST',
      `${on}/consents`,
      consentBody(['in-ngo'], ['identity', 'contact']),
      'second principal consent',
      selfGrant,
    );
    await mustRefuse(
      'a',
      ngoSecond,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-ngo'], ['health']),
      'second principal lawful basis',
      selfGrant,
    );
    // A grounds decision by the second principal (decision-maker of a non-competent kind, not seized).
    await mustRefuse(
      'a',
      ngoSecond,
      'POST',
      `${on}/conclusive-grounds-decision`,
      { outcome: 'positive' },
      'ngo decides',
    );
    // A lawful basis for an accomplice agency with no part in the case: it still reads nothing.
    await send(
      'a',
      ngo,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-accomplice'], ['identity', 'exploitation']),
    );
    for (const purpose of PURPOSES)
      await mustRefuse(
        'a',
        accomplice,
        'GET',
        on,
        undefined,
        'accomplice read',
        { status: 404, code: 'CASE.NOT_FOUND' },
        { 'x-purpose': purpose },
      );
    // Reads with every purpose: case status and support needs at most.
    await harvest('a', ngo, real.caseId);
    await harvest('a', ngoSecond, real.caseId);

    // Break-glass: the documented exception, counted apart, recorded and queued.
    const glass = await send(
      'a',
      ngo,
      'POST',
      `${on}/break-glass-reads`,
      { justification: JUSTIFICATION, purpose: 'protection' },
      {},
      { breakGlass: true },
    );
    expect(glass.status).toBe(200);
    // Positive control: break-glass opens identity, so the canary search finds what is there.
    expect(glass.text).toContain(CANARY_NAME);
    tallies.a.breakGlass++;
    breakGlassRequests.push({ actor: 'a', requestId: glass.requestId, principalId: ngo.principalId });
    // Without the role (its second principal): refused.
    await mustRefuse(
      'a',
      ngoSecond,
      'POST',
      `${on}/break-glass-reads`,
      { justification: JUSTIFICATION, purpose: 'protection' },
      'break-glass without role',
      { status: 403 },
    );

    // The purpose in the query instead of the header: refused and audited.
    await mustRefuse('a', ngo, 'GET', `${on}?purpose=assistance`, undefined, 'purpose in the query');
    // A referral back to itself, and a self-naming referral sharing identity.
    await mustRefuse(
      'a',
      ngo,
      'POST',
      `${on}/referrals`,
      referralBody('in-ngo', 'assistance', ['identity']),
      'refer to itself',
    );

    // Withdraw the clinic's consent for itself, then re-grant wider: the re-grant names only itself.
    const beforeWithdrawal = new Date().toISOString();
    await send('a', ngo, 'POST', `${on}/consents/${ngoConsentId}/withdrawal`, { agencyIds: ['in-ngo'] });
    await mustRefuse(
      'a',
      ngo,
      'POST',
      `${on}/consents`,
      consentBody(['in-ngo'], ['case-status', 'identity']),
      're-grant after withdrawal',
      selfGrant,
    );
    await mustRefuse(
      'a',
      ngoSecond,
      'POST',
      `${on}/consents`,
      consentBody(['in-ngo'], ['case-status']),
      're-grant by second principal',
      selfGrant,
    );
    await harvest('a', ngo, real.caseId);
    // The past as of before the withdrawal: coverage is decided now, so nothing more either.
    for (const purpose of PURPOSES)
      await send('a', ngo, 'GET', `${on}?asOf=${encodeURIComponent(beforeWithdrawal)}`, undefined, {
        'x-purpose': purpose,
      });
    const after = await send('a', ngo, 'GET', on, undefined, { 'x-purpose': 'assistance' });
    if (after.status === 200 && Object.keys((after.body.categories as object) ?? {}).length > 0)
      holes.push(
        `(a): after withdrawing its consent the NGO still reads ${Object.keys(after.body.categories as object).join(',')}`,
      );
    // A party designating (itself, or a competent accomplice): answered as for an unknown case.
    await designationAttempts('a', ngo, ['in-ngo', 'in-police-b']);
    await designationAttempts('a', ngoSecond, ['in-ngo']);
    await kafkaForeignBytes('a', 'in-ngo');
    await kafkaForeignBytes('a', 'in-accomplice');
  });

  it('(b) a non-party agency learns nothing from real ids and cannot become party', async () => {
    await probeAll('b', shelter);
    const on = `/cases/${real.caseId}`;
    // An Idempotency-Key the reporter used on the real case tells a stranger nothing either.
    const key = 'clinic-consent-police-0001';
    const recorded = await clinic.post(`${on}/consents`, consentBody(['in-police'], ['case-status']), {
      'idempotency-key': key,
    });
    expect(recorded.status).toBe(201);
    for (const [path, body] of [
      ['consents', consentBody(['in-police'], ['case-status'])],
      ['reasonable-grounds-decision', { outcome: 'positive' }],
    ] as const) {
      const realAnswer = await send('b', shelter, 'POST', `${on}/${path}`, body, { 'idempotency-key': key });
      const randomAnswer = await send('b', shelter, 'POST', `/cases/${randomUUID()}/${path}`, body, {
        'idempotency-key': key,
      });
      tallies.b.pairs++;
      if (
        realAnswer.status !== randomAnswer.status ||
        realAnswer.headers !== randomAnswer.headers ||
        realAnswer.text !== randomAnswer.text
      ) {
        tallies.b.distinguishable++;
        holes.push(`(b): the reporter's Idempotency-Key on ${path} tells the real case from a random one`);
      }
    }
    // Headers naming another agency or principal change nothing; nor does the purpose in the query.
    const smuggledHeaders: Array<Record<string, string>> = [
      { 'x-agency-id': 'in-clinic', 'x-purpose': 'assistance' },
      { 'x-principal-id': clinic.principalId, 'x-purpose': 'assistance' },
      { 'x-forwarded-for': '127.0.0.1', 'x-purpose': 'assistance' },
    ];
    for (const smuggled of smuggledHeaders)
      await mustRefuse(
        'b',
        shelter,
        'GET',
        on,
        undefined,
        'smuggled header',
        { status: 404, code: 'CASE.NOT_FOUND' },
        smuggled,
      );
    await mustRefuse('b', shelter, 'GET', `${on}?purpose=assistance`, undefined, 'purpose in the query');
    const notFound = { status: 404, code: 'CASE.NOT_FOUND' };
    const noReferral = { status: 404, code: 'REFERRAL.NOT_FOUND' };
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `${on}/reasonable-grounds-decision`,
      { outcome: 'positive' },
      'decide',
      notFound,
    );
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `${on}/conclusive-grounds-decision`,
      { outcome: 'positive' },
      'decide conclusive',
      notFound,
    );
    for (const step of ['acknowledgement', 'acceptance', 'handoff', 'escalation'])
      await mustRefuse(
        'b',
        shelter,
        'POST',
        `/referrals/${real.referralId}/${step}`,
        undefined,
        `referral ${step}`,
        noReferral,
      );
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `/referrals/${real.referralId}/decline`,
      { reason: 'no-capacity' },
      'decline',
      noReferral,
    );
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `${on}/referrals`,
      referralBody('in-shelter', 'assistance', ['case-status']),
      'refer to itself',
      notFound,
    );
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `${on}/referrals`,
      referralBody('in-accomplice', 'assistance'),
      'refer onward',
      notFound,
    );
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `${on}/support-services`,
      { serviceType: 'medical', providedOn: today() },
      'provide support',
      notFound,
    );
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `${on}/consents`,
      consentBody(['in-shelter'], ['identity'], GUARDIAN),
      'consent',
      notFound,
    );
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-shelter'], ['identity']),
      'lawful basis',
      notFound,
    );
    await mustRefuse(
      'b',
      shelter,
      'POST',
      `${on}/break-glass-reads`,
      { justification: JUSTIFICATION, purpose: 'protection' },
      'break-glass as non-party',
      notFound,
    );
    const statuses = await harvest('b', shelter, real.caseId);
    expect(statuses.every((s) => s === 404)).toBe(true);
    const mine = await send('b', shelter, 'GET', '/cases');
    expect(mine.text).not.toContain(real.caseId);
    await kafkaForeignBytes('b', 'in-shelter');
  });

  it('(c) a foreign contact point party through a transnational referral cannot widen its access', async () => {
    const on = `/cases/${real.caseId}`;
    const noContact = { status: 403, code: 'CONSENT.NO_CONTACT' };
    await mustRefuse(
      'c',
      foreign,
      'POST',
      `${on}/consents`,
      consentBody(['in-foreign'], ['identity', 'exploitation'], GUARDIAN),
      'guardian self-consent',
      noContact,
    );
    await mustRefuse(
      'c',
      foreign,
      'POST',
      `${on}/consents`,
      consentBody(['in-foreign'], ['identity', 'health', 'exploitation', 'contact']),
      'written self-consent',
      noContact,
    );
    await mustRefuse(
      'c',
      foreign,
      'POST',
      `${on}/consents`,
      consentBody(['in-foreign-b'], ['identity'], GUARDIAN),
      'consent for a sister contact point',
      noContact,
    );
    await mustRefuse(
      'c',
      foreign,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-foreign'], ['identity']),
      'self lawful basis',
      { status: 403, code: 'CONSENT.NO_STANDING' },
    );
    await mustRefuse(
      'c',
      foreign,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-foreign-b'], ['case-status']),
      'lawful basis for another',
      { status: 403, code: 'CONSENT.NO_STANDING' },
    );
    await mustRefuse(
      'c',
      foreign,
      'POST',
      `${on}/reasonable-grounds-decision`,
      { outcome: 'positive' },
      'decide',
    );
    await mustRefuse(
      'c',
      foreign,
      'POST',
      `${on}/referrals`,
      referralBody('in-foreign-b', 'referral', ['identity', 'exploitation']),
      'refer identity onward',
    );
    await mustRefuse(
      'c',
      foreign,
      'POST',
      `${on}/break-glass-reads`,
      { justification: JUSTIFICATION, purpose: 'protection' },
      'break-glass without role',
      { status: 403 },
    );
    const statuses = await harvest('c', foreign, real.caseId);
    expect(statuses).toContain(200); // it is party: case status is shown, nothing more
    await send('c', foreign, 'GET', `/subjects/${real.subjectId}/access-report`);
    // Not party to the second case: that answers as an unknown case.
    await comparePair('c', foreign, 'GET', `/cases/${secondCaseId}`, `/cases/${randomUUID()}`, undefined, {
      'x-purpose': 'referral',
    });
    // A party abroad designating itself or a colleague abroad: answered as for an unknown case.
    await designationAttempts('c', foreign, ['in-foreign', 'in-foreign-b']);
    const messages = await kafkaForeignBytes('c', 'in-foreign');
    expect(messages).toBeGreaterThan(0); // it hears of the case: the measurement is of something real
  });

  it('(d) a registry admin at an ordinary agency stays within its agency and cannot switch itself back on', async () => {
    const own = agencyAdmin.agencyId;
    const ownOnly = { status: 403, code: 'REGISTRY.OWN_AGENCY_ONLY' };
    // Another agency's principal is answered as an unknown one.
    const unknownPrincipal = { status: 404, code: 'REGISTRY.PRINCIPAL_NOT_FOUND' };
    // Designation is the coordinator's, not a registry admin's: answered as for an unknown case.
    await designationAttempts('d', agencyAdmin, ['in-police-b', own]);
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      '/agencies/in-ngo/principals',
      { label: 'night desk', roles: ['caseworker'] },
      'principal for another agency',
      ownOnly,
    );
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      '/agencies/in-dpa/principals',
      { label: 'dpa desk', roles: ['oversight'] },
      'oversight principal at the oversight body',
      ownOnly,
    );
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      '/agencies/in-coord/principals',
      { label: 'desk', roles: ['coordinator', 'registry-admin'] },
      'principal at the coordinator',
      ownOnly,
    );
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      `/principals/${ngo.principalId}/api-keys`,
      undefined,
      'key for another agency’s principal',
      unknownPrincipal,
    );
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      `/principals/${coordAdmin.principalId}/api-keys`,
      undefined,
      'key for the coordinator’s admin',
      unknownPrincipal,
    );
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      '/agencies',
      { name: 'Shadow Oversight', kind: 'oversight-body', country: 'NL' },
      'new agency',
      { status: 403, code: 'REGISTRY.COORDINATOR_ONLY' },
    );
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      `/principals/${coordAdmin.principalId}/disablement`,
      { reason: 'suspended' },
      'disable the coordinator’s admin',
    );
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      '/agencies/in-ngo/disablement',
      { reason: 'suspended' },
      'disable another agency',
    );

    // Roles for its own agency: whatever it manages to create, the role must not open the views.
    const made: Record<string, Principal> = {};
    for (const role of ['oversight', 'coordinator', 'break-glass', 'registry-admin']) {
      const created = await send('d', agencyAdmin, 'POST', `/agencies/${own}/principals`, {
        label: `${role} seat`,
        roles: ['caseworker', role],
      });
      if (created.status !== 201) continue;
      const key = await send(
        'd',
        agencyAdmin,
        'POST',
        `/principals/${created.body.principalId as string}/api-keys`,
      );
      if (key.status === 201 || key.status === 200)
        made[role] = new Principal(
          ledger.base,
          own,
          created.body.principalId as string,
          key.body.apiKey as string,
        );
    }
    console.log(
      `insider (d): roles its admin could give in its own agency: ${Object.keys(made).join(', ') || 'none'}`,
    );
    if (made.oversight) {
      for (const view of [
        '/oversight/access-log',
        '/oversight/access-attempts',
        '/oversight/break-glass',
        `/oversight/subjects/${real.subjectId}/consent-history`,
      ])
        await mustRefuse(
          'd',
          made.oversight,
          'GET',
          view,
          undefined,
          `ngo principal with oversight role: ${view}`,
        );
      await mustRefuse(
        'd',
        made.oversight,
        'POST',
        `/subjects/${real.subjectId}/erasure`,
        { ground: 'subject-request', reference: 'INSIDER-1' },
        'ngo oversight seat erases',
      );
    }
    if (made.coordinator) {
      for (const view of ['/coordinator/handoff-board', '/coordinator/statistics'])
        await mustRefuse(
          'd',
          made.coordinator,
          'GET',
          view,
          undefined,
          `ngo principal with coordinator role: ${view}`,
        );
    }
    if (made['break-glass'])
      await mustRefuse(
        'd',
        made['break-glass'],
        'POST',
        `/cases/${real.caseId}/break-glass-reads`,
        { justification: JUSTIFICATION, purpose: 'protection' },
        'break-glass at a non-party agency',
        { status: 404, code: 'CASE.NOT_FOUND' },
      );
    const colleague = made['registry-admin'];

    // The admin of an agency that is party (the NGO) gives a seat of its own the break-glass role and
    // reads beyond consent: the documented exception, which must be recorded and queued for review.
    const partyAdmin = await ledger.principal('ngo', ['registry-admin'], 'in-ngo');
    const seat = await send('d', partyAdmin, 'POST', '/agencies/in-ngo/principals', {
      label: 'night seat',
      roles: ['caseworker', 'break-glass'],
    });
    if (seat.status === 201) {
      const seatKey = await send(
        'd',
        partyAdmin,
        'POST',
        `/principals/${seat.body.principalId as string}/api-keys`,
      );
      const glassSeat = new Principal(
        ledger.base,
        'in-ngo',
        seat.body.principalId as string,
        seatKey.body.apiKey as string,
      );
      const glass = await send(
        'd',
        glassSeat,
        'POST',
        `/cases/${real.caseId}/break-glass-reads`,
        { justification: JUSTIFICATION, purpose: 'assistance' },
        {},
        { breakGlass: true },
      );
      if (glass.status === 200) {
        tallies.d.breakGlass++;
        breakGlassRequests.push({
          actor: 'd',
          requestId: glass.requestId,
          principalId: glassSeat.principalId,
        });
      }
      console.log(
        `insider (d): a party agency's admin minted a break-glass seat; its read answered ${glass.status}`,
      );
    }

    // Switched off by the coordinator's admin: refused whatever it tries, itself included.
    const off = await coordAdmin.post(`/principals/${agencyAdmin.principalId}/disablement`, {
      reason: 'credential-compromised',
    });
    expect(off.status).toBe(200);
    const disabled = { status: 403, code: 'AUTH.PRINCIPAL_DISABLED' };
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      `/principals/${agencyAdmin.principalId}/enablement`,
      undefined,
      're-enable itself',
      disabled,
    );
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      `/principals/${agencyAdmin.principalId}/api-keys`,
      undefined,
      'new key for itself',
      disabled,
    );
    await mustRefuse('d', agencyAdmin, 'GET', '/agencies', undefined, 'read while disabled', disabled);
    if (colleague) {
      // A fresh key from a colleague admin does not help: disabled whatever the credential.
      const key = await send('d', colleague, 'POST', `/principals/${agencyAdmin.principalId}/api-keys`);
      if (key.status < 300 && typeof key.body.apiKey === 'string') {
        const again = new Principal(ledger.base, own, agencyAdmin.principalId, key.body.apiKey);
        await mustRefuse('d', again, 'GET', '/agencies', undefined, 'fresh key while disabled', disabled);
        await mustRefuse(
          'd',
          again,
          'POST',
          `/principals/${agencyAdmin.principalId}/enablement`,
          undefined,
          're-enable itself with a fresh key',
          disabled,
        );
      }
    }
    // The whole agency off: nobody of it switches it back on.
    expect(
      (await coordAdmin.post(`/agencies/${own}/disablement`, { reason: 'agency-compromised' })).status,
    ).toBe(200);
    const agencyOff = { status: 403, code: 'AUTH.AGENCY_DISABLED' };
    if (colleague) {
      await mustRefuse(
        'd',
        colleague,
        'POST',
        `/agencies/${own}/enablement`,
        undefined,
        'colleague re-enables the agency',
        agencyOff,
      );
      await mustRefuse(
        'd',
        colleague,
        'POST',
        `/principals/${agencyAdmin.principalId}/enablement`,
        undefined,
        'colleague re-enables the admin',
        agencyOff,
      );
      await mustRefuse(
        'd',
        colleague,
        'POST',
        `/agencies/${own}/principals`,
        { label: 'spare', roles: ['registry-admin'] },
        'new principal while off',
        agencyOff,
      );
    }
    await mustRefuse(
      'd',
      agencyAdmin,
      'POST',
      `/agencies/${own}/enablement`,
      undefined,
      'disabled admin re-enables the agency',
    );
  });

  it('(e) the national coordinator sees handoffs and statistics, never case data nor identity', async () => {
    const on = `/cases/${real.caseId}`;
    const notFound = { status: 404, code: 'CASE.NOT_FOUND' };
    // Party to no case: the case operations answer as for an unknown case; but designation, its own
    // work (it must tell a real case from a mistyped id there; each attempt is on the record).
    await probeAll(
      'e',
      coordinator,
      (ids, operation) =>
        ids.every((id) => id === 'caseId' || id === 'consentId') &&
        operation !== 'POST /cases/{caseId}/designations',
    );
    // Designating itself (to become seized, then party), an accomplice not competent, a contact point
    // abroad, or with its caseworker or registry admin: refused.
    const designate = (authorityId: string) => ({ authorityId, reason: 'other' });
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/designations`,
      designate('in-coord'),
      'designate itself',
      {
        status: 422,
        code: 'IDENTIFICATION.SELF_DESIGNATION',
      },
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/designations`,
      designate('in-accomplice'),
      'designate an accomplice',
      { status: 422, code: 'IDENTIFICATION.AUTHORITY_NOT_COMPETENT' },
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/designations`,
      designate('in-foreign-b'),
      'designate a contact point abroad',
      { status: 422, code: 'IDENTIFICATION.AUTHORITY_FOREIGN' },
    );
    await designationAttempts('e', coordAdmin, ['in-coord', 'in-police-b']);
    const statuses = await harvest('e', coordinator, real.caseId);
    expect(statuses.filter((s) => s < 400)).toEqual([]);
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/consents`,
      consentBody(['in-coord'], ['identity']),
      'self-consent',
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/consents`,
      consentBody(['in-shelter'], ['identity'], GUARDIAN),
      'consent for another',
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-coord'], ['identity']),
      'lawful basis',
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/break-glass-reads`,
      { justification: JUSTIFICATION, purpose: 'protection' },
      'break-glass',
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/reasonable-grounds-decision`,
      { outcome: 'positive' },
      'decide',
      notFound,
    );
    for (const path of [
      '/coordinator/handoff-board',
      `/coordinator/handoff-board?asOf=${encodeURIComponent(new Date().toISOString())}`,
      '/coordinator/handoff-board?from=2026-01-01T00:00:00Z',
      '/coordinator/statistics',
      `/subjects/${real.subjectId}/access-report`,
      `/subjects/${real.subjectId}/access-report?format=html`,
      `/oversight/subjects/${real.subjectId}/consent-history`,
      '/oversight/access-log',
    ])
      await send('e', coordinator, 'GET', path);
    // Chained: the way to become party, a referral to it for allocation, is closed (the README's
    // "refers a case to the coordinator for allocation" notwithstanding): it receives no referral.
    const allocation = await clinic.post(`${on}/referrals`, referralBody('in-coord', 'referral'));
    expect([allocation.status, allocation.body.code]).toEqual([422, 'REFERRAL.AGENCY_CANNOT_RECEIVE']);
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/consents`,
      consentBody(['in-coord'], ['identity', 'contact'], GUARDIAN),
      'then self-consent',
      notFound,
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/consents`,
      consentBody(['in-accomplice'], ['identity']),
      'then consent for an accomplice',
      notFound,
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-coord'], ['identity', 'exploitation']),
      'then self lawful basis',
    );
    await mustRefuse(
      'e',
      coordinator,
      'POST',
      `${on}/referrals`,
      referralBody('in-accomplice', 'assistance', ['identity', 'contact']),
      'then pass identity on',
    );
    await harvest('e', coordinator, real.caseId);
    for (const path of ['/coordinator/handoff-board', '/coordinator/handoff-board?status=pending'])
      await send('e', coordinator, 'GET', path);
    await kafkaForeignBytes('e', 'in-coord');
    await kafkaForeignBytes('e', 'in-accomplice');
  });

  it('(f) a decision-maker at a competent authority not seized cannot decide, consent, nor read', async () => {
    const notFound = { status: 404, code: 'CASE.NOT_FOUND' };
    for (const [who, caseId] of [
      [unseized, real.caseId],
      [police, secondCaseId], // seized of the first case, not of this one
    ] as const) {
      const on = `/cases/${caseId}`;
      await mustRefuse(
        'f',
        who,
        'POST',
        `${on}/reasonable-grounds-decision`,
        { outcome: 'positive' },
        'decide',
        notFound,
      );
      await mustRefuse(
        'f',
        who,
        'POST',
        `${on}/conclusive-grounds-decision`,
        { outcome: 'positive' },
        'decide conclusive',
        notFound,
      );
      await mustRefuse(
        'f',
        who,
        'POST',
        `${on}/reconsiderations`,
        { reason: 'new-evidence' },
        'reconsider',
        notFound,
      );
      await mustRefuse(
        'f',
        who,
        'POST',
        `${on}/consents`,
        consentBody([who.agencyId], ['identity', 'exploitation'], GUARDIAN),
        'then consent',
        notFound,
      );
      await mustRefuse(
        'f',
        who,
        'POST',
        `${on}/lawful-bases`,
        lawfulBasisBody([who.agencyId], ['identity', 'exploitation']),
        'then lawful basis',
        notFound,
      );
      await mustRefuse(
        'f',
        who,
        'POST',
        `${on}/referrals`,
        referralBody(who.agencyId, 'investigation'),
        'refer to itself',
        notFound,
      );
      const statuses = await harvest('f', who, caseId);
      expect(statuses.every((s) => s === 404)).toBe(true);
      await comparePair(
        'f',
        who,
        'POST',
        `${on}/reasonable-grounds-decision`,
        `/cases/${randomUUID()}/reasonable-grounds-decision`,
        { outcome: 'negative' },
        {},
      );
      await comparePair('f', who, 'GET', on, `/cases/${randomUUID()}`, undefined, {
        'x-purpose': 'investigation',
      });
    }
    // Break-glass as a non-party: refused as for no case.
    await mustRefuse(
      'f',
      unseized,
      'POST',
      `/cases/${real.caseId}/break-glass-reads`,
      { justification: JUSTIFICATION, purpose: 'protection' },
      'break-glass as non-party',
      notFound,
    );
    await probeAll('f', unseized, (ids) => ids.every((id) => id === 'caseId' || id === 'consentId'));
    // Designating itself, or being designated by a seized party (the police): the unknown-case answer.
    await designationAttempts('f', unseized, ['in-police-b']);
    await designationAttempts('f', police, ['in-police-b']);
    // Chained: designated by the coordinator, it is seized and party; it decides, but reads only what
    // consent covers for it (nothing), and still records no consent nor lawful basis for itself.
    const on = `/cases/${real.caseId}`;
    const designated = await coordinator.post(`${on}/designations`, {
      authorityId: 'in-police-b',
      reason: 'specialist-competence',
    });
    expect([designated.status, (designated.body.eventIds as string[]).length]).toEqual([200, 1]);
    const decided = await send('f', unseized, 'POST', `${on}/conclusive-grounds-decision`, {
      outcome: 'positive',
    });
    expect(decided.status).toBe(200);
    const afterDesignation = await harvest('f', unseized, real.caseId);
    expect(afterDesignation.filter((s) => s < 400)).toEqual([]);
    await mustRefuse(
      'f',
      unseized,
      'POST',
      `${on}/consents`,
      consentBody(['in-police-b'], ['identity', 'exploitation'], GUARDIAN),
      'designated, then self-consent',
      { status: 403, code: 'CONSENT.NO_CONTACT' },
    );
    await mustRefuse(
      'f',
      unseized,
      'POST',
      `${on}/lawful-bases`,
      lawfulBasisBody(['in-police-b'], ['identity', 'exploitation']),
      'designated, then self lawful basis',
    );
    await mustRefuse(
      'f',
      unseized,
      'POST',
      `${on}/consents`,
      consentBody(['in-accomplice'], ['identity'], GUARDIAN),
      'designated, then consent for an accomplice',
    );
    await kafkaForeignBytes('f', 'in-police-b');
    await kafkaForeignBytes('f', 'in-police');
  });

  it('kafka: the relay, run for real, delivers no canary to any attacker agency’s topic', async () => {
    const brokers = process.env.KAFKA_BROKERS;
    if (!brokers)
      throw new Error(`no Kafka broker: ${process.env.NRM_KAFKA_UNAVAILABLE ?? 'KAFKA_BROKERS unset'}`);
    const prefix = `insider-${randomUUID().slice(0, 8)}.`;
    const relay = await runRelay(
      loadRelayConfig({
        KAFKA_BROKERS: brokers,
        DATA_DIR: ledger.dataDir,
        RELAY_TOPIC_PREFIX: prefix,
        RELAY_HEALTH_PORT: '0',
        LOG_LEVEL: 'silent',
      }),
    );
    let delivered = 0;
    try {
      const head = await ledger.store.headPosition();
      const deadline = Date.now() + 60_000;
      while (relay.relay.health().checkpoint < head) {
        if (Date.now() > deadline) throw new Error(`relay stuck: ${JSON.stringify(relay.relay.health())}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      delivered = relay.relay.health().messagesDelivered;
    } finally {
      await relay.stop();
    }
    const filesUnder = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? filesUnder(path) : [path];
      });
    const kafkaData = join(process.env.NRM_KAFKA_DIR ?? '/tmp/nrm-kafka', 'data');
    const topics = topicNames(prefix);
    const attackers: Array<[ActorKey, string]> = [
      ['a', 'in-ngo'],
      ['a', 'in-accomplice'],
      ['b', 'in-shelter'],
      ['c', 'in-foreign'],
      ['c', 'in-foreign-b'],
      ['e', 'in-coord'],
      ['f', 'in-police-b'],
      ['f', 'in-police'],
    ];
    let searched = 0;
    let caseIdSeen = false;
    for (const [actor, agencyId] of attackers) {
      const topic = agencyId === 'in-coord' ? topics.coordinator : topics.agency(agencyId);
      for (const dir of readdirSync(kafkaData).filter((name) => name.startsWith(`${topic}-`)))
        for (const file of filesUnder(join(kafkaData, dir)).filter((f) => f.endsWith('.log'))) {
          const content = readFileSync(file);
          searched += content.length;
          if (content.includes(real.caseId)) caseIdSeen = true;
          const bytes = canaryBytes(content.toString('latin1'));
          if (bytes > 0)
            holes.push(`${ACTOR_NAMES[actor]}: Kafka ${topic} holds ${bytes} canary bytes (${file})`);
          tallies[actor].foreignBytes += bytes;
        }
    }
    console.log(
      `insider kafka: ${delivered} messages relayed, ${searched} bytes of attacker topics searched`,
    );
    // Positive control: the topics hold the case in plain bytes (keyed by case id), so the search is real.
    expect(caseIdSeen).toBe(true);
  });

  it('residual: two colluding agencies in contact each grant the other (allowed by the rules; measured)', async () => {
    // Not a foreign byte by the rules (each consent is recorded by another agency in contact with the
    // person, and is on the consent history for oversight), but the chain an insider pair would use.
    const on = `/cases/${real.caseId}`;
    const handoff = await ngo.post<{ referralId: string }>(
      `${on}/referrals`,
      referralBody('in-accomplice', 'assistance'),
    );
    let collusionBytes = 0;
    if (handoff.status === 201) {
      for (const step of ['acknowledgement', 'acceptance', 'handoff'])
        await accomplice.post(`/referrals/${handoff.body.referralId}/${step}`);
      const granted = await accomplice.post(
        `${on}/consents`,
        consentBody(['in-ngo'], ['identity', 'contact'], GUARDIAN),
      );
      const read = await ngo.call('GET', on, undefined, { 'x-purpose': 'assistance' });
      collusionBytes = canaryBytes(JSON.stringify(read.body));
      const history = await oversight.get(`/oversight/subjects/${real.subjectId}/consent-history`);
      console.log(
        `insider residual: accomplice consent for the ngo ${granted.status}, ngo then read ${collusionBytes} canary bytes;` +
          ` on the oversight consent history: ${JSON.stringify(history.body).includes('in-accomplice')}`,
      );
      expect(JSON.stringify(history.body)).toContain('in-accomplice');
    } else
      console.log(`insider residual: the ngo could not hand the person to an accomplice (${handoff.status})`);
  });

  it('totals: 0 foreign bytes, 0 distinguishable answers, every refusal audited once, break-glass queued', async () => {
    const denied = await deniedPerRequest();
    const unaudited: string[] = [];
    for (const key of Object.keys(ACTOR_NAMES) as ActorKey[])
      for (const id of tallies[key].refusedIds)
        if (denied.get(id) !== 1)
          unaudited.push(`${ACTOR_NAMES[key]} ${id}: ${denied.get(id) ?? 0} AccessDenied`);

    // Break-glass: each recorded as BreakGlassAccessUsed and pending in the oversight queue.
    const used: Array<{ id: string; data: Record<string, unknown> }> = [];
    for await (const e of ledger.store.readAll({ filter: { eventTypes: ['BreakGlassAccessUsed'] } }))
      used.push({ id: e.id, data: e.data });
    const pending = await oversight.get<{ entries: Array<{ eventId: string }> }>(
      '/oversight/break-glass?status=pending&limit=100',
    );
    expect(pending.status).toBe(200);
    const queued = new Set(pending.body.entries.map((e) => e.eventId));
    const unqueued: string[] = [];
    for (const request of breakGlassRequests) {
      const event = used.find(
        (e) =>
          e.data.requestId === request.requestId ||
          (e.data.requestId === undefined && e.data.principalId === request.principalId),
      );
      if (!event || !queued.has(event.id)) unqueued.push(`${request.actor} ${request.requestId}`);
    }
    expect(used.length).toBe(breakGlassRequests.length);

    const total = (f: (t: Tally) => number) => Object.values(tallies).reduce((n, t) => n + f(t), 0);
    expect(total((t) => t.attempts)).toBeGreaterThan(100);
    expect(total((t) => t.refusedIds.length)).toBeGreaterThan(50);
    expect(unaudited).toEqual([]);
    expect(unqueued).toEqual([]);
    expect(total((t) => t.foreignBytes)).toBe(0);
    expect(total((t) => t.distinguishable)).toBe(0);
    expect(holes).toEqual([]);
  });
});
