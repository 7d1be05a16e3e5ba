/**
 * The outside attacker against the web console in a real browser (Debian's Chromium through
 * playwright-core): markup planted where the console renders values it did not write, an agency
 * name (registered by the coordinator's registry admin) and a break-glass justification (free
 * text), then a shelter caseworker and an oversight officer open their workspaces. Counted: markup
 * elements that reached the DOM, CSP violations, credentials left in storage after sign-out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Ledger, Principal } from './harness';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
const DAY_MS = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();
const MARKUP = `<img src=x id=oa-img onerror="window.oaPwned=1"><svg id=oa-svg onload="window.oaPwned=2"></svg>`;
// In-page code as a string: this suite compiles without the DOM's types.
const INJECTED = `document.querySelectorAll('#oa-img, #oa-svg, img[src="x"]').length + (window.oaPwned ? 100 : 0)`;

describeWithBrowser('the web console against planted markup (e2e, Chromium)', () => {
  let ledger: Ledger;
  let consoleDir: string;
  let profileDir: string;
  let context: BrowserContext;
  let shelter: Principal;
  let oversight: Principal;
  let justificationPlanted = false;
  const csp: string[] = [];
  const tally = { screens: 0, injected: 0, cspViolations: 0, storageLeft: 0 };

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
    const coordinator = await ledger.principal(
      'national-coordinator',
      ['coordinator', 'registry-admin'],
      'oa-ui-nc',
    );
    oversight = await ledger.principal('oversight-body', ['oversight'], 'oa-ui-dpa');
    shelter = await ledger.principal('shelter', ['caseworker'], 'oa-ui-shelter');
    const police = await ledger.principal('law-enforcement', ['caseworker', 'break-glass'], 'oa-ui-police');
    // The hostile agency: its name is markup.
    const agency = await coordinator.post<{ agencyId: string }>('/agencies', {
      name: `Clinic ${MARKUP}`,
      kind: 'health',
      country: 'NL',
    });
    expect(agency.status).toBe(201);
    // Its first seat and key are the operator's to enrol (the coordinator issues no key for another agency).
    const hostile = await ledger.principal('health', ['caseworker'], agency.body.agencyId);
    const report = await hostile.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    const c = report.body.caseId;
    for (const [to, purpose] of [
      [shelter.agencyId, 'assistance'],
      [police.agencyId, 'protection'],
    ] as const)
      expect(
        (
          await hostile.post(`/cases/${c}/referrals`, {
            toAgencyId: to,
            purpose,
            servicesRequested: purpose === 'assistance' ? ['accommodation'] : [],
            urgency: 'urgent',
            respondBy: inDays(2),
            sharedCategories: [],
          })
        ).status,
      ).toBe(201);
    const glass = await police.post(`/cases/${c}/break-glass-reads`, {
      justification: `Person missing from the shelter, location needed now ${MARKUP}`,
      purpose: 'protection',
    });
    // Refusing markup in a justification is a defence too; then only the agency name is planted.
    expect([200, 400]).toContain(glass.status);
    justificationPlanted = glass.status === 200;
    profileDir = mkdtempSync(join(tmpdir(), 'nrm-oa-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      locale: 'en-GB',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await ledger?.close();
    for (const dir of [consoleDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(
      `outside-console: screens ${tally.screens}, markup elements injected ${tally.injected}, ` +
        `CSP violations ${tally.cspViolations}, credentials left in storage after sign-out ${tally.storageLeft}`,
    );
  });

  async function open(key: string, workspace: RegExp, keep: boolean): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) csp.push(message.text());
    });
    await page.goto(`${ledger.base}/console/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('API key or bearer token').fill(key);
    if (keep) await page.getByLabel(/keep me signed in/i).check();
    await page.getByLabel(workspace).check();
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  async function signOutAndCheck(page: Page, key: string): Promise<void> {
    await page.getByRole('button', { name: /Sign out/i }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const stored = await page.evaluate<string>(
      `JSON.stringify([Object.values(sessionStorage), Object.values(localStorage), document.cookie, location.href])`,
    );
    if (stored.includes(key.slice(4, 16))) tally.storageLeft++;
    expect(stored).not.toContain(key.slice(4, 16));
  }

  it('a shelter caseworker sees the hostile sender named, as text', async () => {
    const page = await open(shelter.apiKey, /Caseworker/, true);
    await page.getByRole('heading', { name: 'Referrals waiting for me' }).waitFor();
    await page.getByText('Clinic <img', { exact: false }).first().waitFor();
    tally.screens++;
    const injected = await page.evaluate<number>(INJECTED);
    tally.injected += injected;
    expect(injected).toBe(0);
    await signOutAndCheck(page, shelter.apiKey);
    await page.close();
  });

  it('an oversight officer reads the hostile justification, as text', async () => {
    const page = await open(oversight.apiKey, /Oversight/, true);
    await page.getByRole('heading', { name: 'Break-glass reads waiting for review' }).waitFor();
    if (justificationPlanted)
      await page.getByText('location needed now <img', { exact: false }).first().waitFor();
    else await page.waitForTimeout(500);
    tally.screens++;
    const injected = await page.evaluate<number>(INJECTED);
    tally.injected += injected;
    expect(injected).toBe(0);
    await signOutAndCheck(page, oversight.apiKey);
    tally.cspViolations = csp.length;
    expect(csp).toEqual([]);
    await page.close();
  });
});
