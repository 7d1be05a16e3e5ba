/**
 * @jest-environment ./apps/console/test/dom-environment.js
 */
import { screen } from '@testing-library/react';
import { fakeLedger, json } from '../../test/fake-ledger';
import { renderSignedIn } from '../../test/render';
import { HandoffBoard } from './handoff-board';
import { Statistics } from './statistics';

describe('coordinator: no identity on any screen', () => {
  it('renders none of the identity fields an answer might carry by mistake', async () => {
    const leaked = {
      name: 'Ana Invented-Person',
      firstName: 'Ana',
      lastName: 'Invented-Person',
      dateOfBirth: '1999-02-03',
      nationality: 'Invented-land',
      phone: '+00 000 000 0000',
      address: '1 Invented Street',
      subjectId: 'feedface-0000-4000-8000-000000000009',
      caseId: 'deadbeef-0000-4000-8000-000000000009',
    };
    const ledger = fakeLedger({
      'GET /agencies': () => json([]),
      'GET /coordinator/handoff-board': () =>
        json({
          at: '2026-12-07T10:00:00.000Z',
          period: { from: null, to: null },
          referrals: [
            {
              referralId: 'abcdef01-0000-4000-8000-000000000001',
              fromAgencyId: 'clinic-harbour',
              toAgencyId: 'police-west',
              status: 'acknowledged',
              urgency: 'urgent',
              transnational: false,
              madeAt: '2026-12-07T08:00:00.000Z',
              secondsToAcknowledge: 5400,
              secondsToHandoff: null,
              overdue: true,
              escalated: true,
              ...leaked,
              identity: leaked,
            },
          ],
          summary: {
            referrals: 1,
            overdue: 1,
            escalated: 1,
            secondsToAcknowledge: { count: 1, p50: 5400, p90: 5400 },
            secondsToHandoff: { count: 0, p50: null, p90: null },
          },
        }),
    });
    renderSignedIn(<HandoffBoard />, ledger);
    await screen.findByText('1 referrals, 1 overdue, 1 escalated');
    const text = document.body.textContent ?? '';
    const shown = Object.values(leaked).filter((value) => text.includes(value));
    console.log(
      `coordinator identity attack: ${Object.keys(leaked).length} identity fields fed, ${shown.length} rendered`,
    );
    expect(shown).toEqual([]);
    // The figures that are the coordinator's: p50/p90 as durations, and the flags.
    expect(screen.getAllByText('1.5 hours').length).toBeGreaterThanOrEqual(2);
    expect(screen.getAllByText('Overdue').length).toBeGreaterThan(0);
    expect(screen.getAllByText('Escalated').length).toBeGreaterThan(0);
  });

  it('marks suppressed statistics cells as suppressed, never as a number', async () => {
    const ledger = fakeLedger({
      'GET /coordinator/statistics': () =>
        json({
          k: 5,
          months: [
            {
              month: '2026-11',
              cases: { count: 12 },
              byExploitationForm: { labour: { count: 9 }, sexual: { suppressed: true } },
            },
            {
              month: '2026-12',
              cases: { suppressed: true },
              byExploitationForm: { labour: { suppressed: true }, sexual: { suppressed: true } },
            },
          ],
        }),
    });
    renderSignedIn(<Statistics />, ledger);
    await screen.findByText('12');
    const suppressed = document.querySelectorAll('td[data-suppressed="true"]');
    expect(suppressed).toHaveLength(4);
    for (const cell of suppressed) expect(cell.textContent).toBe('suppressed');
    expect(screen.getByText(/fewer than 5 cases are suppressed/)).toBeTruthy();
  });
});
