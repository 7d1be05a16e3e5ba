/**
 * @jest-environment ./apps/console/test/dom-environment.js
 */
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { fakeLedger, json, problem } from '../../test/fake-ledger';
import { renderSignedIn } from '../../test/render';
import { BreakGlassQueue } from './break-glass';
import { Integrity, witnessesOf } from './integrity';

const ENTRY = {
  eventId: 'e0e0e0e0-0000-4000-8000-000000000001',
  at: '2026-12-07T09:00:00.000Z',
  agencyId: 'police-west',
  caseId: 'c0c0c0c0-0000-4000-8000-000000000001',
  subjectId: 'f0f0f0f0-0000-4000-8000-000000000001',
  purpose: 'protection',
  basis: [{ category: 'case-status', basis: 'break-glass' }],
  justification: 'Person reported missing; duty officer assessed a risk to life.',
  review: { status: 'pending' },
};

describe('oversight: the break-glass queue', () => {
  it('shows the justification and what was read, and keeps the typed note when the ledger refuses it', async () => {
    const reviews: Array<Record<string, unknown>> = [];
    const ledger = fakeLedger({
      'GET /oversight/break-glass': () => json({ entries: reviews.length > 1 ? [] : [ENTRY] }),
      [`POST /oversight/break-glass/${ENTRY.eventId}/review`]: async (request) => {
        const body = (await request.json()) as Record<string, unknown>;
        reviews.push(body);
        return typeof body.note === 'string' && body.note.includes(' ')
          ? problem(400, 'REQUEST.INVALID', 'note must be a reference code, not prose', 'note')
          : json({ accessEventId: ENTRY.eventId, finding: body.finding });
      },
    });
    renderSignedIn(<BreakGlassQueue />, ledger);
    await screen.findByText(ENTRY.justification);
    expect(screen.getByText('Case status')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Finding'), { target: { value: 'unjustified' } });
    fireEvent.change(screen.getByLabelText('Your reference (file number)'), {
      target: { value: 'free text here' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Record review' }));
    const note = screen.getByLabelText<HTMLInputElement>('Your reference (file number)');
    await waitFor(() => expect(note.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(note.getAttribute('aria-describedby')!)!.textContent).toMatch(
      /reference code/,
    );
    expect(note.value).toBe('free text here');

    fireEvent.change(note, { target: { value: 'DPA-2026-0117' } });
    fireEvent.click(screen.getByRole('button', { name: 'Record review' }));
    await screen.findByText('Review recorded.');
    expect(reviews[1]).toEqual({ finding: 'unjustified', note: 'DPA-2026-0117' });
    await screen.findByText('No break-glass read waits for review.');
  });
});

describe('oversight: a justification erased with the person', () => {
  it('says it was erased instead of showing the mark', async () => {
    const ledger = fakeLedger({
      'GET /oversight/break-glass': () => json({ entries: [{ ...ENTRY, justification: { erased: true } }] }),
    });
    renderSignedIn(<BreakGlassQueue />, ledger);
    await screen.findByText('Erased with the person’s data.');
    expect(document.body.textContent).not.toContain('[object Object]');
  });
});

describe('oversight: integrity', () => {
  const NOTE =
    'ledger.example.org/audit\n1024\nq1n2...=\ntime 2026-12-07T09:00:00.000Z\n\n' +
    '— ledger.example.org/audit AAAAAAsig=\n— witness.dpa.example AAAAAAcosig=\n— witness.court.example BBBBcosig=\n';

  it('names the witnesses that cosigned the latest checkpoint, not the log itself', () => {
    expect(witnessesOf(NOTE, 'ledger.example.org/audit')).toEqual([
      'witness.dpa.example',
      'witness.court.example',
    ]);
    expect(witnessesOf(NOTE.split('\n— witness')[0]!, 'ledger.example.org/audit')).toEqual([]);
  });

  it('shows the latest checkpoint, and says so when none is signed yet', async () => {
    const checkpoint = {
      note: NOTE,
      origin: 'ledger.example.org/audit',
      treeSize: 1024,
      rootHash: 'ab'.repeat(32),
      time: '2026-12-07T09:00:00.000Z',
      keyId: '0a1b2c3d',
      signature: 'AAAA',
    };
    const { unmount } = renderSignedIn(
      <Integrity />,
      fakeLedger({ 'GET /audit/checkpoints/latest': () => json(checkpoint) }),
    );
    await screen.findByText('1,024');
    expect(screen.getByText('witness.court.example')).toBeTruthy();
    expect(screen.getByText('ab'.repeat(32))).toBeTruthy();
    unmount();
    renderSignedIn(
      <Integrity />,
      fakeLedger({
        'GET /audit/checkpoints/latest': () => problem(404, 'AUDIT.NO_CHECKPOINT', 'None signed yet.'),
      }),
    );
    await screen.findByText('No checkpoint has been signed yet.');
  });
});
