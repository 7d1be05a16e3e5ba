/**
 * The handoff board and the access log with 10,000 rows loaded: time to render, to re-sort, and the
 * DOM's size, in jsdom with React's development build (a browser with the production build does
 * better; watch the trend). Prints figures and asserts nothing. Run: npm run bench:console
 */
import { JSDOM } from 'jsdom';

const ROWS = Number(process.env.ROWS ?? 10_000);
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

const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();

async function main(): Promise<void> {
  // Imported once the globals exist: React DOM looks for a document when it loads.
  const { act, createElement } = await import('react');
  const { createRoot } = await import('react-dom/client');
  const { ApiContext } = await import('../src/api/context');
  const { ledgerClient } = await import('../src/api/client');
  const { I18nProvider } = await import('../src/i18n/i18n');
  const { HandoffBoard } = await import('../src/coordinator/handoff-board');
  const { AccessLog } = await import('../src/oversight/access-log');
  const referrals = Array.from({ length: ROWS }, (_, i) => ({
    referralId: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    fromAgencyId: `agency-${i % 40}`,
    toAgencyId: `agency-${(i + 7) % 40}`,
    status: ['made', 'acknowledged', 'accepted', 'completed'][i % 4],
    urgency: 'urgent',
    transnational: i % 10 === 0,
    madeAt: at(i),
    secondsToAcknowledge: i % 4 === 0 ? null : (i * 37) % 86_400,
    secondsToHandoff: i % 4 === 3 ? (i * 53) % 172_800 : null,
    overdue: i % 13 === 0,
    escalated: i % 29 === 0,
  }));
  const entries = Array.from({ length: ROWS }, (_, i) => ({
    eventId: `${i.toString(16).padStart(8, '0')}-1111-4000-8000-000000000000`,
    at: at(i),
    agencyId: `agency-${i % 40}`,
    caseId: `${(i % 500).toString(16).padStart(8, '0')}-2222-4000-8000-000000000000`,
    view: 'case',
    purpose: 'assistance',
    outcome: i % 9 === 0 ? 'refused' : 'granted',
  }));
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const body =
      url.pathname === '/coordinator/handoff-board'
        ? { at: at(ROWS), referrals, summary: { referrals: ROWS, overdue: 0, escalated: 0 } }
        : url.pathname === '/oversight/access-attempts'
          ? { entries }
          : [];
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };
  const client = ledgerClient({
    credential: 'bench',
    onUnauthorized: () => undefined,
    baseUrl: 'http://ledger.test',
    fetch: fetch,
  });
  const screens = [
    ['handoff board', HandoffBoard, 'table.board tbody tr'],
    ['access log', AccessLog, 'table.access-log tbody tr'],
  ] as const;
  for (const [name, screen, rowSelector] of screens) {
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    const start = performance.now();
    await act(async () => {
      root.render(
        createElement(I18nProvider, {
          locale: 'en',
          children: createElement(ApiContext.Provider, { value: client }, createElement(screen)),
        }),
      );
    });
    while (container.querySelectorAll(rowSelector).length < ROWS)
      await act(() => new Promise<void>((r) => setTimeout(r, 10)));
    const rendered = performance.now() - start;
    const sort = container.querySelectorAll<HTMLButtonElement>('button.sort')[1];
    let resorted = '';
    if (sort) {
      const t0 = performance.now();
      await act(async () => sort.click());
      resorted = `, re-sorted in ${(performance.now() - t0).toFixed(0)} ms`;
    }
    console.log(
      `console ${name}: ${ROWS} rows rendered in ${rendered.toFixed(0)} ms${resorted}, ` +
        `${container.getElementsByTagName('*').length} DOM elements (jsdom, React development build)`,
    );
    await act(async () => root.unmount());
    container.remove();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
