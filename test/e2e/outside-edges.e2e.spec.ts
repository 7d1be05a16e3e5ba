/**
 * The outside attacker at the edges of the ledger (README and threat model read, source not):
 * rate-limit bypasses (spoofed X-Forwarded-For / Forwarded / X-Real-IP, rotating keys of one
 * principal, switching header forms), the web console (its headers, inline script, where the
 * credential could be kept, path traversal out of CONSOLE_DIR into DATA_DIR), and markup in an
 * agency name rendered in the printable subject access report. Counts are printed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ledger } from './harness';

const ROOT = resolve(__dirname, '../..');
const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const REPORT = { indicators: ['debt-bondage'], exploitationForms: ['labour'], minor: false, region: 'NL-ZH' };
const tally = { attacks: 0, attempts: 0, refused: 0, leaked: 0, bypassed: 0 };
const lines: string[] = [];
afterAll(() =>
  console.log(
    `outside-edges: attacks ${tally.attacks}, attempts ${tally.attempts}, refused ${tally.refused}, ` +
      `leaked ${tally.leaked}, bypassed ${tally.bypassed}\n${lines.join('\n')}`,
  ),
);

const spoofed = (i: number): Record<string, string> => ({
  'x-forwarded-for': `203.0.113.${i % 250}`,
  forwarded: `for=198.51.100.${i % 250}`,
  'x-real-ip': `192.0.2.${i % 250}`,
  'true-client-ip': `192.0.2.${(i + 7) % 250}`,
});

describe('rate limits against a spoofing, rotating attacker (e2e)', () => {
  it('failed authentications from spoofed addresses still count against the real one', async () => {
    tally.attacks++;
    const ledger = await Ledger.boot({
      RATE_LIMIT_FAILED_AUTH: '3',
      RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS: '900',
    });
    try {
      const victim = await ledger.principal('ngo', ['caseworker'], 'rl-ngo');
      let checked = 0;
      let limited = 0;
      for (let i = 0; i < 20; i++) {
        const guess = `nrm_${'A'.repeat(12)}_${'b'.repeat(42)}${i}`;
        const a = await fetch(`${ledger.base}/cases`, {
          headers: { authorization: `Bearer ${guess}`, ...spoofed(i) },
        });
        tally.attempts++;
        if (a.status === 401) checked++;
        if (a.status === 429) {
          limited++;
          expect(a.headers.get('retry-after')).toMatch(/^\d+$/);
        }
      }
      // Past the limit a valid key is refused unchecked too, whatever address it claims: a guesser cannot tell a hit.
      const hit = await fetch(`${ledger.base}/cases`, {
        headers: { authorization: `Bearer ${victim.apiKey}`, ...spoofed(99) },
      });
      tally.attempts++;
      if (checked > 3 || hit.status !== 429) tally.bypassed++;
      tally.refused += limited + checked + (hit.status === 429 ? 1 : 0);
      lines.push(
        `  failed-auth with spoofed headers: guesses 20, checked ${checked} (limit 3), limited ${limited}, valid key then ${hit.status}`,
      );
      expect(checked).toBe(3);
      expect(hit.status).toBe(429);
    } finally {
      await ledger.close();
    }
  });

  it('behind a trusted proxy, the address is the one the proxy saw, not one the client put in front', async () => {
    tally.attacks++;
    // The test client plays the ingress (127.0.0.1, trusted); the real client is 192.0.2.77, and it
    // sends an X-Forwarded-For of its own choosing, which the ingress extends with what it saw.
    const ledger = await Ledger.boot({
      RATE_LIMIT_FAILED_AUTH: '3',
      RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS: '900',
      TRUST_PROXY: '127.0.0.1',
    });
    try {
      let checked = 0;
      for (let i = 0; i < 20; i++) {
        const guess = `nrm_${'C'.repeat(12)}_${'d'.repeat(42)}${i}`;
        const a = await fetch(`${ledger.base}/cases`, {
          headers: {
            authorization: `Bearer ${guess}`,
            'x-forwarded-for': `198.51.100.${i}, 10.0.${i}.1, 192.0.2.77`,
          },
        });
        tally.attempts++;
        if (a.status === 401) checked++;
        else tally.refused++;
      }
      // Another client behind the same ingress is not locked out by it.
      const other = await fetch(`${ledger.base}/cases`, {
        headers: {
          authorization: `Bearer nrm_${'E'.repeat(12)}_${'f'.repeat(43)}`,
          'x-forwarded-for': '192.0.2.78',
        },
      });
      if (checked > 3) tally.bypassed++;
      lines.push(
        `  failed-auth behind a trusted proxy, client-chosen X-Forwarded-For prefixes: checked ${checked} of 20 (limit 3), another client then ${other.status}`,
      );
      expect(checked).toBe(3);
      expect(other.status).toBe(401);
    } finally {
      await ledger.close();
    }
  });

  it('a principal past its limit gets nothing more by rotating keys or header forms', async () => {
    tally.attacks++;
    const ledger = await Ledger.boot({ RATE_LIMIT_PER_PRINCIPAL: '10', RATE_LIMIT_WINDOW_SECONDS: '3600' });
    try {
      const coordinator = await ledger.principal(
        'national-coordinator',
        ['coordinator', 'registry-admin'],
        'rl-nc',
      );
      const looper = await ledger.principal('ngo', ['caseworker', 'registry-admin'], 'rl-ngo2');
      // Its own registry admin seat issues fresh keys for itself before the limit bites.
      const keys = [looper.apiKey];
      for (let i = 0; i < 3; i++) {
        const issued = await looper.post<{ apiKey: string }>(`/principals/${looper.principalId}/api-keys`);
        expect(issued.status).toBe(201);
        keys.push(issued.body.apiKey);
      }
      let answered = 3; // the three key issues it was served already
      let limited = 0;
      for (let i = 0; i < 40; i++) {
        const key = keys[i % keys.length]!;
        const headers: Record<string, string> =
          i % 2 === 0 ? { authorization: `Bearer ${key}` } : { 'x-api-key': key };
        const a = await fetch(`${ledger.base}/cases`, { headers: { ...headers, ...spoofed(i) } });
        tally.attempts++;
        if (a.status === 200) answered++;
        if (a.status === 429) limited++;
      }
      // Another principal of the same agency, and the coordinator, are not held back by it.
      expect((await coordinator.get('/registry/disabled')).status).toBe(200);
      if (answered > 10) tally.bypassed++;
      tally.refused += limited;
      lines.push(
        `  per-principal limit 10 with 4 keys, 2 header forms, spoofed addresses: served ${answered}, limited ${limited}`,
      );
      expect(answered).toBeLessThanOrEqual(10);
    } finally {
      await ledger.close();
    }
  });

  it('requests without a credential are limited per real address, not per claimed one', async () => {
    tally.attacks++;
    const ledger = await Ledger.boot({ RATE_LIMIT_PER_ADDRESS: '5', RATE_LIMIT_WINDOW_SECONDS: '3600' });
    try {
      let served = 0;
      for (let i = 0; i < 20; i++) {
        const a = await fetch(`${ledger.base}/openapi.json`, { headers: spoofed(i) });
        tally.attempts++;
        if (a.status === 200) served++;
        else tally.refused++;
      }
      if (served > 5) tally.bypassed++;
      lines.push(`  per-address limit 5, spoofed addresses: served ${served} of 20`);
      expect(served).toBeLessThanOrEqual(5);
    } finally {
      await ledger.close();
    }
  });
});

describe('what an outsider without any credential learns (e2e)', () => {
  /**
   * FIXED (was low; the threat model lets an outsider reach only `/health/live` and `/openapi.json`):
   * `/metrics` now answers only the scraper's METRICS_TOKEN (401 otherwise, 404 when unset), and
   * `/health` names the read-model file, not its path. The finding as it was:
   * `/metrics` and `/health` answer without a credential. `/metrics` counts requests by route and
   * status, so an outsider watching it sees each break-glass read (`POST
   * /cases/:caseId/break-glass-reads` 200), each erasure and each report as it happens; `/health`
   * names the read-model file's path in DATA_DIR and the store's head. The deployment keeps both off
   * the Ingress, but the embedded default serves them to whoever reaches the port. Correct
   * behaviour: without a credential, liveness only (the rest behind the oversight role or a separate
   * port).
   */
  it('learns neither activity by route nor paths on disk', async () => {
    tally.attacks++;
    const ledger = await Ledger.boot();
    try {
      const clinic = await ledger.principal('health', ['caseworker'], 'oa-out-clinic');
      const police = await ledger.principal(
        'law-enforcement',
        ['caseworker', 'break-glass'],
        'oa-out-police',
      );
      const c = (await clinic.post<{ caseId: string }>('/cases', REPORT)).body.caseId;
      await clinic.post(`/cases/${c}/referrals`, {
        toAgencyId: police.agencyId,
        purpose: 'protection',
        servicesRequested: [],
        urgency: 'urgent',
        respondBy: inDays(2),
        sharedCategories: [],
      });
      expect(
        (
          await police.post(`/cases/${c}/break-glass-reads`, {
            justification: 'Person reported missing from the shelter; imminent danger, location needed now.',
            purpose: 'protection',
          })
        ).status,
      ).toBe(200);
      const metrics = await fetch(`${ledger.base}/metrics`);
      const health = await fetch(`${ledger.base}/health`);
      const metricsText = await metrics.text();
      const healthText = await health.text();
      tally.attempts += 2;
      const learnt = [
        ...(metrics.status === 200 &&
        /route="\/cases\/:caseId\/break-glass-reads",status="200"\} 1/.test(metricsText)
          ? ['a break-glass read (/metrics)']
          : []),
        ...(healthText.includes(ledger.dataDir) ? ['the DATA_DIR path (/health)'] : []),
      ];
      if (learnt.length) tally.leaked++;
      else tally.refused += 2;
      lines.push(
        `  outsider without credential: /metrics ${metrics.status}, /health ${health.status}, learns ${learnt.join(' and ') || 'nothing'}`,
      );
      expect(learnt).toEqual([]);
    } finally {
      await ledger.close();
    }
  });
});

describe('the web console and the printable report (e2e)', () => {
  let ledger: Ledger;
  let consoleDir: string;

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'nrm-oa-console-'));
    const build = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'apps/console/vite.config.mjs',
        '--logLevel',
        'warn',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'production', CONSOLE_OUT_DIR: consoleDir },
        encoding: 'utf8',
      },
    );
    if (build.status !== 0) throw new Error(`the console did not build: ${build.stderr}`);
    ledger = await Ledger.boot({ CONSOLE_DIR: consoleDir });
  }, 180_000);
  afterAll(async () => {
    await ledger.close();
    rmSync(consoleDir, { recursive: true, force: true });
  });

  it('serves every console file under a CSP that forbids inline script and framing', async () => {
    tally.attacks++;
    const assets = readdirSync(join(consoleDir, 'assets')).map((f) => `/console/assets/${f}`);
    const served = ['/console/', '/console/index.html', ...assets];
    for (const path of served) {
      const a = await fetch(`${ledger.base}${path}`);
      tally.attempts++;
      expect({ path, status: a.status }).toEqual({ path, status: 200 });
      const csp = a.headers.get('content-security-policy') ?? '';
      expect({ path, csp }).toEqual({ path, csp: expect.stringContaining("frame-ancestors 'none'") });
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).not.toContain('unsafe-inline');
      expect(a.headers.get('x-content-type-options')).toBe('nosniff');
      tally.refused++;
    }
    // A path the console does not have, carrying markup: a problem+json answer, never HTML that reflects it.
    for (const path of [
      '/console/caseworker',
      '/console/%3Cscript%3Ealert(1)%3C%2Fscript%3E',
      '/console/assets/x.js?<svg/onload=alert(1)>',
    ]) {
      const a = await fetch(`${ledger.base}${path}`);
      tally.attempts++;
      expect({ path, status: a.status, type: a.headers.get('content-type') }).toEqual({
        path,
        status: 404,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      tally.refused++;
    }
    const index = await (await fetch(`${ledger.base}/console/`)).text();
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(index).not.toMatch(/\son[a-z]+=/i);
  });

  it('keeps the credential out of localStorage, cookies and the URL (what the built bundle can do)', () => {
    tally.attacks++;
    const bundle = readdirSync(join(consoleDir, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(consoleDir, 'assets', f), 'utf8'))
      .join('\n');
    tally.attempts += 4;
    expect(bundle).not.toContain('localStorage');
    // Nothing read from the URL, so a credential pasted into a link is never picked up.
    expect(bundle).not.toMatch(/location\.(hash|search)/);
    expect(bundle).not.toMatch(/document\.cookie/);
    expect(bundle).not.toMatch(/dangerouslySetInnerHTML:\s*\{\s*__html/);
    tally.refused += 4;
  });

  it('does not serve DATA_DIR, the repository or secrets through path traversal', async () => {
    tally.attacks++;
    const secret = readFileSync(join(ledger.dataDir, 'id-derivation.secret'), 'utf8').trim();
    const paths = [
      '/console/../package.json',
      '/console/%2e%2e/package.json',
      '/console/..%2fpackage.json',
      '/console/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      `/console/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..${ledger.dataDir.replace(/\//g, '%2f')}%2fid-derivation.secret`,
      `/console/${'..%2f'.repeat(12)}${ledger.dataDir.slice(1).replace(/\//g, '%2f')}%2faudit-signing-key.pem`,
      '/console/%252e%252e/package.json',
      '/console/....//package.json',
      '/console/assets/..%5c..%5cpackage.json',
    ];
    for (const path of paths) {
      const a = await fetch(`${ledger.base}${path}`);
      const body = await a.text();
      tally.attempts++;
      const leaked =
        body.includes('"name": "nrm-ledger"') ||
        body.includes(secret) ||
        body.includes('PRIVATE KEY') ||
        body.includes('root:x:0');
      if (leaked) tally.leaked++;
      else tally.refused++;
      expect({ path, leaked }).toEqual({ path, leaked: false });
    }
  });

  it('escapes markup in agency names in the printable subject access report, under a CSP', async () => {
    tally.attacks++;
    const clinic = await ledger.principal('health', ['caseworker'], 'oa-html-clinic');
    const coordinator = await ledger.principal(
      'national-coordinator',
      ['coordinator', 'registry-admin'],
      'oa-html-nc',
    );
    const markup = `<img src=x onerror=alert(1)><script>alert(2)</script>" onmouseover="alert(3)`;
    const agency = await coordinator.post<{ agencyId: string }>('/agencies', {
      name: `Shelter ${markup}`,
      kind: 'shelter',
      country: 'NL',
    });
    tally.attempts++;
    if (agency.status !== 201) {
      // Refusing markup in names is a defence too.
      tally.refused++;
      lines.push(`  markup in an agency name: refused at registration (${agency.status})`);
      return;
    }
    // Its first seat and key are the operator's to enrol (the coordinator issues no key for another agency).
    const shelter = await ledger.principal('shelter', ['caseworker'], agency.body.agencyId);
    const report = await clinic.post<{ caseId: string; subjectId: string }>('/cases', REPORT);
    const c = report.body.caseId;
    expect(
      (
        await clinic.post(`/cases/${c}/consents`, {
          agencyIds: [shelter.agencyId],
          categories: ['case-status'],
          purposes: ['assistance'],
          expiresAt: inDays(30),
          capture: { method: 'written', language: 'ro', interpreterUsed: false },
        })
      ).status,
    ).toBe(201);
    const referral = {
      toAgencyId: shelter.agencyId,
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: inDays(2),
      sharedCategories: ['case-status'],
    };
    expect((await clinic.post(`/cases/${c}/referrals`, referral)).status).toBe(201);
    for (
      let i = 0;
      i < 20 &&
      (await shelter.call('GET', `/cases/${c}`, undefined, { 'x-purpose': 'assistance' })).status !== 200;
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    const html = await fetch(`${ledger.base}/subjects/${report.body.subjectId}/access-report?format=html`, {
      headers: { authorization: `Bearer ${clinic.apiKey}` },
    });
    const text = await html.text();
    expect(html.status).toBe(200);
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const injected = /<img\b|<script\b|<svg\b/i.test(text);
    if (injected) tally.leaked++;
    else tally.refused++;
    const csp = html.headers.get('content-security-policy') ?? '';
    lines.push(
      `  markup in an agency name: accepted, escaped in the HTML report (${injected ? 'INJECTED' : 'inert'}), report CSP "${csp}"`,
    );
    expect(injected).toBe(false);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src/);
  });

  /**
   * Found here (low) and fixed: the console could not be framed, but `/docs` (Swagger UI, where a
   * person pastes a key and presses "Try it out") carried no CSP and no X-Frame-Options, and the
   * printable subject access report's CSP had no `frame-ancestors`. Every HTML answer now refuses it.
   */
  it('no HTML page of the ledger can be framed by another site', async () => {
    tally.attacks++;
    const clinic = await ledger.principal('health', ['caseworker'], 'oa-frame-clinic');
    const report = await clinic.post<{ subjectId: string }>('/cases', REPORT);
    const pages: Array<[string, Record<string, string>]> = [
      ['/console/', {}],
      ['/docs', {}],
      [
        `/subjects/${report.body.subjectId}/access-report?format=html`,
        { authorization: `Bearer ${clinic.apiKey}` },
      ],
    ];
    const frameable: string[] = [];
    for (const [path, headers] of pages) {
      const a = await fetch(`${ledger.base}${path}`, { headers });
      tally.attempts++;
      const csp = a.headers.get('content-security-policy') ?? '';
      const xfo = a.headers.get('x-frame-options') ?? '';
      if (/frame-ancestors 'none'/.test(csp) || /^(deny|sameorigin)$/i.test(xfo)) tally.refused++;
      else frameable.push(path.replace(/[0-9a-f-]{36}/, '{subjectId}'));
    }
    lines.push(
      `  framing: ${frameable.length} of ${pages.length} HTML pages frameable (${frameable.join(', ')})`,
    );
    expect(frameable).toEqual([]);
  });
});
