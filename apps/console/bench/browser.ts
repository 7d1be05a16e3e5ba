/**
 * The handoff board and the access log with 10,000 rows in Debian's Chromium (playwright-core,
 * /usr/bin/chromium), the production build: time from "Sign in" to the first rows, to re-sort, to
 * reach the last rows (scroll to the end, and the last page), and to filter. A small server stands
 * in for the ledger and answers every row in one page. Each figure is paired, in the same run,
 * with the same screen holding one page of rows (the baseline). Prints figures, writes
 * bench/results/console-browser.json (not with CONSOLE_DIST), asserts nothing.
 *
 *   npm run bench:console-browser                      # builds the console first
 *   CONSOLE_DIST=/tmp/other-build npm run bench:console-browser   # an existing build (base /console/)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { at, entriesOf, referralsOf } from './rows';

const ROOT = join(__dirname, '..', '..', '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ROWS = Number(process.env.ROWS ?? 10_000);
const BASELINE_ROWS = 100;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

function build(): { dir: string; temporary: boolean } {
  if (process.env.CONSOLE_DIST) return { dir: process.env.CONSOLE_DIST, temporary: false };
  const dir = mkdtempSync(join(tmpdir(), 'nrm-console-bench-'));
  const steps: ReadonlyArray<readonly [string, readonly string[], Record<string, string>]> = [
    ['npm', ['run', '-s', 'console:api'], {}],
    [
      process.execPath,
      [
        join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'apps/console/vite.config.mjs',
        '--logLevel',
        'warn',
      ],
      { NODE_ENV: 'production', CONSOLE_OUT_DIR: dir },
    ],
  ];
  for (const [command, args, env] of steps) {
    const run = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr}`);
  }
  return { dir, temporary: true };
}

/** The console's files, and a ledger answering `rows` rows in one page (by status or outcome). */
async function serve(dist: string, rows: () => number): Promise<{ base: string; close: () => void }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.svg': 'image/svg+xml',
  };
  const cache = new Map<
    number,
    { referrals: ReturnType<typeof referralsOf>; entries: ReturnType<typeof entriesOf> }
  >();
  const data = (n: number) => {
    if (!cache.has(n)) cache.set(n, { referrals: referralsOf(n), entries: entriesOf(n) });
    return cache.get(n)!;
  };
  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://bench');
    if (url.pathname === '/console' || url.pathname.startsWith('/console/')) {
      const rel = normalize(url.pathname.slice('/console/'.length) || 'index.html');
      const file = join(dist, rel.startsWith('..') ? 'index.html' : rel);
      const path = existsSync(file) && extname(file) ? file : join(dist, 'index.html');
      return send(res, 200, types[extname(path)] ?? 'application/octet-stream', readFileSync(path));
    }
    const n = rows();
    const status = url.searchParams.get('status');
    const outcome = url.searchParams.get('outcome');
    const body =
      url.pathname === '/coordinator/handoff-board'
        ? {
            at: at(n),
            referrals: data(n).referrals.filter((r) => !status || r.status === status),
            summary: { referrals: n, overdue: 0, escalated: 0 },
          }
        : url.pathname === '/oversight/access-attempts'
          ? { entries: data(n).entries.filter((e) => !outcome || e.outcome === outcome) }
          : url.pathname === '/oversight/break-glass'
            ? { entries: [] }
            : [];
    return send(res, 200, 'application/json', JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** In the page: run `act`, then wait until `done()` holds and a frame has been painted. */
async function inPage(page: Page, act: string, done: string): Promise<number> {
  return page.evaluate<number>(`(async () => {
    const t0 = performance.now();
    ${act};
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    do await frame(); while (!(${done}));
    return performance.now() - t0;
  })()`);
}

interface Figures {
  render: number;
  sort?: number;
  scroll: number;
  lastPage?: number;
  filter: number;
}

async function measure(page: Page, base: string, screen: 'board' | 'log'): Promise<Figures> {
  const table = screen === 'board' ? 'table.board' : 'table.access-log';
  const rowsShown = `document.querySelectorAll('${table} tbody tr').length > 0`;
  await page.goto(`${base}/console/`);
  await page.getByLabel('API key or bearer token').fill('bench-key');
  await page.getByLabel(screen === 'board' ? /coordinator/i : /oversight/i).check();
  if (screen === 'log') {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Access log' }).waitFor();
  }
  const render = await inPage(
    page,
    screen === 'board'
      ? `[...document.querySelectorAll('button')].find((b) => b.textContent === 'Sign in').click()`
      : `[...document.querySelectorAll('button')].find((b) => b.textContent === 'Access log').click()`,
    rowsShown,
  );
  const sort =
    screen === 'board'
      ? await inPage(
          page,
          `document.querySelectorAll('button.sort')[1].click()`,
          `document.querySelector('th[aria-sort]') === document.querySelectorAll('button.sort')[1].closest('th')`,
        )
      : undefined;
  const scroll = await inPage(page, `window.scrollTo(0, document.documentElement.scrollHeight)`, 'true');
  const hasLast = await page.getByRole('button', { name: 'Last loaded page' }).count();
  const lastPage = hasLast
    ? await inPage(
        page,
        `[...document.querySelectorAll('button')].find((b) => b.textContent === 'Last loaded page').click()`,
        'true',
      )
    : undefined;
  await page.evaluate('window.scrollTo(0, 0)');
  const select = screen === 'board' ? 'Status' : 'Outcome';
  await page.getByLabel(select, { exact: true }).selectOption(screen === 'board' ? 'accepted' : 'refused');
  const filter = await inPage(
    page,
    `[...document.querySelectorAll('button')].find((b) => b.textContent === '${screen === 'board' ? 'Show board' : 'Search'}').click()`,
    `![...document.querySelectorAll('p[role=status]')].some((p) => p.textContent === 'Loading…') && ${rowsShown}`,
  );
  return { render, sort, scroll, lastPage, filter };
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM} (apt-get install -y chromium)`);
  const { dir, temporary } = build();
  let rows = ROWS;
  const server = await serve(dir, () => rows);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  const results: Record<string, unknown>[] = [];
  try {
    for (const screen of ['board', 'log'] as const) {
      const large: Figures[] = [];
      const small: Figures[] = [];
      // Paired rounds, alternating: the one-page baseline sees the same machine load as the 10,000.
      for (let round = 0; round < ROUNDS; round++)
        for (const [n, into] of [
          [BASELINE_ROWS, small],
          [ROWS, large],
        ] as const) {
          rows = n;
          const context = await browser.newContext({
            locale: 'en-GB',
            viewport: { width: 1280, height: 900 },
          });
          const page = await context.newPage();
          into.push(await measure(page, server.base, screen));
          await context.close();
        }
      const median = (fs: Figures[], key: keyof Figures) => {
        const xs = fs
          .map((f) => f[key])
          .filter((x): x is number => x !== undefined)
          .sort((a, b) => a - b);
        return xs.length === 0 ? undefined : Math.round(xs[Math.floor(xs.length / 2)]!);
      };
      const figures = (['render', 'sort', 'scroll', 'lastPage', 'filter'] as const)
        .map((key) => [key, median(large, key), median(small, key)] as const)
        .filter(([, x]) => x !== undefined);
      results.push({
        screen: screen === 'board' ? 'handoff board' : 'access log',
        rows: ROWS,
        baselineRows: BASELINE_ROWS,
        figures: Object.fromEntries(figures.map(([key, x, y]) => [key, { rows: x, baseline: y }])),
      });
      const parts = figures.map(([key, x, y]) => `${key} ${x} ms (${BASELINE_ROWS} rows: ${y} ms)`);
      console.log(
        `console ${screen === 'board' ? 'handoff board' : 'access log'} in Chromium: ${ROWS} rows, ` +
          `median of ${ROUNDS} rounds: ${parts.join(', ')}`,
      );
    }
    if (temporary) {
      const target = join(ROOT, 'bench', 'results', 'console-browser.json');
      const report = {
        name: 'console-browser',
        node: process.version,
        browser: `${CHROMIUM} ${browser.version()}`,
        date: new Date().toISOString(),
        what: `the handoff board and the access log with ${ROWS} rows: median ms from the click to the painted frame (production build)`,
        baselineWhat: `the same screens with ${BASELINE_ROWS} rows, in paired rounds`,
        rounds: ROUNDS,
        results,
      };
      writeFileSync(target, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`wrote ${target}`);
    }
  } finally {
    await browser.close();
    server.close();
    if (temporary) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
