/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against a booted
 * ledger seeded by the demo: the three journeys of CONSOLE.md, each screen checked with axe-core,
 * one journey by keyboard alone, the Content-Security-Policy enforced, and the first load's size.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { seedDemo, type DemoResult } from '../../apps/ledger-cli/src/demo';
import { loadConfig } from '@nrm/runtime';
import { CONSOLE_CSP } from '../../apps/ledger-api/src/http/console-static';
import { MERKLE_LOG } from '../../apps/ledger-api/src/audit/audit.module';
import { writeExport, type MerkleLog } from '@nrm/audit';
import { Ledger } from './harness';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'console') : undefined;

if (!existsSync(CHROMIUM) && process.env.CI)
  throw new Error(
    `${CHROMIUM} is missing: the console's browser tests need Debian's chromium (apt-get install -y --no-install-recommends chromium; .ci/run installs it)`,
  );
const describeWithBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.log(`console e2e skipped: no browser at ${CHROMIUM} (CI fails instead)`);

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly nodes: ReadonlyArray<{ readonly target: readonly string[] }>;
}

describeWithBrowser('web console in Chromium', () => {
  let ledger: Ledger;
  let demo: DemoResult;
  let context: BrowserContext;
  let consoleDir: string;
  let profileDir: string;
  const cspViolations: string[] = [];
  const axeChecked: string[] = [];
  let seriousViolations = 0;

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'nrm-console-build-'));
    // The typed client and the vocabulary lists, from docs/openapi/openapi.json (build:console does the same).
    const types = spawnSync('npm', ['run', '-s', 'console:api'], { cwd: ROOT, encoding: 'utf8' });
    if (types.status !== 0) throw new Error(`the console's API types were not generated: ${types.stderr}`);
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
    // The export below reads the API's own log object: the log on the API's loop, not in its thread.
    ledger = await Ledger.boot({ CONSOLE_DIR: consoleDir, AUDIT_LOG_THREAD: 'off' });
    demo = await seedDemo(ledger.store, loadConfig({}).COMPETENT_AGENCY_KINDS);
    profileDir = mkdtempSync(join(tmpdir(), 'nrm-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      locale: 'en-GB',
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await ledger?.close();
    for (const dir of [consoleDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    console.log(
      `console e2e: ${axeChecked.length} screens checked by axe-core (${axeChecked.join(', ')}), ` +
        `${seriousViolations} serious or critical violations, ${cspViolations.length} CSP violations`,
    );
  });

  async function openConsole(): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(`${ledger.base}/console`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    return page;
  }

  async function signIn(page: Page, key: string, workspace: RegExp): Promise<void> {
    await page.getByLabel('API key or bearer token').fill(key);
    await page.getByLabel(workspace).check();
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** axe-core in the page (evaluated, since the page's CSP refuses injected script tags). */
  async function checkAccessibility(page: Page, screen: string): Promise<void> {
    await page.evaluate(AXE);
    // In-page code as strings: this suite compiles without the DOM's types.
    const violations = await page.evaluate<AxeViolation[]>(`
      axe
        .run(document, {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
        })
        .then((result) =>
          result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => ({ target: n.target })) })),
        )
    `);
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    axeChecked.push(screen);
    seriousViolations += serious.length;
    expect(
      serious.map((v) => `${screen}: ${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`),
    ).toEqual([]);
    if (SCREENSHOTS) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `${screen}.png`), fullPage: true });
    }
  }

  it('serves the console under a strict Content-Security-Policy, and the first load is small', async () => {
    const answer = await fetch(`${ledger.base}/console/`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    const html = await answer.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await fetch(`${ledger.base}/console`, { redirect: 'manual' })).headers.get('location')).toBe(
      '/console/',
    );

    const page = await context.newPage();
    const scripts: Promise<Buffer>[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('.js')) scripts.push(response.body());
    });
    await page.goto(`${ledger.base}/console/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const bodies = await Promise.all(scripts);
    const raw = bodies.reduce((n, b) => n + b.length, 0);
    const gzipped = bodies.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
    console.log(
      `console first load: ${bodies.length} JavaScript files, ${(raw / 1024).toFixed(1)} KB raw, ${(gzipped / 1024).toFixed(1)} KB gzip (budget 300 KB)`,
    );
    expect(gzipped).toBeLessThan(300 * 1024);
    await checkAccessibility(page, 'sign-in');
    await page.close();
  });

  it('journey 1: a caseworker answers a referral, opens the case with a purpose and records a service', async () => {
    const page = await openConsole();
    await signIn(page, demo.keys['shelter-dune']!, /Caseworker/);
    await page.getByRole('heading', { name: 'Referrals waiting for me' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Lighthouse Victim Support' });
    await row.getByRole('button', { name: 'Accept' }).waitFor();
    await checkAccessibility(page, 'caseworker-waiting');

    // A decline without a reason: the ledger's answer is shown next to the field it names.
    await row.getByRole('button', { name: 'Decline' }).click();
    await page.getByRole('button', { name: 'Decline referral' }).click();
    const reason = page.getByLabel('Reason for declining');
    // The ledger's answer arrives after the click: wait for the field to be marked, then read it.
    await reason.and(page.locator('[aria-invalid="true"]')).waitFor();
    await expect(reason.getAttribute('aria-invalid')).resolves.toBe('true');
    const describedBy = (await reason.getAttribute('aria-describedby'))!;
    await expect(page.locator(`[id="${describedBy}"]`).textContent()).resolves.toMatch(/reason/i);
    await page.getByRole('button', { name: 'Cancel' }).click();

    await row.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('status').filter({ hasText: 'Referral accepted.' }).waitFor();
    await page
      .getByRole('row')
      .filter({ hasText: 'Accepted' })
      .getByRole('button', { name: 'Complete hand-off' })
      .waitFor();

    // The case: a purpose is chosen, never assumed; what is hidden is named.
    await page
      .getByRole('row')
      .filter({ hasText: 'Lighthouse Victim Support' })
      .getByRole('button', { name: /Open case/ })
      .click();
    await page.getByRole('button', { name: 'Open case' }).click();
    await page.getByText('Choose a purpose: the ledger records why the case was opened.').waitFor();
    await page.getByLabel('Purpose of this view').selectOption('assistance');
    await page.getByRole('button', { name: 'Open case' }).click();
    await page.getByText('Shown for the purpose: Assistance').waitFor();
    await page.getByText('This view is recorded in the access log.').waitFor();
    await page.getByRole('heading', { name: 'Case status' }).waitFor();
    await page
      .getByText('Exploitation: not covered by a consent or lawful basis for your agency and this purpose.')
      .waitFor();
    await checkAccessibility(page, 'caseworker-case');

    await page.getByLabel('Service', { exact: true }).selectOption('accommodation');
    await page.getByRole('button', { name: 'Record service' }).click();
    await page.getByText('Support service recorded.').waitFor();
    await page.close();
  });

  it('journey 1 by keyboard alone: sign in and acknowledge a referral without a pointer', async () => {
    const page = await context.newPage();
    await page.goto(`${ledger.base}/console/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const focusOn = async (name: RegExp, limit = 40) => {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate<string>(`(() => {
          const el = document.activeElement;
          const label = el && el.id ? document.querySelector('label[for="' + el.id + '"]') : null;
          return [el && el.getAttribute('aria-label'), label && label.textContent, el && el.textContent].join(' ');
        })()`);
        if (name.test(focused)) return;
      }
      throw new Error(`no focusable element named ${name} within ${limit} tabs`);
    };
    await focusOn(/API key or bearer token/);
    await page.keyboard.type(demo.keys['nrm-romania']!);
    await focusOn(/^\s*Sign in\s*$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Referrals waiting for me' }).waitFor();
    await page.getByRole('button', { name: 'Acknowledge' }).waitFor();
    await focusOn(/^\s*Acknowledge\s*$/);
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: 'Referral acknowledged.' }).waitFor();
    await focusOn(/^\s*Sign out\s*$/, 60);
    await page.keyboard.press('Enter');
    await page.getByText('You are signed out. Your credential was cleared from this browser.').waitFor();
    expect(
      await page.evaluate<string>('JSON.stringify({ ...sessionStorage, ...localStorage })'),
    ).not.toContain(demo.keys['nrm-romania']!);
    await page.close();
  });

  it('journey 2: the coordinator finds the answered referral on the board, with p50/p90 and no identity', async () => {
    const page = await openConsole();
    await signIn(page, demo.keys['nrm-coordinator']!, /National coordinator/);
    await page.getByRole('heading', { name: 'Handoff board' }).waitFor();
    const shelterReferral = page.locator(`tr[data-referral="${demo.referrals['shelter-dune']}"]`);
    await shelterReferral.waitFor();
    await expect(shelterReferral.textContent()).resolves.toMatch(/Dune Safe House.*Accepted/);
    await page.getByRole('table', { name: 'Response times' }).waitFor();
    await page.getByRole('button', { name: /Sort by Time to acknowledge/ }).click();
    await expect(
      page.getByRole('columnheader', { name: /Time to acknowledge/ }).getAttribute('aria-sort'),
    ).resolves.toBe('ascending');
    await page.getByLabel('Receiving agency').selectOption('shelter-dune');
    await page.getByRole('button', { name: 'Show board' }).click();
    await page.getByText(/^1 referrals,/).waitFor();
    await checkAccessibility(page, 'coordinator-board');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).not.toContain(demo.subjectId);
    expect(text).not.toContain(demo.caseId);

    await page.getByRole('button', { name: 'Statistics' }).click();
    await page.getByRole('heading', { name: 'Statistics' }).waitFor();
    await page.locator('td[data-suppressed="true"]').first().waitFor();
    await checkAccessibility(page, 'coordinator-statistics');
    await page.close();
  });

  it('journey 3: oversight reviews a break-glass read, searches the log; the report prints in Romanian', async () => {
    const read = await fetch(`${ledger.base}/cases/${demo.caseId}/break-glass-reads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${demo.breakGlass.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        purpose: 'protection',
        justification: 'Person reported missing from the safe house; duty officer assessed a risk to life.',
      }),
    });
    expect(read.status).toBe(200);

    const page = await openConsole();
    await signIn(page, demo.keys['oversight-dpa']!, /Oversight/);
    await page.getByRole('heading', { name: 'Break-glass reads waiting for review' }).waitFor();
    await page
      .getByText('Person reported missing from the safe house; duty officer assessed a risk to life.')
      .waitFor();
    await checkAccessibility(page, 'oversight-break-glass');
    await page.getByLabel('Finding').selectOption('justified');
    await page.getByLabel('Your reference (file number)').fill('DPA-2026-0117');
    await page.getByRole('button', { name: 'Record review' }).click();
    await page.getByRole('status').filter({ hasText: 'Review recorded.' }).waitFor();
    await page.getByText('No break-glass read waits for review.').waitFor();

    await page.getByRole('button', { name: 'Access log' }).click();
    await page.getByLabel('Person reference (subject id)').fill(demo.subjectId);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('table.access-log tbody tr').first().waitFor();
    await checkAccessibility(page, 'oversight-access-log');
    const printed = await page.pdf({ format: 'A4' });
    expect(printed.subarray(0, 5).toString()).toBe('%PDF-');

    await page.getByRole('button', { name: 'Integrity' }).click();
    await page.getByRole('heading', { name: 'Integrity of the access trail' }).waitFor();
    await page
      .getByText(/Events covered|No checkpoint has been signed yet/)
      .first()
      .waitFor();
    await checkAccessibility(page, 'oversight-integrity');
    await page.close();

    // The subject access report is the assisting caseworker's to request, printed in the person's language.
    const ngo = await openConsole();
    await signIn(ngo, demo.keys['ngo-lighthouse']!, /Caseworker/);
    await ngo.getByRole('button', { name: 'Access report' }).click();
    await ngo.getByLabel('Person reference (subject id)').fill(demo.subjectId);
    // The demo's consent was recorded in Romanian, a language the report (not the interface) has.
    await ngo.getByLabel('Language of the report').selectOption('ro');
    await ngo.getByRole('button', { name: 'Show report' }).click();
    await ngo.getByRole('heading', { name: 'Cine a accesat datele acestei persoane' }).waitFor();
    await ngo.getByText('Acces de urgență').first().waitFor();
    await checkAccessibility(ngo, 'caseworker-access-report');
    await ngo.emulateMedia({ media: 'print' });
    await expect(ngo.getByRole('button', { name: 'Show report' }).isVisible()).resolves.toBe(false);
    const report = await ngo.pdf({ format: 'A4' });
    expect(report.length).toBeGreaterThan(1000);
    await ngo.close();

    expect(cspViolations).toEqual([]);
  });

  it('journey 4: a caseworker records consent, is told why a self-grant is refused, refers, and withdraws', async () => {
    const page = await openConsole();
    await signIn(page, demo.keys['ngo-lighthouse']!, /Caseworker/);
    await page.getByRole('button', { name: 'My cases' }).click();
    await page.getByRole('button', { name: `Open ${demo.caseId}` }).click();
    const consent = page
      .locator('form')
      .filter({ has: page.getByRole('heading', { name: 'Record the person’s consent' }) });
    const agencies = consent.getByRole('group', { name: 'Agencies' });
    await agencies.getByLabel('Labour Inspectorate').check();
    // Naming its own agency widens its access by its own record: the ledger refuses, next to the list.
    await agencies.getByLabel('Lighthouse Victim Support').check();
    await consent.getByRole('group', { name: 'Data categories' }).getByLabel('Case status').check();
    await consent.getByRole('group', { name: 'Purposes' }).getByLabel('Investigation').check();
    await consent.getByLabel('How it was given').selectOption('written');
    await consent.getByLabel(/Language the person was informed in/).fill('ro');
    await consent.getByLabel('An interpreter was used').check();
    await consent.getByRole('button', { name: 'Record consent' }).click();
    await agencies
      .getByText('A consent cannot give your own agency access it does not already have', { exact: false })
      .waitFor();
    await checkAccessibility(page, 'caseworker-consent-refused');
    await expect(consent.getByLabel(/Language the person was informed in/).inputValue()).resolves.toBe('ro');

    await agencies.getByLabel('Lighthouse Victim Support').uncheck();
    await consent.getByRole('button', { name: 'Record consent' }).click();
    const recorded = consent.getByText(/^Consent recorded\. Its reference: /);
    await recorded.waitFor();
    const consentId = ((await recorded.textContent()) ?? '').replace(/^.*: /, '');
    expect(consentId).not.toBe('');

    // The referral shares only what the consent just recorded covers.
    const refer = page
      .locator('form')
      .filter({ has: page.getByRole('heading', { name: 'Make a referral' }) });
    await refer.getByLabel('Receiving agency').selectOption('labour-inspectorate');
    await refer.getByLabel('Purpose').selectOption('investigation');
    await refer.getByRole('group', { name: 'Services requested' }).getByLabel('Legal assistance').check();
    const shared = refer.getByRole('group', { name: 'Data categories shared with the receiver' });
    await shared.getByLabel('Exploitation').check();
    await refer.getByRole('button', { name: 'Make referral' }).click();
    await shared.getByRole('alert').waitFor();
    await shared.getByLabel('Exploitation').uncheck();
    await shared.getByLabel('Case status').check();
    await refer.getByRole('button', { name: 'Make referral' }).click();
    await refer.getByText(/^Referral made\. Its reference: /).waitFor();

    const withdraw = page
      .locator('form')
      .filter({ has: page.getByRole('heading', { name: 'Record a withdrawal of consent' }) });
    await expect(withdraw.getByLabel('Consent reference').inputValue()).resolves.toBe(consentId);
    await withdraw.getByRole('button', { name: 'Record withdrawal' }).click();
    await withdraw.getByText('Withdrawal recorded: the whole consent has ended.').waitFor();
    await checkAccessibility(page, 'caseworker-consent-referral');
    await page.close();
  });

  it('journey 4 by keyboard alone: record a consent and withdraw it without a pointer', async () => {
    const page = await context.newPage();
    await page.goto(`${ledger.base}/console/`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // The focused element's name: its aria-label, its label (by for= or around it), or its text.
    const focusOn = async (name: RegExp, limit = 80) => {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate<string>(`(() => {
          const el = document.activeElement;
          const label = el && el.id ? document.querySelector('label[for="' + el.id + '"]') : null;
          const around = el && el.closest('label');
          return [el && el.getAttribute('aria-label'), label && label.textContent, around && around.textContent, el && el.textContent].join(' ');
        })()`);
        if (name.test(focused)) return;
      }
      throw new Error(`no focusable element named ${name} within ${limit} tabs`);
    };
    await focusOn(/API key or bearer token/);
    await page.keyboard.type(demo.keys['ngo-lighthouse']!);
    await focusOn(/^\s*Sign in\s*$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Referrals waiting for me' }).waitFor();
    await focusOn(/^\s*My cases\s*$/);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: `Open ${demo.caseId}` }).waitFor();
    await focusOn(new RegExp(`Open ${demo.caseId}`));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Record the person’s consent' }).waitFor();
    for (const choice of [/Labour Inspectorate/, /Case status/, /Investigation/]) {
      await focusOn(choice);
      await page.keyboard.press('Space');
    }
    await focusOn(/How it was given/);
    await page.keyboard.press('w');
    await focusOn(/Language the person was informed in/);
    await page.keyboard.type('ro');
    await focusOn(/^\s*Record consent\s*$/);
    await page.keyboard.press('Enter');
    await page.getByText(/^Consent recorded\. Its reference: /).waitFor();
    await focusOn(/^\s*Record withdrawal\s*$/);
    await page.keyboard.press('Enter');
    await page.getByText('Withdrawal recorded: the whole consent has ended.').waitFor();
    await page.close();
  });

  it('journey 5: oversight reads the consent history, verifies an export in the browser, erases with confirmation', async () => {
    const page = await openConsole();
    await signIn(page, demo.keys['oversight-dpa']!, /Oversight/);
    await page.getByRole('heading', { name: 'Break-glass reads waiting for review' }).waitFor();

    await page.getByRole('button', { name: 'Consent history' }).click();
    await page.getByLabel('Person reference (subject id)').fill(demo.subjectId);
    await page.getByRole('button', { name: 'Show history' }).click();
    const history = page.getByRole('table', { name: `Consent events of ${demo.subjectId}` });
    await history.getByRole('row').filter({ hasText: 'Consent given' }).first().waitFor();
    await history
      .getByRole('row')
      .filter({ hasText: 'Consent withdrawn' })
      .getByText('Whole consent')
      .first()
      .waitFor();
    await expect(
      history.getByRole('row').filter({ hasText: 'Consent given' }).first().textContent(),
    ).resolves.toMatch(
      /Harbour Health Clinic.*Lighthouse Victim Support.*Written, in Romanian, with an interpreter/,
    );
    await checkAccessibility(page, 'oversight-consent-history');

    // An export of the whole log as the command-line tool writes it, verified in the page.
    const log = ledger.app.get<MerkleLog>(MERKLE_LOG);
    const checkpoint = (await log.requestCheckpoint())!;
    const lines: string[] = [];
    await writeExport(
      ledger.store,
      log,
      { from: 1, to: checkpoint.treeSize },
      { write: (l) => void lines.push(l) },
    );
    const exportFile = join(profileDir, 'log.ndjson');
    writeFileSync(exportFile, lines.join(''));
    await page.getByRole('button', { name: 'Integrity' }).click();
    await page.getByLabel('Export file (.ndjson)').setInputFiles(exportFile);
    await page.getByRole('button', { name: 'Verify file' }).click();
    await page.getByText('Verified: the file holds the log exactly as the ledger signed it.').waitFor();
    const steps = await Promise.all(
      (await page.locator('ol.verify-steps li').all()).map(
        async (li) => `${await li.getAttribute('data-step')} ${await li.getAttribute('data-result')}`,
      ),
    );
    expect(steps).toEqual([
      'header passed',
      'leaves passed',
      'signatures passed',
      'roots passed',
      expect.stringMatching(/^consistency (passed|skipped)$/),
      'latest passed',
    ]);
    await page.locator('pre').getByText('verify --file log.ndjson --checkpoint checkpoint.json').waitFor();
    await checkAccessibility(page, 'oversight-verify-export');

    // One event changed in the file: the page names the step that fails.
    const tampered = lines.map((line, i) => (i === 3 ? line.replace('"type":"', '"type":"X') : line));
    writeFileSync(exportFile, tampered.join(''));
    await page.getByLabel('Export file (.ndjson)').setInputFiles(exportFile);
    await page.getByRole('button', { name: 'Verify file' }).click();
    await page.locator('ol.verify-steps li[data-step="leaves"][data-result="failed"]').waitFor();

    // Erasure: what goes and what stays is said; nothing happens until the reference is typed again.
    await page.getByRole('button', { name: 'Erasure' }).click();
    await page.getByRole('heading', { name: 'What is removed' }).waitFor();
    await page.getByLabel('Person reference (subject id)').fill(demo.subjectId);
    // Why: a legal ground from the list and a reference code, no prose that could name the person.
    await page.getByLabel('Legal ground').selectOption('subject-request');
    await page.getByLabel(/^Reference/).fill('DPA-2026-0117');
    await page.getByLabel('Type the person reference again to confirm').fill('not the same');
    await page.getByRole('button', { name: 'Erase identity data' }).click();
    await page
      .getByText('The confirmation does not match the person reference: nothing was erased.')
      .waitFor();
    await checkAccessibility(page, 'oversight-erasure');
    await page.getByLabel('Type the person reference again to confirm').fill(demo.subjectId);
    await page.getByLabel('Type the person reference again to confirm').press('Enter');
    await page
      .getByText(`The identity data of ${demo.subjectId} is erased. The erasure is recorded.`)
      .waitFor();
    // A second erasure is refused in words.
    await page.getByLabel('Type the person reference again to confirm').fill(demo.subjectId);
    await page.getByRole('button', { name: 'Erase identity data' }).click();
    await page.getByText('This person’s identity data has already been erased.').waitFor();
    await page.close();
    expect(cspViolations).toEqual([]);
  });
});
