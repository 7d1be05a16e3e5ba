/**
 * An attacker who has read the README, the threat model and the served OpenAPI document, never
 * the source, plays the actors of docs/THREAT-MODEL.md over HTTP against a booted ledger and
 * chains steps as a real one would: a non-party agency telling real ids from missing ones by
 * everything an answer carries (status, body, headers, ETag, Retry-After, field names, list
 * counts, HEAD, timing order of magnitude), a party insider widening its own access, a foreign
 * contact point after special categories, revoked and switched-off credentials, role confusion
 * (caseworker, coordinator, oversight), break-glass abuse, and Idempotency-Key replays across
 * principals and records. Each attack counts attempts, refusals, leaks (bytes of a canary or of a
 * category not covered) and distinguishable pairs, and the suite prints them.
 */
import { randomUUID } from 'node:crypto';
import {
  caseReferredTo,
  consentBody,
  inDays,
  JUSTIFICATION,
  Ledger,
  referralBody,
  type Answer,
  type Principal,
} from './harness';

// Invented person; the name is searched for in every answer an attacker obtains.
const CANARY = 'Quillon Varsenbrook';
const REPORT = {
  indicators: ['debt-bondage', 'withheld-documents'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
  identity: { fullName: CANARY, birthDate: '1998-02-03', nationality: 'MD', notes: `${CANARY} notes` },
};

/** Everything of an answer an attacker can compare, but the date (and the request id it sent itself). */
async function fingerprint(response: Response): Promise<string> {
  const headers = [...response.headers.entries()]
    .filter(([name]) => name !== 'date')
    .map(([name, value]) => `${name}: ${value}`)
    .sort();
  return JSON.stringify({ status: response.status, headers, body: await response.text() });
}

describe('an outside attacker who never read the source (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let ngo: Principal;
  let stranger: Principal;
  let strangerGlass: Principal;
  let police: Principal;
  let foreign: Principal;
  let coordinator: Principal;
  let oversight: Principal;
  let caseId: string;
  let subjectId: string;
  let referralId: string;
  let consentId: string;
  const tally = { attacks: 0, attempts: 0, refused: 0, leaked: 0, pairs: 0, distinguishable: 0 };
  const lines: string[] = [];

  /** One attempt that must be refused with `status` (and `code`, if given) and carry no canary. */
  async function refused(answer: Promise<Answer>, status: number, code?: string): Promise<Answer> {
    const a = await answer;
    tally.attempts++;
    if (JSON.stringify(a.body).includes(CANARY)) tally.leaked++;
    if (a.status === status && (code === undefined || a.body.code === code)) tally.refused++;
    expect({ status: a.status, code: code === undefined ? undefined : a.body.code }).toEqual({
      status,
      code,
    });
    return a;
  }

  async function ok<T = Record<string, unknown>>(answer: Promise<Answer<T>>, status = 201): Promise<T> {
    const a = await answer;
    expect({ status: a.status, body: a.body }).toMatchObject({ status });
    return a.body;
  }

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'oa-clinic');
    ngo = await ledger.principal('ngo', ['caseworker'], 'oa-ngo');
    stranger = await ledger.principal('labour-inspectorate', ['caseworker', 'decision-maker'], 'oa-stranger');
    strangerGlass = await ledger.principal(
      'law-enforcement',
      ['caseworker', 'break-glass'],
      'oa-stranger-police',
    );
    police = await ledger.principal(
      'law-enforcement',
      ['caseworker', 'decision-maker', 'break-glass'],
      'oa-police',
    );
    foreign = await ledger.principal('foreign-nrm', ['caseworker', 'decision-maker'], 'oa-foreign');
    coordinator = await ledger.principal('national-coordinator', ['coordinator', 'registry-admin'], 'oa-nc');
    oversight = await ledger.principal('oversight-body', ['oversight'], 'oa-dpa');

    ({ caseId, subjectId, consentId, referralId } = await caseReferredTo(clinic, ngo, REPORT, ok));
  });

  afterAll(async () => {
    console.log(
      `outside-attacker: attacks ${tally.attacks}, attempts ${tally.attempts}, refused ${tally.refused}, ` +
        `leaked ${tally.leaked}, pairs compared ${tally.pairs}, distinguishable ${tally.distinguishable}\n` +
        lines.join('\n'),
    );
    await ledger.close();
  });

  it('a non-party agency cannot tell a real case, referral, consent or subject from a random id', async () => {
    tally.attacks++;
    const random = () => randomUUID();
    const requestId = '6d1c0b7e-3f2a-4c5d-9e8f-7a6b5c4d3e2f';
    const probes: Array<{ name: string; send: (ids: Record<string, string>) => Promise<Response> }> = [];
    const call = (
      who: Principal,
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) =>
      fetch(`${ledger.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${who.apiKey}`,
          'x-request-id': requestId,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const purpose = { 'x-purpose': 'assistance' };
    for (const who of [stranger, strangerGlass, foreign]) {
      const w = who.agencyId;
      probes.push(
        { name: `${w} GET case`, send: (i) => call(who, 'GET', `/cases/${i.caseId}`, undefined, purpose) },
        { name: `${w} HEAD case`, send: (i) => call(who, 'HEAD', `/cases/${i.caseId}`, undefined, purpose) },
        {
          name: `${w} GET case asOf`,
          send: (i) => call(who, 'GET', `/cases/${i.caseId}?asOf=${inDays(-1)}`, undefined, purpose),
        },
        {
          name: `${w} GET case if-none-match`,
          send: (i) =>
            call(who, 'GET', `/cases/${i.caseId}`, undefined, { ...purpose, 'if-none-match': '*' }),
        },
        {
          name: `${w} break-glass`,
          send: (i) =>
            call(who, 'POST', `/cases/${i.caseId}/break-glass-reads`, {
              justification: JUSTIFICATION,
              purpose: 'protection',
            }),
        },
        {
          name: `${w} assessment`,
          send: (i) =>
            call(who, 'POST', `/cases/${i.caseId}/indicator-assessments`, {
              outcome: 'indicators-present',
              indicatorsConfirmed: ['debt-bondage'],
              exploitationForms: ['labour'],
            }),
        },
        {
          name: `${w} grounds`,
          send: (i) =>
            call(who, 'POST', `/cases/${i.caseId}/reasonable-grounds-decision`, { outcome: 'positive' }),
        },
        {
          name: `${w} consent`,
          send: (i) =>
            call(
              who,
              'POST',
              `/cases/${i.caseId}/consents`,
              consentBody([ngo.agencyId], ['case-status'], ['assistance']),
            ),
        },
        {
          name: `${w} consent replayed key`,
          send: (i) =>
            call(
              who,
              'POST',
              `/cases/${i.caseId}/consents`,
              consentBody([ngo.agencyId], ['case-status'], ['assistance']),
              { 'idempotency-key': 'oa-shared-key-1' },
            ),
        },
        {
          name: `${w} withdrawal`,
          send: (i) => call(who, 'POST', `/cases/${i.caseId}/consents/${i.consentId}/withdrawal`, {}),
        },
        {
          name: `${w} referral`,
          send: (i) =>
            call(who, 'POST', `/cases/${i.caseId}/referrals`, referralBody(who.agencyId, 'protection')),
        },
        {
          name: `${w} support service`,
          send: (i) =>
            call(who, 'POST', `/cases/${i.caseId}/support-services`, {
              serviceType: 'legal',
              providedOn: inDays(0).slice(0, 10),
            }),
        },
        {
          name: `${w} acknowledge`,
          send: (i) => call(who, 'POST', `/referrals/${i.referralId}/acknowledgement`),
        },
        {
          name: `${w} decline`,
          send: (i) => call(who, 'POST', `/referrals/${i.referralId}/decline`, { reason: 'no-capacity' }),
        },
        {
          name: `${w} access report`,
          send: (i) => call(who, 'GET', `/subjects/${i.subjectId}/access-report`),
        },
        {
          name: `${w} access report html`,
          send: (i) => call(who, 'GET', `/subjects/${i.subjectId}/access-report?format=html`),
        },
        {
          name: `${w} erasure`,
          send: (i) =>
            call(who, 'POST', `/subjects/${i.subjectId}/erasure`, {
              ground: 'subject-request',
              reference: 'NGO-2026-901',
            }),
        },
      );
    }
    // The party used the same Idempotency-Key on the real case first.
    await ok(
      clinic.post(
        `/cases/${caseId}/consents`,
        consentBody([ngo.agencyId], ['support-needs'], ['assistance']),
        {
          'idempotency-key': 'oa-shared-key-1',
        },
      ),
    );
    const real = { caseId, referralId, consentId, subjectId };
    const differing: string[] = [];
    const timing: Array<{ name: string; real: number; random: number }> = [];
    for (const probe of probes) {
      const fake = { caseId: random(), referralId: random(), consentId: random(), subjectId: random() };
      const realTimes: number[] = [];
      const fakeTimes: number[] = [];
      let a = '';
      let b = '';
      for (let round = 0; round < 3; round++) {
        let t = performance.now();
        a = await fingerprint(await probe.send(real));
        realTimes.push(performance.now() - t);
        t = performance.now();
        b = await fingerprint(await probe.send(fake));
        fakeTimes.push(performance.now() - t);
      }
      tally.pairs++;
      tally.attempts += 6;
      if (a.includes(CANARY)) tally.leaked++;
      if (a !== b) {
        tally.distinguishable++;
        differing.push(`${probe.name}\n  real:   ${a}\n  random: ${b}`);
      } else tally.refused += 6;
      const median = (xs: number[]) => xs.sort((x, y) => x - y)[1]!;
      timing.push({ name: probe.name, real: median(realTimes), random: median(fakeTimes) });
    }
    // Timing is printed, not asserted (no timed assertions in tests): latency is not equalised (threat model, known gaps).
    const slowest = timing.reduce((worst, t) => (t.real / t.random > worst.real / worst.random ? t : worst));
    lines.push(
      `  non-party: pairs ${probes.length}, distinguishable ${differing.length}, ` +
        `worst real/random median time ${(slowest.real / slowest.random).toFixed(2)} (${slowest.name})`,
    );
    expect(differing).toEqual([]);
  });

  it('a non-party sees no trace of the case in its lists, pagination counts or the coordinator-only reads', async () => {
    tally.attacks++;
    const cases = await stranger.get<{ cases: unknown[]; nextCursor?: unknown }>('/cases?limit=100');
    tally.attempts++;
    expect(cases.status).toBe(200);
    expect(cases.body.cases).toEqual([]);
    tally.refused++;
    for (const direction of ['in', 'out']) {
      const referrals = await stranger.get(`/referrals?direction=${direction}&limit=100`);
      tally.attempts++;
      expect(referrals.status).toBe(200);
      expect(JSON.stringify(referrals.body)).not.toContain(caseId);
      expect(JSON.stringify(referrals.body)).not.toContain(referralId);
      tally.refused++;
    }
    for (const path of [
      '/coordinator/statistics',
      '/coordinator/handoff-board',
      '/oversight/access-log',
      '/oversight/break-glass',
    ]) {
      await refused(stranger.get(path), 403);
    }
  });

  it('a party insider cannot make itself party elsewhere, grant itself consent, or read beyond its consent', async () => {
    tally.attacks++;
    // The NGO is party (receiver of a referral) and covered for case-status and identity (assistance).
    await ok(ngo.post(`/referrals/${referralId}/acknowledgement`), 200);
    await ok(ngo.post(`/referrals/${referralId}/acceptance`), 200);
    // It grants itself health and exploitation: not in contact yet (no handoff) or self-grant.
    const selfGrant = await ngo.post(
      `/cases/${caseId}/consents`,
      consentBody([ngo.agencyId], ['health', 'exploitation'], ['assistance', 'investigation']),
    );
    tally.attempts++;
    expect([403, 422]).toContain(selfGrant.status);
    tally.refused++;
    // After the handoff it is in contact: still no self-grant.
    await ok(ngo.post(`/referrals/${referralId}/handoff`), 200);
    await refused(
      ngo.post(
        `/cases/${caseId}/consents`,
        consentBody([ngo.agencyId], ['health', 'exploitation'], ['assistance']),
      ),
      422,
      'CONSENT.SELF_GRANT',
    );
    await refused(
      ngo.post(`/cases/${caseId}/lawful-bases`, {
        agencyIds: [ngo.agencyId],
        categories: ['health'],
        purposes: ['assistance'],
        basis: 'court-order',
        justification: 'Court order 2026/0412 of the district court requires the case file to be shared.',
      }),
      422,
      'CONSENT.SELF_GRANT',
    );
    // Reads only what the clinic's consent covers, and only for that purpose.
    const read = await ngo.call<{ categories: Record<string, unknown> }>(
      'GET',
      `/cases/${caseId}`,
      undefined,
      { 'x-purpose': 'assistance' },
    );
    expect(read.status).toBe(200);
    expect(Object.keys(read.body.categories).sort()).toEqual(['case-status', 'identity', 'support-needs']);
    await refused(
      ngo.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'investigation' }),
      403,
      'ACCESS.NOT_COVERED',
    );
    // The purpose in the query instead of the header does not open anything either.
    const misplaced = await ngo.call('GET', `/cases/${caseId}?purpose=assistance`);
    tally.attempts++;
    expect(misplaced.status).toBeGreaterThanOrEqual(400);
    tally.refused++;
    // It refers the case to a stranger it colludes with, which then records consent for the NGO's health data:
    // the stranger is not in contact with the person (no handoff), so it cannot.
    const toStranger = await ok<{ referralId: string }>(
      ngo.post(`/cases/${caseId}/referrals`, referralBody(stranger.agencyId, 'assistance')),
    );
    await ok(stranger.post(`/referrals/${toStranger.referralId}/acknowledgement`), 200);
    await refused(
      stranger.post(`/cases/${caseId}/consents`, consentBody([ngo.agencyId], ['health'], ['assistance'])),
      403,
      'CONSENT.NO_CONTACT',
    );
    // The stranger, now party, decides grounds without being a competent kind: refused, no party widening.
    const decision = await stranger.post(`/cases/${caseId}/reasonable-grounds-decision`, {
      outcome: 'positive',
    });
    tally.attempts++;
    expect(decision.status).toBeGreaterThanOrEqual(403);
    tally.refused++;
    lines.push(
      '  party insider: self-grant, self lawful basis, uncovered purpose, collusion without contact: refused',
    );
  });

  it('a foreign contact point gets no special category abroad, records no consent, and no break-glass', async () => {
    tally.attacks++;
    const report = await ok<{ caseId: string }>(clinic.post('/cases', REPORT));
    const c = report.caseId;
    // Verbal consent for identity abroad, and a lawful basis for it: refused.
    await refused(
      clinic.post(
        `/cases/${c}/consents`,
        consentBody([foreign.agencyId], ['identity', 'health'], ['referral'], {
          method: 'verbal-with-witness',
          language: 'ro',
          interpreterUsed: false,
          witnessPrincipalId: clinic.principalId,
        }),
      ),
      422,
    );
    await refused(
      clinic.post(`/cases/${c}/lawful-bases`, {
        agencyIds: [foreign.agencyId],
        categories: ['identity'],
        purposes: ['referral'],
        basis: 'court-order',
        justification: 'Court order 2026/0413 of the district court requires the case file to be shared.',
      }),
      422,
      'CONSENT.FOREIGN_LAWFUL_BASIS',
    );
    // Sharing identity on the referral without the written consent: refused.
    await refused(
      clinic.post(`/cases/${c}/referrals`, referralBody(foreign.agencyId, 'referral', ['identity'])),
      422,
    );
    const r = await ok<{ referralId: string }>(
      clinic.post(`/cases/${c}/referrals`, referralBody(foreign.agencyId, 'referral')),
    );
    await ok(foreign.post(`/referrals/${r.referralId}/acknowledgement`), 200);
    await ok(foreign.post(`/referrals/${r.referralId}/acceptance`), 200);
    // It records consent for itself with a guardian capture, and a lawful basis: refused.
    const guardian = {
      method: 'guardian',
      language: 'ro',
      interpreterUsed: false,
      guardianReference: 'GUARD-2026-17',
    };
    await refused(
      foreign.post(
        `/cases/${c}/consents`,
        consentBody([foreign.agencyId], ['identity'], ['referral'], guardian),
      ),
      403,
      'CONSENT.NO_CONTACT',
    );
    await refused(
      foreign.post(`/cases/${c}/lawful-bases`, {
        agencyIds: [clinic.agencyId],
        categories: ['identity'],
        purposes: ['referral'],
        basis: 'court-order',
        justification: 'Court order 2026/0414 of the district court requires the case file to be shared.',
      }),
      403,
    );
    // Reading: nothing is covered for it; break-glass is not its role.
    for (const p of ['referral', 'protection', 'assistance', 'investigation']) {
      const read = await foreign.call('GET', `/cases/${c}`, undefined, { 'x-purpose': p });
      tally.attempts++;
      if (JSON.stringify(read.body).includes(CANARY)) tally.leaked++;
      expect(read.status).toBe(403);
      tally.refused++;
    }
    await refused(
      foreign.post(`/cases/${c}/break-glass-reads`, { justification: JUSTIFICATION, purpose: 'protection' }),
      403,
    );
    lines.push(
      '  foreign contact point: verbal/lawful-basis abroad, self consent, reads, break-glass: refused',
    );
  });

  it('revoked, switched-off and mangled credentials are refused on the very next request', async () => {
    tally.attacks++;
    const leaver = await ledger.principal('ngo', ['caseworker'], ngo.agencyId);
    await ok(leaver.get('/cases'), 200);
    const keyId = leaver.apiKey.slice(4, 16); // nrm_<12-character key id>_<secret>
    // Mangled variants of a valid key.
    const variants = [
      leaver.apiKey.toUpperCase(),
      `${leaver.apiKey}x`,
      leaver.apiKey.slice(0, -1),
      `nrm_${keyId}_`,
      `nrm_${keyId}`,
    ];
    for (const v of variants) {
      const a = await fetch(`${ledger.base}/cases`, { headers: { authorization: `Bearer ${v}` } });
      tally.attempts++;
      expect(a.status).toBe(401);
      tally.refused++;
    }
    // Two credentials at once.
    const both = await fetch(`${ledger.base}/cases`, {
      headers: { authorization: `Bearer ${leaver.apiKey}`, 'x-api-key': ngo.apiKey },
    });
    tally.attempts++;
    expect(both.status).toBe(400);
    tally.refused++;
    // The coordinator's registry admin revokes the key: refused at once.
    await ok(coordinator.post(`/principals/${leaver.principalId}/api-keys/${keyId}/revocation`), 200);
    await refused(leaver.get('/cases'), 401);
    // A fresh key from its own agency's admin (the coordinator issues none for another agency),
    // then the coordinator switches the principal off: refused whatever the key.
    const ngoAdmin = await ledger.principal('ngo', ['registry-admin'], ngo.agencyId);
    const again = await ok<{ apiKey: string }>(ngoAdmin.post(`/principals/${leaver.principalId}/api-keys`));
    const second = { ...leaver, apiKey: again.apiKey } as Principal;
    const withKey = (key: string) =>
      fetch(`${ledger.base}/cases`, { headers: { authorization: `Bearer ${key}` } });
    expect((await withKey(second.apiKey)).status).toBe(200);
    await ok(
      coordinator.post(`/principals/${leaver.principalId}/disablement`, { reason: 'offboarded' }),
      200,
    );
    const off = await withKey(second.apiKey);
    tally.attempts++;
    expect(off.status).toBe(403);
    tally.refused++;
    // It cannot switch itself back on.
    const selfOn = await fetch(`${ledger.base}/principals/${leaver.principalId}/enablement`, {
      method: 'POST',
      headers: { authorization: `Bearer ${second.apiKey}`, 'content-type': 'application/json' },
      body: '{}',
    });
    tally.attempts++;
    expect(selfOn.status).toBe(403);
    tally.refused++;
    lines.push(
      `  credentials: mangled ${variants.length}, ambiguous 1, revoked 1, disabled 1, self re-enable 1: refused`,
    );
  });

  it('roles do not cross: caseworker, coordinator and oversight each stay in their lane', async () => {
    tally.attacks++;
    // An NGO seat whose own admin gave it every role.
    const allRoles = await ledger.principal(
      'ngo',
      ['caseworker', 'coordinator', 'oversight', 'registry-admin', 'decision-maker'],
      ngo.agencyId,
    );
    for (const path of [
      '/coordinator/statistics',
      '/coordinator/handoff-board',
      '/oversight/access-log',
      '/oversight/break-glass',
      '/oversight/denials',
      `/oversight/subjects/${subjectId}/consent-history`,
      '/audit/proofs/consistency?from=1&to=2',
    ])
      await refused(allRoles.get(path), 403);
    await refused(
      allRoles.post(`/subjects/${subjectId}/erasure`, {
        ground: 'subject-request',
        reference: 'NGO-2026-902',
      }),
      403,
    );
    await refused(allRoles.post('/agencies', { name: 'Rogue Agency', kind: 'ngo', country: 'NL' }), 403);
    // The coordinator and the oversight body read no case data, whatever the purpose.
    for (const who of [coordinator, oversight])
      for (const p of ['assistance', 'statistics', 'investigation']) {
        const a = await who.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': p });
        tally.attempts++;
        if (JSON.stringify(a.body).includes(CANARY)) tally.leaked++;
        expect(a.status).toBeGreaterThanOrEqual(403);
        tally.refused++;
      }
    // The coordinator designates itself: refused; it cannot record consent.
    await refused(
      coordinator.post(`/cases/${caseId}/designations`, {
        authorityId: coordinator.agencyId,
        reason: 'no-authority-seized',
      }),
      422,
    );
    await refused(
      coordinator.post(
        `/cases/${caseId}/consents`,
        consentBody([coordinator.agencyId], ['identity'], ['statistics']),
      ),
      404,
    );
    // A caseworker reviews a break-glass read; oversight makes one.
    await refused(
      oversight.post(`/cases/${caseId}/break-glass-reads`, {
        justification: JUSTIFICATION,
        purpose: 'protection',
      }),
      403,
    );
    lines.push(
      '  role confusion: NGO seat with every role, coordinator and oversight reading cases: refused',
    );
  });

  it('break-glass: placeholders are refused, every read is queued, a review does not licence re-reads', async () => {
    tally.attacks++;
    const report = await ok<{ caseId: string }>(clinic.post('/cases', REPORT));
    const c = report.caseId;
    const r = await ok<{ referralId: string }>(
      clinic.post(`/cases/${c}/referrals`, referralBody(police.agencyId, 'protection')),
    );
    await ok(police.post(`/referrals/${r.referralId}/acknowledgement`), 200);
    for (const justification of [
      '…'.repeat(40),
      'TODO TODO TODO TODO TODO TODO TODO',
      'a'.repeat(60),
      'urgent urgent urgent urgent urgent urgent',
    ])
      await refused(
        police.post(`/cases/${c}/break-glass-reads`, { justification, purpose: 'protection' }),
        400,
      );
    const first = await police.post<Record<string, unknown>>(`/cases/${c}/break-glass-reads`, {
      justification: JUSTIFICATION,
      purpose: 'protection',
    });
    expect(first.status).toBe(200);
    const pending = async () =>
      (
        await oversight.get<{ entries: Array<{ eventId: string; caseId: string }> }>(
          '/oversight/break-glass?status=pending',
        )
      ).body.entries.filter((e) => e.caseId === c);
    expect(await pending()).toHaveLength(1);
    const [entry] = await pending();
    // Not reviewable by the break-glass holder, a caseworker, or the coordinator.
    for (const who of [police, clinic, coordinator])
      await refused(
        who.post(`/oversight/break-glass/${entry!.eventId}/review`, { finding: 'justified' }),
        403,
      );
    await ok(
      oversight.post(`/oversight/break-glass/${entry!.eventId}/review`, { finding: 'justified' }),
      200,
    );
    expect(await pending()).toHaveLength(0);
    // Reviewed once is not reviewed again, nor is a random id or an ordinary read's id reviewable.
    const twice = await oversight.post(`/oversight/break-glass/${entry!.eventId}/review`, {
      finding: 'not-justified',
    });
    tally.attempts++;
    expect(twice.status).toBeGreaterThanOrEqual(400);
    tally.refused++;
    const randomReview = await oversight.post(`/oversight/break-glass/${randomUUID()}/review`, {
      finding: 'justified',
    });
    tally.attempts++;
    expect(randomReview.status).toBe(404);
    tally.refused++;
    // Re-reading after a favourable review is a new break-glass read, queued again.
    const again = await police.post(`/cases/${c}/break-glass-reads`, {
      justification: JUSTIFICATION,
      purpose: 'protection',
    });
    expect(again.status).toBe(200);
    expect(await pending()).toHaveLength(1);
    // The break-glass holder does not become covered for ordinary reads.
    await refused(
      police.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'protection' }),
      403,
      'ACCESS.NOT_COVERED',
    );
    lines.push(
      '  break-glass: 4 placeholders refused, 2 reads both queued, 3 foreign reviews refused, re-review refused',
    );
  });

  it('an expired consent opens nothing, and one that expired before it was recorded is refused', async () => {
    tally.attacks++;
    const report = await ok<{ caseId: string }>(clinic.post('/cases', REPORT));
    const c = report.caseId;
    await refused(
      clinic.post(`/cases/${c}/consents`, {
        ...consentBody([ngo.agencyId], ['identity'], ['assistance']),
        expiresAt: inDays(-0.0001),
      }),
      422,
      'CONSENT.EXPIRY_IN_PAST',
    );
    await ok(
      clinic.post(`/cases/${c}/consents`, {
        ...consentBody([ngo.agencyId], ['case-status', 'identity'], ['assistance']),
        expiresAt: new Date(Date.now() + 1500).toISOString(),
      }),
    );
    await ok(
      clinic.post(
        `/cases/${c}/referrals`,
        referralBody(ngo.agencyId, 'assistance', ['case-status', 'identity']),
      ),
    );
    const during = await ngo.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'assistance' });
    expect(JSON.stringify(during.body)).toContain(CANARY);
    await new Promise((r) => setTimeout(r, 2000));
    await refused(
      ngo.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'assistance' }),
      403,
      'ACCESS.NOT_COVERED',
    );
    await refused(
      ngo.call('GET', `/cases/${c}?asOf=${encodeURIComponent(inDays(-0.00001))}`, undefined, {
        'x-purpose': 'assistance',
      }),
      403,
      'ACCESS.NOT_COVERED',
    );
    lines.push(
      '  expiry: consent expired before recording refused; after expiry, now and asOf reads refused',
    );
  });

  it('neither side of a referral, nor the coordinator, plays the other side', async () => {
    tally.attacks++;
    const report = await ok<{ caseId: string }>(clinic.post('/cases', REPORT));
    const c = report.caseId;
    const r = await ok<{ referralId: string }>(
      clinic.post(`/cases/${c}/referrals`, referralBody(ngo.agencyId, 'assistance')),
    );
    for (const who of [clinic, coordinator]) {
      await refused(
        who.post(`/referrals/${r.referralId}/acknowledgement`),
        403,
        'REFERRAL.NOT_ADDRESSED_TO_YOU',
      );
      await refused(who.post(`/referrals/${r.referralId}/acceptance`), 403, 'REFERRAL.NOT_ADDRESSED_TO_YOU');
      await refused(who.post(`/referrals/${r.referralId}/handoff`), 403);
    }
    await refused(clinic.post(`/referrals/${r.referralId}/decline`, { reason: 'no-capacity' }), 403);
    await refused(
      ngo.post(`/referrals/${r.referralId}/withdrawal`, { reason: 'no-longer-needed' }),
      403,
      'REFERRAL.NOT_YOUR_REFERRAL',
    );
    await refused(
      clinic.post(`/cases/${c}/referrals`, referralBody(clinic.agencyId, 'assistance')),
      422,
      'REFERRAL.SELF_REFERRAL',
    );
    await refused(
      clinic.post(`/cases/${c}/referrals`, {
        ...referralBody(police.agencyId, 'protection'),
        respondBy: inDays(-2),
      }),
      422,
      'REFERRAL.RESPOND_BY_IN_PAST',
    );
    lines.push(
      '  referral sides: sender/coordinator acting as receiver, receiver withdrawing, self-referral, past deadline: refused',
    );
  });

  it('a purpose cannot be smuggled: lists, other case, two headers, two asOf', async () => {
    tally.attacks++;
    const send = (headers: Record<string, string> | Array<[string, string]>, query = '') =>
      fetch(`${ledger.base}/cases/${caseId}${query}`, {
        headers: Array.isArray(headers)
          ? [['authorization', `Bearer ${ngo.apiKey}`], ...headers]
          : { authorization: `Bearer ${ngo.apiKey}`, ...headers },
      });
    const attempts: Array<Promise<Response>> = [
      send({ 'x-purpose': 'assistance, investigation' }),
      send({ 'x-purpose': 'investigation,assistance' }),
      send({ 'x-purpose': 'ASSISTANCE' }),
      send([
        ['x-purpose', 'investigation'],
        ['x-purpose', 'assistance'],
      ]),
      send(
        { 'x-purpose': 'assistance' },
        `?asOf=${encodeURIComponent(inDays(-1))}&asOf=${encodeURIComponent(inDays(-2))}`,
      ),
    ];
    for (const attempt of attempts) {
      const a = await attempt;
      tally.attempts++;
      expect(a.status).toBe(400);
      if (JSON.stringify(await a.text()).includes(CANARY)) tally.leaked++;
      tally.refused++;
    }
    lines.push(`  purpose smuggling: ${attempts.length} refused 400`);
  });

  it('Idempotency-Key replays never cross principals or records', async () => {
    tally.attacks++;
    const key = 'oa-replay-key';
    const colleague = await ledger.principal('health', ['caseworker'], clinic.agencyId);
    const a = await ok<{ caseId: string; replayed: boolean }>(
      clinic.post('/cases', REPORT, { 'idempotency-key': key }),
    );
    // The same key by a colleague at the same agency, and by a stranger: their own new case, not a replay.
    const b = await ok<{ caseId: string; replayed: boolean }>(
      colleague.post('/cases', REPORT, { 'idempotency-key': key }),
    );
    const s = await ok<{ caseId: string; replayed: boolean }>(
      stranger.post('/cases', { ...REPORT, identity: undefined }, { 'idempotency-key': key }),
    );
    tally.attempts += 2;
    expect(b.replayed).toBe(false);
    expect(s.replayed).toBe(false);
    expect(new Set([a.caseId, b.caseId, s.caseId]).size).toBe(3);
    tally.refused += 2;
    // The stranger replays the clinic's key on the clinic's case: the unknown-case answer, not KEY_REUSED.
    const cross = await stranger.post(
      `/cases/${a.caseId}/indicator-assessments`,
      { outcome: 'indicators-present', indicatorsConfirmed: ['debt-bondage'], exploitationForms: ['labour'] },
      { 'idempotency-key': key },
    );
    tally.attempts++;
    expect(cross.body.code).toBe('CASE.NOT_FOUND');
    tally.refused++;
    // The same key with another body on the same record: refused; on another record: a new command.
    await ok(
      clinic.post(
        `/cases/${a.caseId}/indicator-assessments`,
        {
          outcome: 'indicators-present',
          indicatorsConfirmed: ['debt-bondage'],
          exploitationForms: ['labour'],
        },
        { 'idempotency-key': 'oa-k2' },
      ),
      200,
    );
    await refused(
      clinic.post(
        `/cases/${a.caseId}/indicator-assessments`,
        { outcome: 'insufficient-indicators', indicatorsConfirmed: [], exploitationForms: [] },
        { 'idempotency-key': 'oa-k2' },
      ),
      422,
      'IDEMPOTENCY.KEY_REUSED',
    );
    const other = await clinic.post<{ replayed: boolean }>(
      `/cases/${b.caseId}/indicator-assessments`,
      { outcome: 'indicators-present', indicatorsConfirmed: ['debt-bondage'], exploitationForms: ['labour'] },
      { 'idempotency-key': 'oa-k2' },
    );
    expect(other.status).toBe(200);
    expect(other.body.replayed).toBe(false);
    lines.push(
      '  idempotency: 2 cross-principal keys, 1 cross-agency replay, 1 body reuse: no replay crossed',
    );
  });

  /**
   * FINDING (fixed): the subject access report ("requested through the agency assisting them", README) is
   * given to any caseworker of any party to one of the subject's cases, whatever consent covers: a
   * foreign contact point merely addressed by a transnational referral it has not even acknowledged,
   * with no category covered for it (every case read is `403 ACCESS.NOT_COVERED`), obtains the list of
   * every agency that read the person's data (so which shelter holds them), when, for which purpose and
   * categories, and each break-glass justification in full. Correct behaviour: the report goes only to
   * an agency in contact with the person (reporter, support provider, receiver of a completed handoff:
   * the same standing as recording consent); any other party gets the answer it gets for a subject it
   * does not assist.
   */
  it('a party not in contact with the person (foreign contact point, no consent) gets no access report', async () => {
    tally.attacks++;
    const shelter = await ledger.principal('shelter', ['caseworker'], 'oa-shelter-hideout');
    const report = await ok<{ caseId: string; subjectId: string }>(clinic.post('/cases', REPORT));
    const c = report.caseId;
    await ok(
      clinic.post(`/cases/${c}/consents`, consentBody([shelter.agencyId], ['case-status'], ['assistance'])),
    );
    await ok(
      clinic.post(`/cases/${c}/referrals`, referralBody(shelter.agencyId, 'assistance', ['case-status'])),
    );
    expect((await shelter.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'assistance' })).status).toBe(
      200,
    );
    await ok(clinic.post(`/cases/${c}/referrals`, referralBody(police.agencyId, 'protection')));
    await ok(
      police.post(`/cases/${c}/break-glass-reads`, { justification: JUSTIFICATION, purpose: 'protection' }),
      200,
    );
    // The foreign contact point is only addressed by a referral; nothing is covered for it.
    await ok(clinic.post(`/cases/${c}/referrals`, referralBody(foreign.agencyId, 'referral')));
    for (const p of ['referral', 'assistance', 'protection'])
      expect((await foreign.call('GET', `/cases/${c}`, undefined, { 'x-purpose': p })).status).toBe(403);
    const obtained = await foreign.get(`/subjects/${report.subjectId}/access-report`);
    tally.attempts++;
    const text = JSON.stringify(obtained.body);
    const leaked = [shelter.agencyId, JUSTIFICATION].filter((s) => text.includes(s));
    lines.push(
      `  access report to a party not covered (foreign contact point, referral unacknowledged): ${obtained.status}, ` +
        `reveals ${leaked.length ? leaked.map((s) => (s === JUSTIFICATION ? 'break-glass justification' : `shelter ${s}`)).join(' and ') : 'nothing'}`,
    );
    if (leaked.length) tally.leaked++;
    else tally.refused++;
    expect({ status: obtained.status, leaked }).toEqual({ status: 404, leaked: [] });
  });

  /**
   * FINDING (fixed): a consent is recorded only by an agency in contact with the person (`403
   * CONSENT.NO_CONTACT` for a foreign contact point or a decision-maker), but any party records the
   * person's refusal (`POST /cases/{id}/consent-refusals`, 201) and withdraws their consent: a foreign contact point addressed by a referral it never acknowledged withdraws the person's
   * consent for the NGO assisting them, and the NGO is cut off from the case on its next read. The
   * person did not decide it; an agency with no standing to record their consent did. Correct
   * behaviour: a withdrawal (the person's decision) is recorded under the same standing as a grant,
   * by an agency in contact with the person; anyone else is refused (`403 CONSENT.NO_CONTACT`).
   */
  it('a party not in contact with the person cannot record its refusal or withdraw its consent', async () => {
    tally.attacks++;
    const report = await ok<{ caseId: string }>(clinic.post('/cases', REPORT));
    const c = report.caseId;
    const granted = await ok<{ consentId: string }>(
      clinic.post(`/cases/${c}/consents`, consentBody([ngo.agencyId], ['case-status'], ['assistance'])),
    );
    const toNgo = await ok<{ referralId: string }>(
      clinic.post(`/cases/${c}/referrals`, referralBody(ngo.agencyId, 'assistance', ['case-status'])),
    );
    await ok(ngo.post(`/referrals/${toNgo.referralId}/acknowledgement`), 200);
    expect((await ngo.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'assistance' })).status).toBe(200);
    await ok(clinic.post(`/cases/${c}/referrals`, referralBody(foreign.agencyId, 'referral')));
    const refusal = await foreign.post(`/cases/${c}/consent-refusals`, {
      agencyIds: [ngo.agencyId],
      categories: ['identity'],
      purposes: ['assistance'],
    });
    const withdrawal = await foreign.post(`/cases/${c}/consents/${granted.consentId}/withdrawal`, {});
    tally.attempts += 2;
    const ngoAfter = await ngo.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'assistance' });
    lines.push(
      `  consent refusal and withdrawal by a foreign contact point not in contact: ${refusal.status}, ${withdrawal.status}; ` +
        `the NGO's next read ${ngoAfter.status}`,
    );
    if (refusal.status === 403) tally.refused++;
    if (withdrawal.status === 403) tally.refused++;
    expect({ refusal: refusal.status, withdrawal: withdrawal.status, ngoRead: ngoAfter.status }).toEqual({
      refusal: 403,
      withdrawal: 403,
      ngoRead: 200,
    });
  });

  /**
   * FINDING (high, fixed): the national coordinator's `registry-admin` "manages the principals and keys of
   * every agency" (README), and an issued key is returned to whoever issued it. So the coordinator,
   * which must never see identities (threat model), issues itself a key for the NGO caseworker's own
   * principal and reads the case as that NGO: the identity its consent covers, no break-glass, nothing
   * queued for review, the read attributed to the NGO's principal. Correct behaviour: nobody receives a
   * working credential of a principal of another agency (the coordinator may create an agency and its
   * first admin seat, but keys of another agency's principals are issued by that agency's own admin),
   * so the coordinator reads no case data.
   */
  it("the coordinator's registry admin cannot take an NGO principal's key and read identity as it", async () => {
    tally.attacks++;
    const report = await ok<{ caseId: string }>(clinic.post('/cases', REPORT));
    const c = report.caseId;
    await ok(
      clinic.post(
        `/cases/${c}/consents`,
        consentBody([ngo.agencyId], ['case-status', 'identity'], ['assistance']),
      ),
    );
    await ok(
      clinic.post(
        `/cases/${c}/referrals`,
        referralBody(ngo.agencyId, 'assistance', ['case-status', 'identity']),
      ),
    );
    const issued = await coordinator.post<{ apiKey?: string }>(`/principals/${ngo.principalId}/api-keys`);
    tally.attempts++;
    let read = 'no key';
    if (issued.status === 201 && issued.body.apiKey) {
      const asNgo = await fetch(`${ledger.base}/cases/${c}`, {
        headers: { authorization: `Bearer ${issued.body.apiKey}`, 'x-purpose': 'assistance' },
      });
      const text = await asNgo.text();
      read = `${asNgo.status}${text.includes(CANARY) ? ', identity read' : ''}`;
      if (text.includes(CANARY)) tally.leaked++;
    } else tally.refused++;
    lines.push(`  coordinator issues a key for an NGO principal: ${issued.status}, read as the NGO: ${read}`);
    expect(issued.status).toBe(403);
  });

  /**
   * FINDING (high, fixed): the same registry admin switches off the independent oversight body (`POST
   * /agencies/{id}/disablement` answers 200: the oversight body's principals are then refused `403
   * AUTH.AGENCY_DISABLED`), registers an `oversight-body` agency of its own with an `oversight` seat,
   * and with it reads the whole access log and reviews break-glass reads as justified. Rule 5 (an
   * independent oversight body can answer who accessed what, and whether break-glass was reviewed) is
   * then in the coordinator's hands. Correct behaviour: the coordinator neither registers nor switches
   * off nor manages an oversight body (the operator does, from the console).
   */
  it('the coordinator cannot switch off the oversight body or register one of its own', async () => {
    tally.attacks++;
    const shadow = await coordinator.post<{ agencyId: string }>('/agencies', {
      name: 'Shadow Data Protection Office',
      kind: 'oversight-body',
      country: 'NL',
    });
    const disabled = await coordinator.post(`/agencies/${oversight.agencyId}/disablement`, {
      reason: 'suspended',
    });
    tally.attempts += 2;
    let shadowRead = 'not registered';
    if (shadow.status === 201) {
      const seat = await coordinator.post<{ principalId: string }>(
        `/agencies/${shadow.body.agencyId}/principals`,
        {
          label: 'desk',
          roles: ['oversight'],
        },
      );
      const key = await coordinator.post<{ apiKey: string }>(`/principals/${seat.body.principalId}/api-keys`);
      const log = await fetch(`${ledger.base}/oversight/break-glass?status=pending`, {
        headers: { authorization: `Bearer ${key.body.apiKey}` },
      });
      shadowRead = `break-glass queue ${log.status}`;
    }
    const realOversight = await oversight.get('/oversight/access-log');
    // Put the real one back for the other tests whatever happened.
    if (disabled.status === 200) await coordinator.post(`/agencies/${oversight.agencyId}/enablement`);
    lines.push(
      `  coordinator vs oversight: registers an oversight body ${shadow.status} (${shadowRead}), ` +
        `switches the real one off ${disabled.status} (its next read ${realOversight.status})`,
    );
    if (shadow.status === 403) tally.refused++;
    if (disabled.status === 403) tally.refused++;
    expect({ shadow: shadow.status, disabled: disabled.status }).toEqual({ shadow: 403, disabled: 403 });
  });

  /**
   * FINDING (low, fixed): an ordinary agency's registry admin tells another agency's principal ids from
   * random ones: a real one is `403 REGISTRY.OWN_AGENCY_ONLY`, a random one `404
   * REGISTRY.PRINCIPAL_NOT_FOUND`, on key issue, disablement and key revocation (the threat model, C3,
   * promises the same answer for an existing and a missing agency; principals are not covered).
   * Correct behaviour: one answer for "not yours" and "not there" unless the caller may manage it.
   */
  it("an agency's registry admin cannot tell another agency's principal ids from random ones", async () => {
    tally.attacks++;
    const admin = await ledger.principal('ngo', ['registry-admin'], ngo.agencyId);
    const requestId = '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b';
    const send = (method: string, path: string, body: unknown) =>
      fetch(`${ledger.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${admin.apiKey}`,
          'content-type': 'application/json',
          'x-request-id': requestId,
        },
        body: JSON.stringify(body),
      });
    const differing: string[] = [];
    for (const [name, path, body] of [
      ['key issue', (id: string) => `/principals/${id}/api-keys`, {}],
      ['disablement', (id: string) => `/principals/${id}/disablement`, { reason: 'offboarded' }],
      ['revocation', (id: string) => `/principals/${id}/api-keys/AAAAAAAAAAAA/revocation`, {}],
    ] as const) {
      const real = await fingerprint(await send('POST', path(clinic.principalId), body));
      const random = await fingerprint(await send('POST', path(randomUUID()), body));
      tally.pairs++;
      tally.attempts += 2;
      if (real !== random) {
        tally.distinguishable++;
        differing.push(name);
      } else tally.refused += 2;
    }
    lines.push(
      `  registry admin probing another agency's principal ids: distinguishable ${differing.length} of 3 (${differing.join(', ')})`,
    );
    expect(differing).toEqual([]);
  });
});
