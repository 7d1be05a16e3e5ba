/**
 * The handoff board and the access log with 10,000 rows loaded (one answer that carries them all,
 * the worst case of a ledger page): time to render, to re-sort, to page, to filter, and the DOM's
 * size, in jsdom with React's development build (a browser with the production build does better;
 * watch the trend). Each screen is measured in the same run with one page of rows as its baseline,
 * in paired rounds: the ratio says what the 10,000 rows cost over one page. Prints figures, writes
 * bench/results/console.json and asserts nothing. Run: npm run bench:console
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { at, entriesOf, referralsOf } from './rows';

const ROWS = Number(process.env.ROWS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const dom = new JSDOM('<!doctype html><html><body></body></html>', {
  url: 'http://ledger.test/console/',
  pretendToBeVisual: true,
});
const globals = globalThis as Record<string, unknown>;
for (const name of [
  'window',
  'document',
  'navigator',
  'HTMLElement',
  'Node',
  'Event',
  'MouseEvent',
  'sessionStorage',
])
  globals[name] = (dom.window as unknown as Record<string, unknown>)[name];
globals.IS_REACT_ACT_ENVIRONMENT = true;

interface Timing {
  render: number;
  sort?: number;
  nextPage: number;
  lastPage: number;
  filter: number;
  elements: number;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  // Imported once the globals exist: React DOM looks for a document when it loads.
  const { act, createElement } = await import('react');
  const { createRoot } = await import('react-dom/client');
  const { ApiContext } = await import('../src/api/context');
  const { ledgerClient } = await import('../src/api/client');
  const { I18nProvider } = await import('../src/i18n/i18n');
  const { HandoffBoard } = await import('../src/coordinator/handoff-board');
  const { AccessLog } = await import('../src/oversight/access-log');
  const { PAGE_SIZE } = await import('../src/ui/pager');
  /** A ledger that answers every row in one page; a status or outcome filter keeps the matching ones. */
  const clientOf = (rows: number) => {
    const referrals = referralsOf(rows);
    const entries = entriesOf(rows);
    const fetch = async (input: RequestInfo | URL): Promise<Response> => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const status = url.searchParams.get('status');
      const outcome = url.searchParams.get('outcome');
      const body =
        url.pathname === '/coordinator/handoff-board'
          ? {
              at: at(rows),
              referrals: status ? referrals.filter((r) => r.status === status) : referrals,
              summary: { referrals: rows, overdue: 0, escalated: 0 },
            }
          : url.pathname === '/oversight/access-attempts'
            ? { entries: outcome ? entries.filter((e) => e.outcome === outcome) : entries }
            : [];
      return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    };
    return ledgerClient({
      credential: 'bench',
      onUnauthorized: () => undefined,
      baseUrl: 'http://ledger.test',
      fetch,
    });
  };
  const screens = [
    ['handoff board', HandoffBoard, 'table.board tbody tr', 'Status', 'accepted', 'Show board'],
    ['access log', AccessLog, 'table.access-log tbody tr', 'Outcome', 'refused', 'Search'],
  ] as const;
  const settle = () => act(() => new Promise<void>((r) => setTimeout(r, 0)));
  const button = (container: HTMLElement, name: string) =>
    [...container.querySelectorAll('button')].find((b) => b.textContent === name);
  const timed = async (work: () => Promise<void>) => {
    const t0 = performance.now();
    await work();
    return performance.now() - t0;
  };

  async function measure(
    screen: (typeof screens)[number],
    rows: number,
    client: ReturnType<typeof clientOf>,
  ): Promise<Timing> {
    const [, component, rowSelector, filterLabel, filterValue, apply] = screen;
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    const start = performance.now();
    await act(async () => {
      root.render(
        createElement(I18nProvider, {
          locale: 'en',
          children: createElement(ApiContext.Provider, { value: client }, createElement(component)),
        }),
      );
    });
    while (container.querySelectorAll(rowSelector).length < Math.min(rows, PAGE_SIZE)) await settle();
    const render = performance.now() - start;
    const elements = container.getElementsByTagName('*').length;
    const sortButton = container.querySelectorAll<HTMLButtonElement>('button.sort')[1];
    const sort = sortButton ? await timed(() => act(async () => sortButton.click())) : undefined;
    const nextPage = await timed(() => act(async () => button(container, 'Next page')?.click()));
    const lastPage = await timed(() => act(async () => button(container, 'Last loaded page')?.click()));
    // A filter is a new read: the time from "apply" to the first page of the filtered rows.
    const select = [...container.querySelectorAll('label')].find(
      (l) => l.textContent === filterLabel,
    )?.control;
    if (!(select instanceof dom.window.HTMLSelectElement)) throw new Error(`no ${filterLabel} filter`);
    const filter = await timed(async () => {
      await act(async () => {
        select.value = filterValue;
        select.dispatchEvent(new dom.window.Event('change', { bubbles: true }));
      });
      await act(async () => button(container, apply)?.click());
      while (container.querySelector('p[role="status"]')?.textContent === 'Loading…') await settle();
    });
    await act(async () => root.unmount());
    container.remove();
    return { render, sort, nextPage, lastPage, filter, elements };
  }

  const results: Record<string, unknown>[] = [];
  for (const screen of screens) {
    const large: Timing[] = [];
    const small: Timing[] = [];
    const largeClient = clientOf(ROWS);
    const smallClient = clientOf(PAGE_SIZE);
    // Paired rounds, alternating: the one-page baseline sees the same machine load as the 10,000.
    for (let round = 0; round < ROUNDS; round++) {
      small.push(await measure(screen, PAGE_SIZE, smallClient));
      large.push(await measure(screen, ROWS, largeClient));
    }
    const pick = (ts: Timing[], key: keyof Timing) => {
      const xs = ts.map((t) => t[key]).filter((x): x is number => x !== undefined);
      return xs.length === 0 ? undefined : Math.round(median(xs));
    };
    const figures = Object.fromEntries(
      (['render', 'sort', 'nextPage', 'lastPage', 'filter', 'elements'] as const).map((key) => [
        key,
        { rows: pick(large, key), baseline: pick(small, key) },
      ]),
    );
    const ratio = (figures.render!.rows ?? 0) / Math.max(1, figures.render!.baseline ?? 1);
    const ms = (key: string) => {
      const f = figures[key]!;
      return f.rows === undefined ? '' : `${key} ${f.rows} ms (one page: ${f.baseline} ms), `;
    };
    console.log(
      `console ${screen[0]}: ${ROWS} rows loaded, median of ${ROUNDS} rounds: ` +
        ms('render') +
        ms('sort') +
        ms('nextPage') +
        ms('lastPage') +
        ms('filter') +
        `${figures.elements!.rows} DOM elements (one page: ${figures.elements!.baseline}); ` +
        `render ratio ${ratio.toFixed(2)}x one page (jsdom, React development build)`,
    );
    results.push({
      screen: screen[0],
      rows: ROWS,
      baselineRows: PAGE_SIZE,
      figures,
      renderRatio: Number(ratio.toFixed(2)),
    });
  }
  const target = join(__dirname, '..', '..', '..', 'bench', 'results', 'console.json');
  const report = {
    name: 'console',
    node: process.version,
    date: new Date().toISOString(),
    what: `the handoff board and the access log with ${ROWS} rows loaded: median ms to render, re-sort, page, filter (jsdom, React development build)`,
    baselineWhat: `the same screens with one page (${PAGE_SIZE} rows) loaded, in paired rounds`,
    aim: 'render with 10,000 rows loaded within 1.5x of one page',
    rounds: ROUNDS,
    results,
  };
  writeFileSync(target, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${target}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
