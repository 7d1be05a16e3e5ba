/**
 * Round 3 of the outside attacker (README, THREAT-MODEL, DOMAIN and the served OpenAPI document
 * read; apps/ and libs/ never): chains that earlier rounds did not try. A party insider disguising
 * its own agency id in a consent (case, whitespace, invisible characters, a duplicated JSON key),
 * reading as of a consent since withdrawn; a non-party comparing answers to request forms the
 * earlier rounds left out (trailing slash, upper-case id, bad asOf, Accept, If-None-Match,
 * OPTIONS, bad bodies, wrong content type) and replaying another agency's paging cursor; a
 * foreign contact point after a withdrawal; credential oracles (key id exists, another agency's
 * principal or key); odd input (huge, deep, duplicate keys, numbers as strings, __proto__,
 * invisible justifications, traversal in ids); and free text that may name the person surviving
 * an erasure. Each attack counts requests and leaks; the suite prints them.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runAuditConsole } from '../../apps/ledger-cli/test/audit-console';
import {
  bootOn,
  caseReferredTo,
  consentBody,
  copyOf,
  degradedHealth,
  FAST_AUDIT,
  inDays,
  JUSTIFICATION,
  keepCheckpoint,
  Ledger,
  pause,
  PLAIN_REPORT,
  referralBody,
  tamper,
  verifyAgainstKept,
  WRITTEN,
  type Answer,
  type Principal,
} from './harness';

const CANARY = 'Ottavine Merrowcastle';
const REPORT = {
  indicators: ['debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
  identity: { fullName: CANARY, birthDate: '1996-04-05', nationality: 'MD' },
};

const tally = { attacks: 0, requests: 0, refused: 0, leaked: 0, pairs: 0, distinguishable: 0, fivexx: 0 };
const lines: string[] = [];

/** Status, headers but date and request id, and body: everything a caller can compare. */
async function fingerprint(response: Response): Promise<string> {
  const headers = [...response.headers.entries()]
    .filter(([name]) => name !== 'date' && name !== 'x-request-id')
    .map(([name, value]) => `${name}: ${value}`)
    .sort();
  // The ids the caller sent itself are echoed in a 404 of an unknown route: not a difference.
  const body = (await response.text())
    .replace(/"requestId":"[^"]*"/g, '"requestId":"-"')
    .replace(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, ':id');
  return JSON.stringify({ status: response.status, headers, body });
}

describe('outside attacker, round 3 (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let stranger: Principal;
  let police: Principal;
  let foreign: Principal;
  let oversight: Principal;
  let caseId: string;
  let subjectId: string;
  let referralId: string;
  let consentId: string;

  const raw = (
    key: string,
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ) => {
    tally.requests++;
    return fetch(`${ledger.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(init.headers ?? {}) },
      body: init.body,
    }).then((r) => {
      if (r.status >= 500) tally.fivexx++;
      return r;
    });
  };

  async function ok<T = Record<string, unknown>>(answer: Promise<Answer<T>>, status = 201): Promise<T> {
    const a = await answer;
    tally.requests++;
    expect({ status: a.status, body: a.body }).toMatchObject({ status });
    return a.body;
  }

  const read = (p: Principal, c: string, purpose: string, query = '') =>
    p.call<{ categories?: Record<string, unknown>; code?: string }>('GET', `/cases/${c}${query}`, undefined, {
      'x-purpose': purpose,
    });

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'r3-clinic');
    ngo = await ledger.principal('ngo', ['caseworker'], 'r3-ngo');
    stranger = await ledger.principal('labour-inspectorate', ['caseworker', 'decision-maker'], 'r3-stranger');
    police = await ledger.principal(
      'law-enforcement',
      ['caseworker', 'decision-maker', 'break-glass'],
      'r3-police',
    );
    foreign = await ledger.principal('foreign-nrm', ['caseworker', 'decision-maker'], 'r3-foreign');
    oversight = await ledger.principal('oversight-body', ['oversight'], 'r3-dpa');
    ({ caseId, subjectId, consentId, referralId } = await caseReferredTo(clinic, ngo, REPORT, ok));
  });

  afterAll(async () => {
    console.log(
      `outside-round3: attacks ${tally.attacks}, requests ${tally.requests}, refused ${tally.refused}, ` +
        `leaked ${tally.leaked}, pairs ${tally.pairs}, distinguishable ${tally.distinguishable}, 5xx ${tally.fivexx}\n` +
        lines.join('\n'),
    );
    await ledger.close();
  });

  it('a party insider cannot disguise its own agency id in a consent, nor read as of a withdrawn one', async () => {
    tally.attacks++;
    // The clinic (reporter, in contact) wants identity for itself: it may not record that.
    const disguises = [
      clinic.agencyId.toUpperCase(),
      ` ${clinic.agencyId}`,
      `${clinic.agencyId} `,
      `${clinic.agencyId}\u200b`,
      `\u202e${clinic.agencyId}`,
      clinic.agencyId.normalize('NFKD'),
      `${clinic.agencyId}/`,
      `../${clinic.agencyId}`,
    ];
    let accepted = 0;
    for (const id of disguises) {
      const a = await clinic.post(
        `/cases/${caseId}/consents`,
        consentBody([ngo.agencyId, id], ['identity'], ['assistance']),
      );
      tally.requests++;
      if (a.status < 300) accepted++;
      else tally.refused++;
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(a.status).toBeLessThan(500);
    }
    // A JSON body with agencyIds twice: whichever the parser keeps, the clinic must not end up covered.
    const dup =
      `{"agencyIds":["${ngo.agencyId}"],"categories":["identity"],"purposes":["investigation"],` +
      `"expiresAt":"${inDays(30)}","capture":{"method":"written","language":"ro","interpreterUsed":true},` +
      `"agencyIds":["${clinic.agencyId}"]}`;
    const dupAnswer = await raw(clinic.apiKey, 'POST', `/cases/${caseId}/consents`, {
      headers: { 'content-type': 'application/json' },
      body: dup,
    });
    if (dupAnswer.status >= 400) tally.refused++;
    // Whatever happened, the clinic reads no identity for any purpose.
    let identityReads = 0;
    for (const p of ['assistance', 'investigation', 'protection', 'referral']) {
      const r = await read(clinic, caseId, p);
      tally.requests++;
      if (r.body.categories?.identity !== undefined || JSON.stringify(r.body).includes(CANARY))
        identityReads++;
    }
    // Purpose in other spellings opens nothing the consent does not cover.
    // (A trailing space is not tried: fetch strips it, as HTTP says.)
    let spelled = 0;
    const spellings: string[] = [];
    for (const p of [
      'ASSISTANCE',
      '\tassistance\t',
      'assistance,investigation',
      'investigation;assistance',
      'investigation, assistance',
    ]) {
      const r = await read(ngo, caseId, p);
      tally.requests++;
      spellings.push(String(r.status));
      if (r.status === 200 && p.trim() !== 'assistance') spelled++;
    }
    // The NGO reads identity now; after the withdrawal, neither now nor as of before it.
    const before = inDays(0);
    expect(JSON.stringify((await read(ngo, caseId, 'assistance')).body)).toContain(CANARY);
    await ok(
      clinic.post(`/cases/${caseId}/consents/${consentId}/withdrawal`, { categories: ['identity'] }),
      200,
    );
    let pastLeaks = 0;
    for (const asOf of [before, inDays(-1 / 24), new Date(Date.now() - 1000).toISOString()]) {
      const r = await read(ngo, caseId, 'assistance', `?asOf=${encodeURIComponent(asOf)}`);
      tally.requests++;
      if (JSON.stringify(r.body).includes(CANARY)) pastLeaks++;
    }
    tally.leaked += accepted + identityReads + spelled + pastLeaks;
    lines.push(
      `  insider: disguised self ids ${disguises.length} (accepted ${accepted}), duplicate-key body ${dupAnswer.status}, ` +
        `identity reads by recorder ${identityReads}, purpose spellings opened ${spelled} (${spellings.join(' ')}), as-of after withdrawal leaks ${pastLeaks}`,
    );
    expect({ accepted, identityReads, spelled, pastLeaks }).toEqual({
      accepted: 0,
      identityReads: 0,
      spelled: 0,
      pastLeaks: 0,
    });
  });

  it('a non-party cannot tell a real case, subject, consent or referral apart by request forms not tried before', async () => {
    tally.attacks++;
    const fakeCase = randomUUID();
    const fakeSubject = randomUUID();
    const fakeConsent = randomUUID();
    const fakeReferral = randomUUID();
    const json = { 'content-type': 'application/json' };
    type Probe = [
      string,
      (c: string, s: string, k: string, r: string) => string,
      { headers?: Record<string, string>; body?: string }?,
    ];
    const probes: Probe[] = [
      ['GET', (c) => `/cases/${c}/`, { headers: { 'x-purpose': 'assistance' } }],
      ['GET', (c) => `/cases/${c.toUpperCase()}`, { headers: { 'x-purpose': 'assistance' } }],
      ['GET', (c) => `/cases/${c}?asOf=yesterday`, { headers: { 'x-purpose': 'assistance' } }],
      [
        'GET',
        (c) => `/cases/${c}?asOf=${encodeURIComponent(inDays(5))}`,
        { headers: { 'x-purpose': 'assistance' } },
      ],
      ['GET', (c) => `/cases/${c}`, {}],
      ['GET', (c) => `/cases/${c}`, { headers: { 'x-purpose': 'assistance', accept: 'text/html' } }],
      ['GET', (c) => `/cases/${c}`, { headers: { 'x-purpose': 'assistance', 'if-none-match': '*' } }],
      ['GET', (c) => `/cases/${c}`, { headers: { 'x-purpose': 'assistance', range: 'bytes=0-10' } }],
      ['OPTIONS', (c) => `/cases/${c}`, {}],
      ['DELETE', (c) => `/cases/${c}`, {}],
      ['PATCH', (c) => `/cases/${c}`, { headers: json, body: '{}' }],
      ['POST', (c) => `/cases/${c}/consents`, { headers: json, body: '{}' }],
      ['POST', (c) => `/cases/${c}/consents`, { headers: json, body: '{"agencyIds":' }],
      ['POST', (c) => `/cases/${c}/consents`, { headers: { 'content-type': 'text/plain' }, body: 'x' }],
      ['POST', (c, s, k) => `/cases/${c}/consents/${k}/withdrawal`, { headers: json, body: '{}' }],
      [
        'POST',
        (c) => `/cases/${c}/closure`,
        { headers: json, body: JSON.stringify({ outcome: 'integrated' }) },
      ],
      [
        'POST',
        (c) => `/cases/${c}/break-glass-reads`,
        { headers: json, body: JSON.stringify({ justification: JUSTIFICATION, purpose: 'protection' }) },
      ],
      [
        'POST',
        (c) => `/cases/${c}/designations`,
        { headers: json, body: JSON.stringify({ authorityId: stranger.agencyId, reason: 'other' }) },
      ],
      ['GET', (c, s) => `/subjects/${s}/access-report?format=html`, {}],
      ['GET', (c, s) => `/subjects/${s}/access-report?format=pdf`, {}],
      [
        'POST',
        (c, s) => `/subjects/${s}/erasure`,
        { headers: json, body: JSON.stringify({ reason: 'Request of the person, ref. 2026-901.' }) },
      ],
      ['GET', (c, s) => `/oversight/subjects/${s}/consent-history`, {}],
      ['POST', (c, s, k, r) => `/referrals/${r}/acceptance`, {}],
      [
        'POST',
        (c, s, k, r) => `/referrals/${r}/withdrawal`,
        { headers: json, body: JSON.stringify({ reason: 'other' }) },
      ],
      ['POST', (c, s, k, r) => `/referrals/${r}/decline`, { headers: json, body: '{"reason":"nonsense"}' }],
      ['GET', (c, s, k, r) => `/referrals?cursor=${r}`, {}],
      // One kind of id where another is expected.
      ['GET', (c, s) => `/cases/${s}`, { headers: { 'x-purpose': 'assistance' } }],
      ['GET', (c, s, k, r) => `/cases/${r}`, { headers: { 'x-purpose': 'assistance' } }],
      ['GET', (c) => `/subjects/${c}/access-report`, {}],
      ['POST', (c) => `/referrals/${c}/acknowledgement`, {}],
      ['GET', (c) => `/oversight/subjects/${c}/consent-history`, {}],
      ['GET', (c) => `/cases?cursor=${c}`, {}],
    ];
    const differ: string[] = [];
    for (const [method, path, init] of probes) {
      const real = await fingerprint(
        await raw(stranger.apiKey, method, path(caseId, subjectId, consentId, referralId), init),
      );
      const fake = await fingerprint(
        await raw(stranger.apiKey, method, path(fakeCase, fakeSubject, fakeConsent, fakeReferral), init),
      );
      tally.pairs++;
      if (real !== fake) {
        tally.distinguishable++;
        differ.push(`${method} ${path(':case', ':subject', ':consent', ':referral')}`);
        console.log('DIFF', real, '\n    ', fake);
      }
    }
    // Paging: the clinic's cursor, replayed by the stranger, gives it nothing of the clinic's cases.
    for (let i = 0; i < 2; i++) await ok(clinic.post('/cases', { ...REPORT, identity: undefined }));
    const page = await clinic.get('/cases?limit=1');
    tally.requests++;
    // Whatever field carries it: the first string value named like a cursor, anywhere in the answer.
    const found = /"(?:next|nextCursor|cursor)":\{?(?:"cursor":)?"([^"]+)"/.exec(JSON.stringify(page.body));
    const cursor = found?.[1] ?? '';
    lines.push(
      `  non-party: clinic's page keys ${Object.keys(page.body).join(',')}, cursor ${cursor ? 'found' : 'not found'}`,
    );
    let cursorLeaks = 0;
    if (cursor) {
      const replay = await raw(
        stranger.apiKey,
        'GET',
        `/cases?limit=10&cursor=${encodeURIComponent(cursor)}`,
      );
      const text = await replay.text();
      if (text.includes(caseId) || text.includes(CANARY)) cursorLeaks++;
      // A forged cursor pointing at the case id.
      for (const forged of [
        Buffer.from(JSON.stringify({ caseId })).toString('base64url'),
        Buffer.from(caseId).toString('base64url'),
      ]) {
        const f = await (await raw(stranger.apiKey, 'GET', `/cases?cursor=${forged}`)).text();
        if (f.includes(caseId)) cursorLeaks++;
      }
    }
    tally.leaked += cursorLeaks;
    lines.push(
      `  non-party: request forms ${probes.length}, distinguishable ${differ.length}${differ.length ? ` (${differ.join('; ')})` : ''}, ` +
        `cursor ${cursor ? 'replayed' : 'none'} leaks ${cursorLeaks}`,
    );
    expect(differ).toEqual([]);
    expect(cursorLeaks).toBe(0);
  });

  it('a foreign contact point gets nothing after its written consent is withdrawn, nor as of before, nor beyond the referral', async () => {
    tally.attacks++;
    const c = (await ok<{ caseId: string; subjectId: string }>(clinic.post('/cases', REPORT))).caseId;
    const k = (
      await ok<{ consentId: string }>(
        clinic.post(
          `/cases/${c}/consents`,
          consentBody([foreign.agencyId], ['case-status', 'identity'], ['referral']),
        ),
      )
    ).consentId;
    // Duplicate "method" keys in the capture: written then verbal, for health abroad.
    const dupCapture =
      `{"agencyIds":["${foreign.agencyId}"],"categories":["health"],"purposes":["referral"],"expiresAt":"${inDays(30)}",` +
      `"capture":{"method":"written","language":"ro","interpreterUsed":true,"method":"verbal-with-witness","witnessPrincipalId":"${clinic.principalId}"}}`;
    const dupAnswer = await raw(clinic.apiKey, 'POST', `/cases/${c}/consents`, {
      headers: { 'content-type': 'application/json' },
      body: dupCapture,
    });
    const dupBody = (await dupAnswer.json()) as { code?: string };
    const r = await ok<{ referralId: string }>(
      clinic.post(
        `/cases/${c}/referrals`,
        referralBody(foreign.agencyId, 'referral', ['case-status', 'identity']),
      ),
    );
    await ok(foreign.post(`/referrals/${r.referralId}/acknowledgement`), 200);
    const live = await read(foreign, c, 'referral');
    tally.requests++;
    expect(JSON.stringify(live.body)).toContain(CANARY);
    // Health was never written-consented: never shown (even if the duplicate-key consent was stored).
    let healthShown = live.body.categories?.health !== undefined ? 1 : 0;
    const before = new Date().toISOString();
    await ok(clinic.post(`/cases/${c}/consents/${k}/withdrawal`, { agencyIds: [foreign.agencyId] }), 200);
    let leaks = 0;
    for (const q of ['', `?asOf=${encodeURIComponent(before)}`]) {
      for (const p of ['referral', 'assistance', 'protection']) {
        const a = await read(foreign, c, p, q);
        tally.requests++;
        if (JSON.stringify(a.body).includes(CANARY)) leaks++;
        if (a.body.categories?.health !== undefined) healthShown++;
        if (a.status >= 400) tally.refused++;
      }
    }
    // The foreign point's own access report, and a break-glass read: refused.
    const report = await raw(foreign.apiKey, 'GET', `/subjects/${subjectId}/access-report`);
    if ((await report.text()).includes(CANARY)) leaks++;
    const glass = await foreign.post(`/cases/${c}/break-glass-reads`, {
      justification: JUSTIFICATION,
      purpose: 'protection',
    });
    tally.requests++;
    if (JSON.stringify(glass.body).includes(CANARY)) leaks++;
    tally.leaked += leaks + healthShown;
    lines.push(
      `  foreign: duplicate capture.method ${dupAnswer.status} ${dupBody.code ?? ''}, identity after withdrawal (now/as-of) leaks ${leaks}, health shown ${healthShown}, break-glass ${glass.status}`,
    );
    expect({ leaks, healthShown }).toEqual({ leaks: 0, healthShown: 0 });
    expect(dupAnswer.status).toBeGreaterThanOrEqual(400);
  });

  it('credentials: a key id that exists answers like one that does not; no key for or revocation of another agency', async () => {
    tally.attacks++;
    const keyId = ngo.apiKey.slice(4, 16);
    const secretLen = ngo.apiKey.length - 17;
    const guess = (id: string) => `nrm_${id}_${'Z'.repeat(secretLen)}`;
    const randomId = 'A'.repeat(12);
    const differ: string[] = [];
    const oracle: Array<[string, string]> = [
      ['GET /cases', '/cases'],
      ['GET /health/live', '/health/live'],
      ['GET /cases/:id', `/cases/${caseId}`],
    ];
    for (const [label, path] of oracle) {
      const a = await fingerprint(await raw(guess(keyId), 'GET', path));
      const b = await fingerprint(await raw(guess(randomId), 'GET', path));
      tally.pairs++;
      if (a !== b) {
        tally.distinguishable++;
        differ.push(label);
      }
    }
    // An NGO admin issues a key for, and revokes a key of, the clinic's principal: answered as unknown.
    const ngoAdmin = await ledger.principal('ngo', ['registry-admin'], ngo.agencyId);
    const clinicKeyId = clinic.apiKey.slice(4, 16);
    const cross: Array<[string, string]> = [
      [`/principals/${clinic.principalId}/api-keys`, `/principals/${randomUUID()}/api-keys`],
      [
        `/principals/${clinic.principalId}/api-keys/${clinicKeyId}/revocation`,
        `/principals/${randomUUID()}/api-keys/${clinicKeyId}/revocation`,
      ],
      [
        `/principals/${ngo.principalId}/api-keys/${clinicKeyId}/revocation`,
        `/principals/${ngo.principalId}/api-keys/${randomId}/revocation`,
      ],
    ];
    let issuedCross = 0;
    for (const [real, fake] of cross) {
      const a = await raw(ngoAdmin.apiKey, 'POST', real);
      const fa = await fingerprint(a.clone());
      if (a.status < 300) issuedCross++;
      else tally.refused++;
      const fb = await fingerprint(await raw(ngoAdmin.apiKey, 'POST', fake));
      tally.pairs++;
      if (
        fa.replace(clinic.principalId, ':p').replace(ngo.principalId, ':p') !==
        fb.replace(/[0-9a-f-]{36}/, ':p').replace(ngo.principalId, ':p')
      ) {
        tally.distinguishable++;
        differ.push(`POST ${real.replace(clinic.principalId, ':principal')}`);
        console.log('DIFF', fa, '\n    ', fb);
      }
    }
    // The clinic's key still works (not revoked by the NGO admin); an old key after rotation is dead.
    expect((await raw(clinic.apiKey, 'GET', '/cases')).status).toBe(200);
    const rotating = await ledger.principal('ngo', ['caseworker'], ngo.agencyId);
    const fresh = await ok<{ apiKey: string }>(ngoAdmin.post(`/principals/${rotating.principalId}/api-keys`));
    await ok(
      ngoAdmin.post(
        `/principals/${rotating.principalId}/api-keys/${rotating.apiKey.slice(4, 16)}/revocation`,
      ),
      200,
    );
    let replayed = 0;
    const replays: Array<[string, string]> = [
      ['GET', '/cases'],
      ['HEAD', '/cases'],
      ['GET', '/referrals'],
      ['POST', '/cases'],
    ];
    for (const [m, p] of replays) {
      const a = await raw(
        rotating.apiKey,
        m,
        p,
        m === 'POST' ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(REPORT) } : {},
      );
      if (a.status < 400) replayed++;
      else tally.refused++;
    }
    expect((await raw(fresh.apiKey, 'GET', '/cases')).status).toBe(200);
    tally.leaked += issuedCross + replayed;
    lines.push(
      `  credentials: key-id oracle pairs 3 + cross-agency pairs 3, distinguishable ${differ.length}${differ.length ? ` (${differ.join('; ')})` : ''}, ` +
        `cross-agency issue/revoke accepted ${issuedCross}, revoked key replays accepted ${replayed}`,
    );
    expect({ differ, issuedCross, replayed }).toEqual({ differ: [], issuedCross: 0, replayed: 0 });
  });

  it('a lawful basis names no disguised self; enabling a principal again does not revive a revoked key', async () => {
    tally.attacks++;
    const self = clinic.agencyId;
    let accepted = 0;
    for (const id of [self.toUpperCase(), `${self}\u200b`, ` ${self}`, `${self}\u0000`]) {
      const basis = await clinic.post(`/cases/${caseId}/lawful-bases`, {
        agencyIds: [police.agencyId, id],
        categories: ['identity'],
        purposes: ['protection'],
        basis: 'vital-interests',
        justification: 'Imminent danger to the person reported by the shelter staff this morning.',
      });
      tally.requests++;
      if (basis.status < 300) accepted++;
      else tally.refused++;
    }
    for (const p of ['protection', 'assistance']) {
      const r = await read(clinic, caseId, p);
      tally.requests++;
      if (JSON.stringify(r.body).includes(CANARY)) accepted++;
    }
    // Revoke, disable, enable: the revoked key stays dead; the coordinator cannot re-enable into another agency.
    const admin = await ledger.principal('ngo', ['registry-admin'], ngo.agencyId);
    const leaver = await ledger.principal('ngo', ['caseworker'], ngo.agencyId);
    const spare = await ok<{ apiKey: string }>(admin.post(`/principals/${leaver.principalId}/api-keys`));
    await ok(
      admin.post(`/principals/${leaver.principalId}/api-keys/${leaver.apiKey.slice(4, 16)}/revocation`),
      200,
    );
    await ok(admin.post(`/principals/${leaver.principalId}/disablement`, { reason: 'suspended' }), 200);
    const whileOff = (await raw(spare.apiKey, 'GET', '/cases')).status;
    await ok(admin.post(`/principals/${leaver.principalId}/enablement`), 200);
    const revived = (await raw(leaver.apiKey, 'GET', '/cases')).status;
    const spareAgain = (await raw(spare.apiKey, 'GET', '/cases')).status;
    // Revoking twice, and revoking with the key id in another case, change nothing.
    const twice = await admin.post(
      `/principals/${leaver.principalId}/api-keys/${leaver.apiKey.slice(4, 16)}/revocation`,
    );
    const lower = await admin.post(
      `/principals/${leaver.principalId}/api-keys/${spare.apiKey.slice(4, 16).toLowerCase()}/revocation`,
    );
    tally.requests += 5;
    if (revived < 400) accepted++;
    tally.leaked += accepted;
    lines.push(
      `  lawful basis naming a disguised self accepted ${accepted}; revoked key after disable+enable ${revived}, ` +
        `spare key while off ${whileOff} then ${spareAgain}; second revocation ${twice.status} ${String(twice.body.code)}, ` +
        `lower-cased key id ${lower.status}`,
    );
    expect({ accepted, revived, whileOff, spareAgain }).toEqual({
      accepted: 0,
      revived: 401,
      whileOff: 403,
      spareAgain: 200,
    });
  });

  it('odd input: huge, deep, typed wrong, polluting, invisible or traversing — a named 4xx, never 5xx', async () => {
    tally.attacks++;
    const json = { 'content-type': 'application/json' };
    const bad: Array<[string, string, { headers?: Record<string, string>; body?: string }]> = [
      ['POST', '/cases', { headers: json, body: JSON.stringify({ ...REPORT, pad: 'x'.repeat(5_000_000) }) }],
      ['POST', '/cases', { headers: json, body: '['.repeat(100_000) + ']'.repeat(100_000) }],
      ['POST', '/cases', { headers: json, body: JSON.stringify({ ...REPORT, minor: 'false' }) }],
      ['POST', '/cases', { headers: json, body: JSON.stringify({ ...REPORT, indicators: 'debt-bondage' }) }],
      ['POST', '/cases', { headers: json, body: JSON.stringify({ ...REPORT, region: 'NL-ZH\u202e' }) }],
      [
        'POST',
        '/cases',
        { headers: json, body: JSON.stringify({ ...REPORT, identity: { fullName: 'x'.repeat(201) } }) },
      ],
      [
        'POST',
        '/cases',
        {
          headers: json,
          body: `{"__proto__":{"roles":["break-glass"],"isAdmin":true},"indicators":["debt-bondage"],"exploitationForms":["labour"],"minor":false,"region":"NL-ZH"}`,
        },
      ],
      [
        'POST',
        '/cases',
        {
          headers: json,
          body: `{"constructor":{"prototype":{"polluted":true}},"indicators":["debt-bondage"],"exploitationForms":["labour"],"minor":false,"region":"NL-ZH"}`,
        },
      ],
      [
        'POST',
        '/cases',
        {
          headers: json,
          body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).toString('latin1'),
        },
      ],
      // UTF-7 would turn "NL+AC0-ZH" into "NL-ZH": it must be read as UTF-8 (an invalid region) or refused.
      [
        'POST',
        '/cases',
        {
          headers: { 'content-type': 'application/json; charset=utf-7' },
          body: JSON.stringify({ ...REPORT, region: 'NL+AC0-ZH' }),
        },
      ],
      [
        'POST',
        `/cases/${caseId}/reflection-period`,
        { headers: json, body: JSON.stringify({ startsOn: '2026-12-07', days: '30' }) },
      ],
      [
        'POST',
        `/cases/${caseId}/reflection-period`,
        { headers: json, body: JSON.stringify({ startsOn: '2026-12-07', days: 1e308 }) },
      ],
      [
        'POST',
        `/cases/${caseId}/reflection-period`,
        { headers: json, body: '{"startsOn":"2026-12-07","days":30e0000000000}' },
      ],
      [
        'POST',
        `/cases/${caseId}/consents`,
        {
          headers: json,
          body: JSON.stringify(
            consentBody([ngo.agencyId], ['identity'], ['assistance'], {
              ...WRITTEN,
              interpreterUsed: 'true',
            }),
          ),
        },
      ],
      [
        'POST',
        `/cases/${caseId}/consents`,
        {
          headers: json,
          body: JSON.stringify({
            ...consentBody([ngo.agencyId], ['identity'], ['assistance']),
            expiresAt: 1893456000000,
          }),
        },
      ],
      [
        'POST',
        `/cases/${caseId}/consents`,
        {
          headers: json,
          body: JSON.stringify(
            consentBody(
              Array.from({ length: 51 }, (_, i) => `a${i}`),
              ['identity'],
              ['assistance'],
            ),
          ),
        },
      ],
      ['GET', `/cases/..%2F..%2Fhealth`, {}],
      ['GET', `/cases/${caseId}%00`, { headers: { 'x-purpose': 'assistance' } }],
      ['GET', `/cases/%2e%2e`, {}],
      ['GET', `/subjects/..%2f..%2fetc%2fpasswd/access-report`, {}],
      ['GET', `/cases/${caseId}`, { headers: { 'x-purpose': 'a'.repeat(20_000) } }],
      ['GET', `/cases?limit=1e3`, {}],
      ['GET', `/cases?limit=-1`, {}],
      ['GET', `/cases?limit=10&limit=20`, {}],
    ];
    const answers: string[] = [];
    let unnamed = 0;
    for (const [method, path, init] of bad) {
      const a = await raw(clinic.apiKey, method, path, init);
      const type = a.headers.get('content-type') ?? '';
      const text = await a.text();
      answers.push(`${a.status}`);
      if (a.status >= 400 && a.status < 500) tally.refused++;
      if (a.status < 400 || a.status >= 500 || !type.startsWith('application/problem+json')) {
        unnamed++;
        console.log(`odd input ${method} ${path.slice(0, 60)}: ${a.status} ${type} ${text.slice(0, 200)}`);
      }
    }
    // Nothing was polluted in this process (the app runs in it).
    const polluted = ['roles', 'isAdmin', 'polluted'].filter((k) => k in ({} as Record<string, unknown>));
    // A break-glass justification made of invisible characters between words passes no placeholder check.
    const invisible = Array.from({ length: 14 }, () => '\u200b\u2063\u200d\u2060').join(' ');
    const homoglyph = Array.from({ length: 12 }, () => 'о')
      .join(' ')
      .repeat(3);
    let glassAccepted = 0;
    const refGlass = await ok<{ referralId: string }>(
      clinic.post(`/cases/${caseId}/referrals`, referralBody(police.agencyId, 'protection')),
    );
    await ok(police.post(`/referrals/${refGlass.referralId}/acknowledgement`), 200);
    for (const justification of [
      invisible,
      homoglyph,
      `${'\u202e'}${JUSTIFICATION.split('').reverse().join('').slice(0, 10)}`.repeat(4),
    ]) {
      const g = await police.post(`/cases/${caseId}/break-glass-reads`, {
        justification,
        purpose: 'protection',
      });
      tally.requests++;
      if (g.status < 300) glassAccepted++;
      else tally.refused++;
    }
    tally.leaked += polluted.length + glassAccepted;
    lines.push(
      `  odd input: ${bad.length} bodies/paths -> ${answers.join(' ')}; not a problem+json 4xx ${unnamed}; ` +
        `prototype keys polluted ${polluted.length}; invisible/homoglyph break-glass justifications accepted ${glassAccepted}/3`,
    );
    expect({ unnamed, polluted, glassAccepted }).toEqual({ unnamed: 0, polluted: [], glassAccepted: 0 });
  });

  /** A subject with a pending break-glass read and a guardian consent; answers from each step. */
  /** `why`: the erasure's body; `tried`: a body sent first (its answer is returned as `tried`). */
  async function erasableSubject(
    fullName: string,
    guardianReference: string,
    note: string,
    why: Record<string, string>,
    tried?: Record<string, string>,
  ) {
    const c = await ok<{ caseId: string; subjectId: string }>(
      clinic.post('/cases', { ...REPORT, identity: { fullName, birthDate: '1999-01-02' } }),
    );
    const guardian = await clinic.post(
      `/cases/${c.caseId}/consents`,
      consentBody([ngo.agencyId], ['case-status'], ['assistance'], {
        method: 'guardian',
        language: 'ro',
        interpreterUsed: false,
        guardianReference,
      }),
    );
    const toPolice = await ok<{ referralId: string }>(
      clinic.post(`/cases/${c.caseId}/referrals`, referralBody(police.agencyId, 'protection')),
    );
    await ok(police.post(`/referrals/${toPolice.referralId}/acknowledgement`), 200);
    const glass = await police.post(`/cases/${c.caseId}/break-glass-reads`, {
      justification: JUSTIFICATION,
      purpose: 'protection',
    });
    expect(glass.status).toBeLessThan(300);
    const queue = await oversight.get<{ entries: Array<{ eventId: string; caseId?: string }> }>(
      '/oversight/break-glass?status=pending',
    );
    const entry = queue.body.entries.find((e) => e.caseId === c.caseId);
    const review = await oversight.post(`/oversight/break-glass/${entry?.eventId}/review`, {
      finding: 'justified',
      note,
    });
    const first = tried ? await oversight.post(`/subjects/${c.subjectId}/erasure`, tried) : undefined;
    const erasure = await oversight.post(`/subjects/${c.subjectId}/erasure`, why);
    tally.requests += tried ? 9 : 8;
    expect(erasure.status).toBe(200);
    return { ...c, guardian, review, tried: first };
  }

  /** Event types still holding `needle` in data or metadata, and DATA_DIR files holding it. */
  async function survivors(needle: string) {
    const events: string[] = [];
    for await (const e of ledger.store.readAll())
      if ((JSON.stringify(e.data) + JSON.stringify(e.metadata)).includes(needle)) events.push(e.type);
    const files: string[] = [];
    for (const f of readdirSync(ledger.dataDir)) {
      const p = join(ledger.dataDir, f);
      if (statSync(p).isFile() && readFileSync(p).includes(needle)) files.push(f);
    }
    return { events: [...new Set(events)], files };
  }

  it('erasure: a guardian reference and a review note take reference codes only, not prose about the person', async () => {
    tally.attacks++;
    const s = await erasableSubject(
      'Ysolde Tarrenquist',
      'Guardian of Ysolde Tarrenquist',
      'Checked with Ysolde Tarrenquist herself',
      { ground: 'subject-request', reference: 'NGO-2026-901' },
    );
    if (s.guardian.status === 400) tally.refused++;
    if (s.review.status === 400) tally.refused++;
    const left = await survivors('Tarrenquist');
    tally.leaked += left.events.length;
    lines.push(
      `  erasure: prose guardianReference ${s.guardian.status} ${String(s.guardian.body.field)}, prose review note ` +
        `${s.review.status} ${String(s.review.body.field)}; name in events after erasure [${left.events.join(', ')}]`,
    );
    expect([s.guardian.body.field, s.review.body.field]).toEqual(['capture.guardianReference', 'note']);
    expect(left.events).toEqual([]);
  });

  /**
   * FINDING (medium): the erasure's own `reason` is free text (up to 500 characters) stored in clear
   * in `SubjectErased`. The README's worked example already writes "Request of the person through
   * the NGO"; an oversight officer who writes "Request of <name> via <NGO>" puts the very person
   * being erased into the one event that never goes away: the event store (events.sqlite), and so
   * every export, backup and the Kafka relay if it publishes the erasure. Crypto-shredding cannot
   * reach it. Steps: POST /subjects/{id}/erasure {"reason":"Request of Ysolde Tarrenquist via NGO"}
   * -> 200; the name is then found in the SubjectErased event and in events.sqlite(-wal).
   * Safe behaviour: the reason is a code (like a review note) or sealed under a key that is not the
   * subject's, or refused when it contains the subject's identity.
   */
  it('erasure: a reason that names the person does not outlive the erasure in clear', async () => {
    tally.attacks++;
    // Fixed: why is a legal ground and a reference code; a (deprecated) prose reason is refused.
    const s = await erasableSubject(
      'Corvin Aldsworth',
      'GUARD-2026-31',
      'DPA-2026-31',
      { ground: 'subject-request', reference: 'NGO-2026-31' },
      { reason: 'Request of Corvin Aldsworth via NGO' },
    );
    if (s.tried?.status === 400) tally.refused++;
    expect({ status: s.tried?.status, field: s.tried?.body.field }).toEqual({ status: 400, field: 'reason' });
    const left = await survivors('Corvin Aldsworth');
    tally.leaked += left.events.length;
    // Who is shown the reason over the API afterwards.
    const shown: string[] = [];
    for (const [who, key, path, purpose] of [
      ['clinic', clinic.apiKey, `/cases/${s.caseId}`, 'assistance'],
      ['police', police.apiKey, `/cases/${s.caseId}`, 'protection'],
      ['oversight', oversight.apiKey, `/oversight/subjects/${s.subjectId}/consent-history`, ''],
      ['oversight', oversight.apiKey, `/oversight/access-attempts?caseId=${s.caseId}`, ''],
      ['clinic', clinic.apiKey, `/subjects/${s.subjectId}/access-report`, ''],
    ] as const) {
      const a = await raw(key, 'GET', path, purpose ? { headers: { 'x-purpose': purpose } } : {});
      if ((await a.text()).includes('Corvin Aldsworth'))
        shown.push(`${who} ${(path.split('?')[0] ?? '').replace(/[0-9a-f-]{36}/g, ':id')}`);
    }
    lines.push(
      `  erasure reason naming the person: after erasure in events [${left.events.join(', ')}], files [${left.files.join(', ')}], ` +
        `shown by the API to [${shown.join('; ')}]`,
    );
    expect(left).toEqual({ events: [], files: [] });
  });

  /**
   * FINDING (low): a break-glass review `note` must be a reference code, but a code can spell a
   * name: {"finding":"justified","note":"DPA:Brannoch_Vilde:ok"} -> 200, and after the subject's
   * erasure `AccessReviewed` still holds "Brannoch_Vilde" in clear (a guardianReference of the same
   * shape does not survive: it is sealed or dropped). Same class as the pinned request-id finding.
   * Safe behaviour: the note is sealed under the subject's key like the justification it reviews.
   */
  it('erasure: a name shaped as a reference code in a review note does not survive', async () => {
    tally.attacks++;
    // Fixed: the review note is sealed under the subject's key (AccessReviewed schema 2).
    const s = await erasableSubject(
      'Brannoch Vilde',
      'GUARD/Brannoch_Vilde/1999-01-02',
      'DPA:Brannoch_Vilde:ok',
      { ground: 'subject-request', reference: 'NGO-2026-932' },
    );
    expect(s.review.status).toBe(200);
    const left = await survivors('Brannoch_Vilde');
    tally.leaked += left.events.length;
    const reviewed = await oversight.get<{
      entries: Array<{ caseId?: string; review?: { note?: unknown } }>;
    }>('/oversight/break-glass?status=reviewed');
    const note = reviewed.body.entries.find((e) => e.caseId === s.caseId)?.review?.note;
    lines.push(
      `  erasure: code-shaped name in guardianReference / review note: after erasure in events [${left.events.join(', ')}], ` +
        `note shown to oversight as ${JSON.stringify(note)}`,
    );
    expect(left.events).toEqual([]);
    expect(note).toEqual({ erased: true });
  });
});

/**
 * The operator with write access to DATA_DIR, on columns the earlier rounds left alone: an event's
 * metadata, its recorded time, its stream (moving a consent to another case), its schema version,
 * and the audit log's own Merkle leaf and newest checkpoint, events untouched. After each,
 * `ledger export` + `ledger verify` against a checkpoint kept outside, and the running ledger's
 * /health are asked.
 */
describe('outside attacker, round 3: an operator editing columns of the files (e2e)', () => {
  let seed: string;
  let kept: string;
  let clinic: Principal;
  const dirs: string[] = [];
  const op = { attacks: 0, offline: 0, online: 0, undetected: 0 };
  let opLedger: Ledger | undefined;

  const boot = (dataDir: string) => bootOn(dataDir, { LOG_LEVEL: 'silent', ...FAST_AUDIT });

  beforeAll(async () => {
    const ledger = await Ledger.boot(FAST_AUDIT);
    seed = ledger.dataDir;
    opLedger = ledger;
    clinic = await ledger.principal('health', ['caseworker'], 'r3op-clinic');
    const ngo = await ledger.principal('ngo', ['caseworker'], 'r3op-ngo');
    const oversight = await ledger.principal('oversight-body', ['oversight'], 'r3op-dpa');
    const c1 = (await clinic.post<{ caseId: string }>('/cases', PLAIN_REPORT)).body.caseId;
    const c2 = (await clinic.post<{ caseId: string }>('/cases', PLAIN_REPORT)).body.caseId;
    expect(
      (
        await clinic.post(
          `/cases/${c1}/consents`,
          consentBody([ngo.agencyId], ['case-status'], ['assistance']),
        )
      ).status,
    ).toBe(201);
    for (const [c, shared] of [
      [c1, ['case-status']],
      [c2, []],
    ] as const)
      expect(
        (await clinic.post(`/cases/${c}/referrals`, referralBody(ngo.agencyId, 'assistance', [...shared])))
          .status,
      ).toBe(201);
    expect((await ngo.call('GET', `/cases/${c1}`, undefined, { 'x-purpose': 'assistance' })).status).toBe(
      200,
    );
    for (let i = 0; i < 3; i++) expect((await clinic.post('/cases', PLAIN_REPORT)).status).toBe(201);
    kept = await keepCheckpoint(ledger, oversight, 'nrm-r3-kept-');
    await ledger.app.close();
    opLedger = undefined;
  });

  afterAll(async () => {
    await opLedger?.app.close();
    console.log(
      `outside-round3 operator: attacks ${op.attacks}, detected offline ${op.offline}, online ${op.online}, undetected ${op.undetected}\n` +
        lines.filter((l) => l.startsWith('  operator')).join('\n'),
    );
    for (const dir of [...dirs, seed, kept].filter(Boolean)) rmSync(dir, { recursive: true, force: true });
  });

  const verifyOffline = (dataDir: string) =>
    verifyAgainstKept(dataDir, kept, 'DPA-2026-0003', ' (export refused)');

  const online = async (app: NestFastifyApplication) =>
    (await degradedHealth(app)) ? 'degraded' : undefined;

  async function attack(name: string, file: string, sql: string): Promise<void> {
    op.attacks++;
    tally.attacks++;
    const dir = copyOf(seed, 'nrm-r3-op-');
    dirs.push(dir);
    tamper(join(dir, file), sql);
    const app = await boot(dir);
    const again = clinic.at(await app.getUrl());
    const append = await again.post('/cases', PLAIN_REPORT);
    tally.requests++;
    const onlineKind = await online(app);
    await app.close();
    const offlineKind = await verifyOffline(dir);
    if (offlineKind) op.offline++;
    if (onlineKind) op.online++;
    if (!offlineKind && !onlineKind) op.undetected++;
    lines.push(
      `  operator ${name}: offline ${offlineKind ?? 'NOT DETECTED'}, online ${onlineKind ?? 'not detected'}, append after it ${append.status}`,
    );
    expect(offlineKind ?? onlineKind).toBeDefined();
  }

  it('edits only the metadata of a read (who asked, correlation)', () =>
    attack(
      'RecordAccessed metadata edited',
      'events.sqlite',
      `UPDATE events SET metadata = replace(metadata, '"correlationId":"', '"correlationId":"forged-') WHERE type = 'RecordAccessed'`,
    ));

  it("back-dates a consent's recorded_at by a year", () =>
    attack(
      'ConsentGranted recorded_at back-dated',
      'events.sqlite',
      `UPDATE events SET recorded_at = '2025-01-01T00:00:00.000Z' WHERE type = 'ConsentGranted'`,
    ));

  it('moves a consent of one case to another stream', () =>
    attack(
      'ConsentGranted moved to another stream',
      'events.sqlite',
      `UPDATE events SET stream = stream || '-x' WHERE position = (SELECT max(position) FROM events WHERE type = 'ConsentGranted')`,
    ));

  it("changes an event's schema_version", () =>
    attack(
      'schema_version changed',
      'events.sqlite',
      `UPDATE events SET schema_version = schema_version + 1 WHERE position = (SELECT min(position) FROM events WHERE type = 'PotentialVictimReported')`,
    ));

  it("rewrites a leaf of the audit log's Merkle tree, events untouched", () =>
    attack(
      'Merkle leaf rewritten',
      'audit.sqlite',
      `UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 3`,
    ));

  it('deletes the newest checkpoints and the tail of the Merkle tree, events untouched', () =>
    attack(
      'newest checkpoints and Merkle tail deleted',
      'audit.sqlite',
      `DELETE FROM checkpoints WHERE tree_size > (SELECT max(tree_size) - 3 FROM checkpoints);
       DELETE FROM merkle_nodes WHERE idx > (SELECT max(idx) - 3 FROM merkle_nodes WHERE level = 0) AND level = 0;
       DELETE FROM leaf_positions WHERE leaf > (SELECT max(leaf) - 3 FROM leaf_positions)`,
    ));
});

/**
 * The operator and the witness's cosignatures: a witness cosigns a checkpoint; the operator then
 * copies that cosignature onto a newer checkpoint the witness never saw (so the newer one looks
 * witnessed). The ledger, restarted, must not serve it as cosigned, or `ledger verify --witness`
 * must refuse it.
 */
describe('outside attacker, round 3: a cosignature replayed onto another checkpoint (e2e)', () => {
  const FAST = {
    AUDIT_CHECKPOINT_EVERY: '1',
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
    AUDIT_INTEGRITY_CHECK_SECONDS: '1',
  };
  afterAll(() =>
    console.log(`outside-round3 witness:\n${lines.filter((l) => l.startsWith('  witness')).join('\n')}`),
  );
  /** The operator's console as a process (`npm run ledger -- …`), so the ledger in this one keeps answering. */
  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; out: string; err: string }>((done) => {
      const child = spawn(
        process.execPath,
        [resolve(__dirname, '../../node_modules/.bin/tsx'), 'apps/ledger-cli/src/main.ts', ...args],
        {
          cwd: resolve(__dirname, '../..'),
          env: { ...process.env, ...env },
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => done({ code: code ?? -1, out, err }));
    });

  it('a cosignature copied onto a newer checkpoint is not served as the witness’s, or verify refuses it', async () => {
    tally.attacks++;
    const w = mkdtempSync(join(tmpdir(), 'nrm-r3-witness-'));
    const made = await cli(['witness-key', '--name', 'dpa.example/witness', '--out', join(w, 'witness.pem')]);
    const witnessKey = /dpa\.example\/witness\+[0-9a-f]+\+\S+/.exec(made.out)?.[0];
    expect(witnessKey).toBeDefined();
    const ledger = await Ledger.boot({ ...FAST, AUDIT_WITNESS_KEYS: witnessKey! });
    let app: NestFastifyApplication | undefined;
    try {
      const clinic = await ledger.principal('health', ['caseworker'], 'r3w-clinic');
      const oversight = await ledger.principal('oversight-body', ['oversight'], 'r3w-dpa');
      const latest = async (atLeast: number) => {
        let c = await oversight.get<{ treeSize: number; note: string }>('/audit/checkpoints/latest');
        for (let i = 0; i < 100 && (c.status !== 200 || c.body.treeSize < atLeast); i++) {
          await pause(100);
          c = await oversight.get<{ treeSize: number; note: string }>('/audit/checkpoints/latest');
        }
        return c.body;
      };
      for (let i = 0; i < 3; i++) expect((await clinic.post('/cases', PLAIN_REPORT)).status).toBe(201);
      await latest(await ledger.store.headPosition());
      const key = await oversight.get<{ verifierKey: string }>('/audit/public-key');
      writeFileSync(join(w, 'ledger.vkey'), `${key.body.verifierKey}\n`);
      const cosigned = await cli(
        [
          'witness',
          '--state',
          join(w, 'witness-state.json'),
          '--key',
          join(w, 'witness.pem'),
          '--name',
          'dpa.example/witness',
          '--log-key',
          join(w, 'ledger.vkey'),
          '--url',
          ledger.base,
        ],
        { LEDGER_API_KEY: oversight.apiKey },
      );
      tally.requests += 3;
      // Newer checkpoints the witness never sees.
      for (let i = 0; i < 3; i++) expect((await clinic.post('/cases', PLAIN_REPORT)).status).toBe(201);
      const newer = await latest(await ledger.store.headPosition());
      await ledger.app.close();
      const cosignatures = join(ledger.dataDir, 'audit-cosignatures.sqlite');
      const db = new Database(cosignatures);
      const rows = db.prepare('SELECT count(*) AS n FROM cosignatures').get() as { n: number };
      db.close();
      tamper(
        cosignatures,
        `INSERT OR REPLACE INTO cosignatures (tree_size, name, key_id, timestamp, line)
         SELECT ${Number(newer.treeSize)}, name, key_id, timestamp, line FROM cosignatures ORDER BY tree_size DESC LIMIT 1`,
      );
      rmSync(join(ledger.dataDir, 'audit.lease'), { force: true });
      app = await bootOn(ledger.dataDir, { LOG_LEVEL: 'silent', ...FAST, AUDIT_WITNESS_KEYS: witnessKey! });
      const again = oversight.at(await app.getUrl());
      const served = await again.get<{ treeSize: number; note: string }>('/audit/checkpoints/latest');
      tally.requests++;
      const servedWitnessed =
        served.body.treeSize === newer.treeSize && served.body.note.includes('dpa.example/witness');
      writeFileSync(join(w, 'served.json'), JSON.stringify(served.body));
      await app.close();
      app = undefined;
      const out = join(w, 'log.ndjson');
      await runAuditConsole(
        ledger.dataDir,
        'export',
        '--from',
        '1',
        '--out',
        out,
        '--purpose',
        'integrity-check',
        '--reason',
        'DPA-2026-0004',
      );
      const verified = await runAuditConsole(
        ledger.dataDir,
        'verify',
        '--file',
        out,
        '--checkpoint',
        join(w, 'served.json'),
        '--public-key',
        join(w, 'ledger.vkey'),
        '--witness',
        witnessKey!,
      );
      const accepted = verified.code === 0 && /"verified":\s*true/.test(verified.out);
      if (servedWitnessed && accepted) tally.leaked++;
      else tally.refused++;
      lines.push(
        `  witness: cosigned ${cosigned.code === 0 ? 'yes' : `no (${(cosigned.out + cosigned.err).slice(0, 120)})`}, rows ${rows.n}; ` +
          `replayed cosignature served on size ${newer.treeSize}: ${servedWitnessed}, verify --witness ${accepted ? 'ACCEPTED' : 'refused'}`,
      );
      expect(cosigned.code).toBe(0);
      expect(servedWitnessed && accepted).toBe(false);
    } finally {
      await app?.close();
      await ledger.app.close().catch(() => undefined);
      rmSync(ledger.dataDir, { recursive: true, force: true });
      rmSync(w, { recursive: true, force: true });
    }
  });
});
