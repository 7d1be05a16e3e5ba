/**
 * Insider attacks on a receiver's standing (the round 4 finding on referrals sent in error): a
 * referral declined, or withdrawn before it was accepted, gives its receiver no standing, and the
 * case answers it exactly like an unknown one; a receiver that accepted keeps its standing as a
 * party when the referral is withdrawn later, but is no longer seized (decides no grounds). Each
 * attack counts attempts, refusals and leaks; the suite prints them.
 *
 * Invented data only.
 */
import { randomUUID } from 'node:crypto';
import { Ledger, type Answer, type Principal } from './harness';

const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const CANARY = 'Orsolya Brandtvik-Menz';
const REPORT = {
  indicators: ['debt-bondage', 'restricted-movement'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
  identity: { fullName: CANARY, birthDate: '1990-05-06', nationality: 'MD', contact: '+00 222 3333' },
};
const WRITTEN = { method: 'written', language: 'ro', interpreterUsed: true };
const JUSTIFICATION = 'Person missing from the shelter; imminent danger, location needed now (test).';
const referral = (toAgencyId: string, purpose = 'protection') => ({
  toAgencyId,
  purpose,
  servicesRequested: purpose === 'assistance' ? ['accommodation'] : [],
  urgency: 'urgent',
  respondBy: inDays(2),
  sharedCategories: [],
});

const statusOf = (f: string) => (JSON.parse(f) as { status: number }).status;
const codeOf = (a: Answer) => (typeof a.body.code === 'string' ? a.body.code : '');
const tally = { attacks: 0, attempts: 0, refused: 0, leaked: 0, pairs: 0, distinguishable: 0, fivexx: 0 };
const lines: string[] = [];

/** Status, headers but date and request id, and body with ids masked: everything a caller can compare. */
async function fingerprint(response: Response): Promise<string> {
  const headers = [...response.headers.entries()]
    .filter(([name]) => name !== 'date' && name !== 'x-request-id')
    .map(([name, value]) => `${name}: ${value}`)
    .sort();
  const body = (await response.text())
    .replace(/"requestId":"[^"]*"/g, '"requestId":"-"')
    .replace(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, ':id');
  return JSON.stringify({ status: response.status, headers, body });
}

describe('insider: a receiver’s standing after a referral ends (e2e)', () => {
  let ledger: Ledger;
  let clinic: Principal;
  let police: Principal;
  let shelter: Principal;

  async function ok<T = Record<string, unknown>>(answer: Promise<Answer<T>>, status = 201): Promise<T> {
    const a = await answer;
    expect({ status: a.status, body: a.body }).toMatchObject({ status });
    return a.body;
  }

  async function attempt(answer: Promise<Answer>): Promise<Answer> {
    const a = await answer;
    tally.attempts++;
    if (a.status >= 500) tally.fivexx++;
    if (a.status >= 400 && a.status < 500) tally.refused++;
    if (JSON.stringify(a.body).includes(CANARY)) tally.leaked++;
    return a;
  }

  const read = (p: Principal, c: string, purpose = 'protection') =>
    p.call('GET', `/cases/${c}`, undefined, { 'x-purpose': purpose });
  const glass = (p: Principal, c: string) =>
    p.post(`/cases/${c}/break-glass-reads`, { justification: JUSTIFICATION, purpose: 'protection' });
  const listed = async (p: Principal, c: string) =>
    JSON.stringify((await p.get('/cases?limit=100')).body).includes(c);
  const report = () => ok<{ caseId: string }>(clinic.post('/cases', REPORT));
  const refer = (c: string, to: Principal, purpose = 'protection') =>
    ok<{ referralId: string }>(clinic.post(`/cases/${c}/referrals`, referral(to.agencyId, purpose)));
  /** Consent recorded by the clinic (in contact) for `to`: identity and case status, protection. */
  const consentFor = (c: string, to: Principal) =>
    ok(
      clinic.post(`/cases/${c}/consents`, {
        agencyIds: [to.agencyId],
        categories: ['identity', 'case-status'],
        purposes: ['protection'],
        expiresAt: inDays(90),
        capture: WRITTEN,
      }),
    );

  /** Whether `p` can tell case `c` from a random id, over reads, as-of, break-glass and a command. */
  async function distinguishable(p: Principal, c: string): Promise<string[]> {
    const fake = randomUUID();
    const probes: Array<[string, (id: string) => Promise<Response>]> = [
      ['read', (id) => raw(p, 'GET', `/cases/${id}`, undefined, { 'x-purpose': 'protection' })],
      [
        'read as-of',
        (id) =>
          raw(p, 'GET', `/cases/${id}?asOf=${new Date(Date.now() - 1000).toISOString()}`, undefined, {
            'x-purpose': 'protection',
          }),
      ],
      [
        'break-glass',
        (id) =>
          raw(p, 'POST', `/cases/${id}/break-glass-reads`, {
            justification: JUSTIFICATION,
            purpose: 'protection',
          }),
      ],
      ['referral', (id) => raw(p, 'POST', `/cases/${id}/referrals`, referral(clinic.agencyId))],
      [
        'grounds',
        (id) => raw(p, 'POST', `/cases/${id}/reasonable-grounds-decision`, { outcome: 'positive' }),
      ],
    ];
    const differ: string[] = [];
    for (const [name, probe] of probes) {
      tally.pairs++;
      const [real, random] = [await fingerprint(await probe(c)), await fingerprint(await probe(fake))];
      if (real.replace(c, ':id') !== random || real.includes(CANARY)) {
        tally.distinguishable++;
        differ.push(name);
      }
    }
    return differ;
  }

  const raw = (
    p: Principal,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${ledger.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${p.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => {
      if (r.status >= 500) tally.fivexx++;
      return r;
    });

  beforeAll(async () => {
    ledger = await Ledger.boot();
    clinic = await ledger.principal('health', ['caseworker'], 'st-clinic');
    police = await ledger.principal(
      'law-enforcement',
      ['caseworker', 'decision-maker', 'break-glass'],
      'st-police',
    );
    shelter = await ledger.principal('shelter', ['caseworker', 'break-glass'], 'st-shelter');
  }, 60_000);

  afterAll(async () => {
    console.log(
      `insider-standing: attacks ${tally.attacks}, attempts ${tally.attempts}, refused ${tally.refused}, ` +
        `leaked ${tally.leaked}, pairs ${tally.pairs}, distinguishable ${tally.distinguishable}, 5xx ${tally.fivexx}\n` +
        lines.join('\n'),
    );
    await ledger?.close();
    expect(tally.fivexx).toBe(0);
  });

  it('a receiver that declined, then was referred again and accepted, regains its standing', async () => {
    tally.attacks++;
    const c = await report();
    await consentFor(c.caseId, police);
    const r1 = await refer(c.caseId, police);
    await ok(police.post(`/referrals/${r1.referralId}/acknowledgement`), 200);
    await ok(police.post(`/referrals/${r1.referralId}/decline`, { reason: 'out-of-area' }), 200);
    const afterDecline = {
      listed: await listed(police, c.caseId),
      read: (await attempt(read(police, c.caseId))).status,
      differ: await distinguishable(police, c.caseId),
    };
    const r2 = await refer(c.caseId, police);
    await ok(police.post(`/referrals/${r2.referralId}/acknowledgement`), 200);
    await ok(police.post(`/referrals/${r2.referralId}/acceptance`), 200);
    const regained = await read(police, c.caseId);
    const grounds = await police.post(`/cases/${c.caseId}/reasonable-grounds-decision`, {
      outcome: 'positive',
    });
    lines.push(
      `  declined -> re-referred -> accepted: after decline listed ${afterDecline.listed}, read ${afterDecline.read}, ` +
        `told apart on [${afterDecline.differ.join(', ')}]; after acceptance listed ${await listed(police, c.caseId)}, ` +
        `read ${regained.status} (name ${JSON.stringify(regained.body).includes(CANARY)}), grounds ${grounds.status} ${codeOf(grounds)}`,
    );
    expect(afterDecline).toEqual({ listed: false, read: 404, differ: [] });
    expect(await listed(police, c.caseId)).toBe(true);
    expect(regained.status).toBe(200);
    expect(JSON.stringify(regained.body)).toContain(CANARY);
    expect(codeOf(grounds)).not.toBe('CASE.NOT_FOUND');
  });

  it('a receiver whose accepted referral is withdrawn keeps its standing as a party, not seized', async () => {
    tally.attacks++;
    const c = await report();
    await consentFor(c.caseId, police);
    const r = await refer(c.caseId, police);
    await ok(police.post(`/referrals/${r.referralId}/acknowledgement`), 200);
    await ok(police.post(`/referrals/${r.referralId}/acceptance`), 200);
    await ok(clinic.post(`/referrals/${r.referralId}/withdrawal`, { reason: 'no-longer-needed' }), 200);
    const kept = await read(police, c.caseId);
    const grounds = await attempt(
      police.post(`/cases/${c.caseId}/reasonable-grounds-decision`, { outcome: 'positive' }),
    );
    const isListed = await listed(police, c.caseId);
    lines.push(
      `  accepted then withdrawn: listed ${isListed}, read ${kept.status}, grounds ${grounds.status} ${codeOf(grounds)}`,
    );
    expect(isListed).toBe(true);
    expect(kept.status).toBe(200);
    expect({ status: grounds.status, code: codeOf(grounds) }).toEqual({
      status: 404,
      code: 'CASE.NOT_FOUND',
    });
  });

  it('two referrals to one agency: one withdrawn leaves the other’s standing; both withdrawn leave none', async () => {
    tally.attacks++;
    const c = await report();
    await consentFor(c.caseId, shelter);
    const r1 = await refer(c.caseId, shelter, 'assistance');
    const r2 = await refer(c.caseId, shelter, 'protection');
    await ok(clinic.post(`/referrals/${r1.referralId}/withdrawal`, { reason: 'sent-in-error' }), 200);
    const oneLive = { listed: await listed(shelter, c.caseId), read: (await read(shelter, c.caseId)).status };
    await ok(clinic.post(`/referrals/${r2.referralId}/withdrawal`, { reason: 'sent-in-error' }), 200);
    const none = {
      listed: await listed(shelter, c.caseId),
      read: (await attempt(read(shelter, c.caseId))).status,
      glass: (await attempt(glass(shelter, c.caseId))).status,
      differ: await distinguishable(shelter, c.caseId),
    };
    // What the receiver's inbox still says: that referrals addressed to it were withdrawn, no case id.
    const inbox = (await shelter.get('/referrals?direction=in&limit=100')).body as {
      referrals: Array<{ referralId: string; status: string; caseId?: string }>;
    };
    const rows = inbox.referrals.filter((x) => [r1.referralId, r2.referralId].includes(x.referralId));
    const withCase = rows.filter((x) => x.caseId !== undefined).length;
    lines.push(
      `  two referrals: one withdrawn listed ${oneLive.listed}, read ${oneLive.read}; both withdrawn listed ${none.listed}, ` +
        `read ${none.read}, break-glass ${none.glass}, told apart on [${none.differ.join(', ')}]; inbox rows ${rows.length} ` +
        `(${rows.map((x) => x.status).join(',')}), with case id ${withCase}`,
    );
    expect(oneLive).toEqual({ listed: true, read: 200 });
    expect(none).toEqual({ listed: false, read: 404, glass: 404, differ: [] });
    expect(rows.map((x) => x.status)).toEqual(['withdrawn', 'withdrawn']);
    expect(withCase).toBe(0);
  });

  it('break-glass after a decline answers as for a random case, byte for byte', async () => {
    tally.attacks++;
    const c = await report();
    const r = await refer(c.caseId, police);
    await ok(police.post(`/referrals/${r.referralId}/acknowledgement`), 200);
    await ok(police.post(`/referrals/${r.referralId}/decline`, { reason: 'out-of-area' }), 200);
    tally.pairs++;
    const real = await fingerprint(
      await raw(police, 'POST', `/cases/${c.caseId}/break-glass-reads`, {
        justification: JUSTIFICATION,
        purpose: 'protection',
      }),
    );
    const random = await fingerprint(
      await raw(police, 'POST', `/cases/${randomUUID()}/break-glass-reads`, {
        justification: JUSTIFICATION,
        purpose: 'protection',
      }),
    );
    tally.attempts++;
    if (real.includes('"status":404')) tally.refused++;
    if (real.includes(CANARY)) tally.leaked++;
    if (real !== random) tally.distinguishable++;
    lines.push(
      `  break-glass after decline: ${statusOf(real)} vs random ${statusOf(random)}, same ${real === random}`,
    );
    expect(real).toBe(random);
  });

  it('the reporter keeps its standing after withdrawing its own referral sent in error; the receiver has none', async () => {
    tally.attacks++;
    const c = await ok<{ caseId: string }>(police.post('/cases', REPORT));
    const byClinic = await attempt(clinic.post(`/cases/${c.caseId}/referrals`, referral(police.agencyId)));
    // The clinic is no party: it cannot refer; the police refer to the shelter and withdraw in error.
    const own = await ok<{ referralId: string }>(
      police.post(`/cases/${c.caseId}/referrals`, referral(shelter.agencyId, 'assistance')),
    );
    await ok(police.post(`/referrals/${own.referralId}/withdrawal`, { reason: 'sent-in-error' }), 200);
    const reporterListed = await listed(police, c.caseId);
    const shelterDiffer = await distinguishable(shelter, c.caseId);
    lines.push(
      `  reporter: clinic (no party) refers ${byClinic.status}; reporter listed ${reporterListed}; ` +
        `shelter (withdrawn in error) told apart on [${shelterDiffer.join(', ')}]`,
    );
    expect(reporterListed).toBe(true);
    expect(shelterDiffer).toEqual([]);
  });
});
