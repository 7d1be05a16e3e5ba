/**
 * @jest-environment ./apps/console/test/dom-environment.js
 */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fakeLedger, json, problem } from '../../test/fake-ledger';
import { renderSignedIn } from '../../test/render';
import { CaseView } from './case-view';
import { Referrals, waitingOrder, type Referral } from './referrals';

const referral = (id: string, over: Partial<Referral>): Referral => ({
  referralId: `${id}-0000-4000-8000-000000000000`,
  caseId: `c${id}-0000-4000-8000-000000000000`,
  fromAgencyId: 'ngo-lighthouse',
  toAgencyId: 'shelter-dune',
  transnational: false,
  purpose: 'assistance',
  urgency: 'urgent',
  status: 'made',
  escalated: false,
  respondBy: '2026-12-09T10:00:00.000Z',
  overdue: false,
  madeAt: '2026-12-07T10:00:00.000Z',
  ...over,
});

describe('caseworker: referrals waiting for me', () => {
  it('lists open referrals first, the overdue among them first, then by the time an answer is due', () => {
    const order = waitingOrder([
      referral('a', { status: 'completed', respondBy: '2026-01-01T00:00:00Z' }),
      referral('b', { status: 'made', respondBy: '2026-12-20T00:00:00Z' }),
      referral('c', { status: 'acknowledged', overdue: true, respondBy: '2026-12-01T00:00:00Z' }),
      referral('d', { status: 'accepted', respondBy: '2026-12-10T00:00:00Z' }),
      referral('e', { status: 'declined', overdue: true }),
    ]).map((r) => r.referralId[0]);
    expect(order).toEqual(['c', 'd', 'b', 'a', 'e']);
  });

  it('marks the overdue, and shows the ledger’s refusal of a decline without reason next to the field', async () => {
    const posts: Request[] = [];
    const ledger = fakeLedger({
      'GET /referrals': () => json({ referrals: [referral('b', { status: 'acknowledged', overdue: true })] }),
      'GET /agencies': () =>
        json([{ agencyId: 'ngo-lighthouse', name: 'Lighthouse Victim Support', kind: 'ngo', country: 'NL' }]),
      'POST /referrals/b-0000-4000-8000-000000000000/decline': async (request) => {
        posts.push(request);
        const body = (await request.json()) as { reason?: string };
        return body.reason
          ? json({ referralId: 'b', status: 'declined' })
          : problem(
              400,
              'REQUEST.INVALID',
              'reason must be one of the following values: no-capacity, …',
              'reason',
            );
      },
    });
    renderSignedIn(<Referrals direction="in" onOpenCase={() => undefined} />, ledger);
    const row = (await screen.findByText('Lighthouse Victim Support')).closest('tr')!;
    expect(within(row).getByText('Overdue')).toBeTruthy();

    fireEvent.click(within(row).getByRole('button', { name: /Decline/ }));
    fireEvent.click(screen.getByRole('button', { name: 'Decline referral' }));
    const select = screen.getByLabelText('Reason for declining');
    await waitFor(() => expect(select.getAttribute('aria-invalid')).toBe('true'));
    const message = document.getElementById(select.getAttribute('aria-describedby')!)!;
    expect(message.textContent).toMatch(/Check this field: reason must be one of/);
    expect(message.textContent).toContain('Request id req-test-1');

    fireEvent.change(select, { target: { value: 'no-capacity' } });
    fireEvent.click(screen.getByRole('button', { name: 'Decline referral' }));
    await screen.findByText('Referral declined.');
    expect(posts).toHaveLength(2);
    // Each attempt is its own command, retried safely under its own key.
    const keys = posts.map((p) => p.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).not.toBe(keys[0]);
  });
});

describe('caseworker: the case view', () => {
  const CASE = 'c0ffee00-0000-4000-8000-000000000001';
  const ledger = () =>
    fakeLedger({
      [`GET /cases/${CASE}`]: (request) =>
        json({
          caseId: CASE,
          purpose: request.headers.get('x-purpose'),
          categories: {
            'case-status': { region: 'NL-ZH', minor: false },
            'support-needs': { servicesProvided: [] },
          },
          basis: { 'case-status': 'consent', 'support-needs': 'consent' },
        }),
    });

  it('asks for a purpose before reading, sends it, and names every category not shown', async () => {
    const api = ledger();
    renderSignedIn(<CaseView caseId={CASE} onBack={() => undefined} />, api);
    fireEvent.click(screen.getByRole('button', { name: 'Open case' }));
    expect(screen.getByText('Choose a purpose: the ledger records why the case was opened.')).toBeTruthy();
    expect(api.requests).toHaveLength(0);

    fireEvent.change(screen.getByLabelText('Purpose of this view'), { target: { value: 'referral' } });
    fireEvent.click(screen.getByRole('button', { name: 'Open case' }));
    await screen.findByText('Shown for the purpose: Referral');
    expect(api.requests[0]!.headers.get('x-purpose')).toBe('referral');
    expect(screen.getByText('This view is recorded in the access log.')).toBeTruthy();
    const hidden = within(screen.getByRole('region', { name: 'Not shown to you' }))
      .getAllByRole('listitem')
      .map((li) => (li.textContent ?? '').split(':')[0]);
    expect(hidden).toEqual(['Identity', 'Contact details', 'Health', 'Exploitation', 'Immigration status']);
    expect(screen.getByRole('heading', { name: 'Case status' })).toBeTruthy();
  });

  it('says in words when the ledger refuses the read (no consent for this purpose)', async () => {
    const api = fakeLedger({
      [`GET /cases/${CASE}`]: () =>
        problem(403, 'ACCESS.NO_CONSENT_OR_LAWFUL_BASIS', 'No consent covers this.'),
    });
    renderSignedIn(<CaseView caseId={CASE} onBack={() => undefined} />, api, 'fr');
    fireEvent.change(screen.getByLabelText('Finalité de cette consultation'), {
      target: { value: 'investigation' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Ouvrir le dossier' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(
      /Votre organisme ou votre rôle ne permet pas/,
    );
    // What the person chose stays chosen.
    expect(screen.getByLabelText<HTMLSelectElement>('Finalité de cette consultation').value).toBe(
      'investigation',
    );
  });
});
