/**
 * @jest-environment ./apps/console/test/dom-environment.js
 */
import { fireEvent, screen, within } from '@testing-library/react';
import { fakeLedger, json } from '../../test/fake-ledger';
import { renderSignedIn } from '../../test/render';
import { HandoffBoard } from '../coordinator/handoff-board';
import { AccessLog } from '../oversight/access-log';
import { PAGE_SIZE, pageOf } from './pager';

const at = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
const referral = (i: number) => ({
  referralId: `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
  fromAgencyId: 'clinic-harbour',
  toAgencyId: 'police-west',
  status: 'acknowledged',
  urgency: 'urgent',
  transnational: false,
  madeAt: at(i),
  secondsToAcknowledge: i * 60,
  secondsToHandoff: null,
  overdue: false,
  escalated: false,
});
const bodyRows = (table: string) => document.querySelectorAll(`table.${table} tbody tr`);

describe('console pages: the board and the access log render one page of what is loaded', () => {
  it('pages through the loaded rows and clamps at both ends', () => {
    const rows = Array.from({ length: 250 }, (_, i) => i);
    expect(pageOf(rows, 0)).toMatchObject({ page: 0, pages: 3, first: 1, last: 100 });
    expect(pageOf(rows, 2)).toMatchObject({ page: 2, first: 201, last: 250 });
    expect(pageOf(rows, 9).rows).toEqual(rows.slice(200));
    expect(pageOf(rows, -1).page).toBe(0);
    expect(pageOf([], 0)).toMatchObject({ page: 0, pages: 1, first: 0, last: 0, rows: [] });
  });

  it('board: one page rendered of 250 rows; sorting covers all of them; next pages follow the cursor', async () => {
    const all = Array.from({ length: 250 }, (_, i) => referral(i));
    const ledger = fakeLedger({
      'GET /agencies': () => json([]),
      'GET /coordinator/handoff-board': (_request, url) => {
        // The ledger's pages: 250 rows first, 30 more after the cursor.
        const cursor = url.searchParams.get('cursor');
        return json({
          at: at(400),
          referrals: cursor === 'second' ? Array.from({ length: 30 }, (_, i) => referral(300 + i)) : all,
          next: cursor === 'second' ? undefined : { cursor: 'second' },
          summary: { referrals: 280, overdue: 0, escalated: 0 },
        });
      },
    });
    renderSignedIn(<HandoffBoard />, ledger);
    const pages = await screen.findByRole('navigation', { name: 'Pages of the handoff board' });
    expect(bodyRows('board')).toHaveLength(PAGE_SIZE);
    expect(within(pages).getByRole('status').textContent).toBe(
      'Rows 1–100 of 250 loaded; the ledger has more',
    );
    // Newest first: the first row shown is the last made of all 250, not of the first 100.
    expect(bodyRows('board')[0]!.getAttribute('data-referral')).toBe(all[249]!.referralId);

    fireEvent.click(screen.getByRole('button', { name: /Sort by Time to acknowledge/ }));
    expect(bodyRows('board')[0]!.getAttribute('data-referral')).toBe(all[0]!.referralId);
    fireEvent.click(within(pages).getByRole('button', { name: 'Last loaded page' }));
    expect(bodyRows('board')).toHaveLength(50);
    expect(
      within(pages).getByRole('button', { name: 'Last loaded page' }).getAttribute('aria-disabled'),
    ).toBe('true');
    // Past the last loaded page, "Next page" reads the ledger's next page by its cursor.
    fireEvent.click(within(pages).getByRole('button', { name: 'Next page' }));
    await screen.findByText('Rows 201–280 of 280 loaded');
    expect(bodyRows('board')).toHaveLength(80);
    expect(ledger.requests.map((r) => new URL(r.url).searchParams.get('cursor'))).toContain('second');
    expect(
      ledger.requests.every((r) => !r.url.includes('/handoff-board') || r.url.includes(`limit=${PAGE_SIZE}`)),
    ).toBe(true);
    fireEvent.click(within(pages).getByRole('button', { name: 'First page' }));
    expect(within(pages).getByRole('status').textContent).toBe('Rows 1–100 of 280 loaded');
  });

  it('access log: 150 entries shown a page at a time, a new search starts at the first page', async () => {
    const entries = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        eventId: `${i.toString(16).padStart(8, '0')}-1111-4000-8000-000000000000`,
        at: at(i),
        agencyId: 'clinic-harbour',
        view: 'case',
        purpose: 'assistance',
        outcome: i % 9 === 0 ? 'refused' : 'granted',
      }));
    const ledger = fakeLedger({
      'GET /oversight/access-attempts': (_request, url) =>
        json({ entries: entries(url.searchParams.get('outcome') === 'refused' ? 17 : 150) }),
    });
    renderSignedIn(<AccessLog />, ledger);
    const pages = await screen.findByRole('navigation', { name: 'Pages of the access log' });
    expect(bodyRows('access-log')).toHaveLength(100);
    fireEvent.click(within(pages).getByRole('button', { name: 'Next page' }));
    expect(bodyRows('access-log')).toHaveLength(50);
    expect(within(pages).getByRole('status').textContent).toBe('Rows 101–150 of 150 loaded');
    fireEvent.change(screen.getByLabelText('Outcome'), { target: { value: 'refused' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    await screen.findByText('Rows 1–17 of 17 loaded');
    expect(bodyRows('access-log')).toHaveLength(17);
  });
});
