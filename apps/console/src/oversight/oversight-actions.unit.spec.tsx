/**
 * @jest-environment ./apps/console/test/dom-environment.js
 */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fakeLedger, json, problem } from '../../test/fake-ledger';
import { renderSignedIn } from '../../test/render';
import { ConsentHistory } from './consent-history';
import { Erasure } from './erasure';
import { ERASURE_GROUNDS } from '../api/vocabulary';
import { verifyCommand, VerifyExportFile } from './verify-file';

const SUBJECT = 'f0f0f0f0-0000-4000-8000-000000000001';
const CASE = 'c0c0c0c0-0000-4000-8000-000000000001';
const AGENCIES = [
  { agencyId: 'clinic-harbour', name: 'Harbour Health Clinic', kind: 'health', country: 'NL' },
  { agencyId: 'ngo-lighthouse', name: 'Lighthouse Victim Support', kind: 'ngo', country: 'NL' },
];

const GRANTED = {
  position: 12,
  caseId: CASE,
  type: 'ConsentGranted',
  at: '2026-12-01T09:00:00.000Z',
  recordedByAgencyId: 'clinic-harbour',
  consentId: 'consent-7f3a',
  scope: { agencyIds: ['ngo-lighthouse'], categories: ['health'], purposes: ['assistance'] },
  expiresAt: '2027-06-01T00:00:00.000Z',
  capture: { method: 'written', language: 'ro', interpreterUsed: true },
};
const WITHDRAWN = {
  position: 40,
  caseId: CASE,
  type: 'ConsentWithdrawn',
  at: '2026-12-05T09:00:00.000Z',
  recordedByAgencyId: 'ngo-lighthouse',
  consentId: 'consent-7f3a',
  whole: true,
  scope: {},
};

describe('oversight: consent history', () => {
  it('lists the person’s consent events in words, pages on, and says an unknown person is unknown', async () => {
    const cursors: Array<string | null> = [];
    const ledger = fakeLedger({
      'GET /agencies': () => json(AGENCIES),
      [`GET /oversight/subjects/${SUBJECT}/consent-history`]: (_request, url) => {
        cursors.push(url.searchParams.get('cursor'));
        return url.searchParams.get('cursor') === null
          ? json({ subjectId: SUBJECT, caseIds: [CASE], entries: [GRANTED], next: { cursor: 12 } })
          : json({ subjectId: SUBJECT, caseIds: [CASE], entries: [WITHDRAWN] });
      },
      'GET /oversight/subjects/nobody/consent-history': () =>
        problem(404, 'SUBJECT.NOT_FOUND', 'No case of a subject with this id is recorded.', 'subjectId'),
    });
    renderSignedIn(<ConsentHistory />, ledger);
    const subject = screen.getByLabelText('Person reference (subject id)');
    fireEvent.change(subject, { target: { value: 'nobody' } });
    fireEvent.click(screen.getByRole('button', { name: 'Show history' }));
    await waitFor(() => expect(subject.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByRole('alert').textContent).toMatch(
      'No person with this reference is known to the ledger.',
    );

    fireEvent.change(subject, { target: { value: SUBJECT } });
    fireEvent.click(screen.getByRole('button', { name: 'Show history' }));
    const table = await screen.findByRole('table', { name: `Consent events of ${SUBJECT}` });
    const granted = within(table).getByText('Consent given').closest('tr')!;
    expect(granted.textContent).toMatch('Harbour Health Clinic');
    expect(granted.textContent).toMatch('Lighthouse Victim Support');
    expect(granted.textContent).toMatch('Health');
    expect(granted.textContent).toMatch('Written, in Romanian, with an interpreter');
    expect(granted.textContent).toMatch('Reference consent-7f3a');

    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    const withdrawn = (await within(table).findByText('Consent withdrawn')).closest('tr')!;
    expect(withdrawn.textContent).toMatch('everything granted');
    expect(withdrawn.textContent).toMatch('Whole consent');
    expect(cursors).toEqual([null, '12']);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('shows a refusal to a non-oversight credential in words (403)', async () => {
    const ledger = fakeLedger({
      'GET /agencies': () => json(AGENCIES),
      [`GET /oversight/subjects/${SUBJECT}/consent-history`]: () =>
        problem(403, 'OVERSIGHT.ONLY', 'Only the oversight body reads this.'),
    });
    renderSignedIn(<ConsentHistory />, ledger, 'fr');
    fireEvent.change(screen.getByLabelText('Référence de la personne (identifiant)'), {
      target: { value: SUBJECT },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Afficher l’historique' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Only the oversight body reads this/);
  });
});

describe('oversight: erasure behind an explicit confirmation', () => {
  it('says what goes and what stays, erases nothing until the reference is typed again, then erases', async () => {
    const erased: Array<{ url: string; body: unknown }> = [];
    const ledger = fakeLedger({
      [`POST /subjects/${SUBJECT}/erasure`]: async (request) => {
        const body = (await request.json()) as { ground?: string; reference?: string };
        erased.push({ url: request.url, body });
        if (body.reference?.includes(' '))
          return problem(400, 'REQUEST.INVALID', 'reference must be a reference code', 'reference');
        return erased.length > 2
          ? problem(409, 'SUBJECT.ALREADY_ERASED', 'Already erased.', 'subjectId')
          : json({ subjectId: SUBJECT, stream: 's', revision: 0, position: 99 });
      },
    });
    renderSignedIn(<Erasure />, ledger);
    expect(screen.getByRole('heading', { name: 'What is removed' })).toBeTruthy();
    expect(screen.getByText(/The events without their identity data/)).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Person reference (subject id)'), { target: { value: SUBJECT } });
    // Why is a legal ground from the API's list (labelled) and a reference code.
    const ground = screen.getByLabelText<HTMLSelectElement>('Legal ground');
    expect([...ground.options].map((o) => o.value).slice(1)).toEqual([...ERASURE_GROUNDS]);
    fireEvent.change(ground, { target: { value: 'court-order' } });
    fireEvent.change(screen.getByLabelText(/^Reference/), { target: { value: 'Order about the person' } });
    const confirm = screen.getByLabelText('Type the person reference again to confirm');
    fireEvent.change(confirm, { target: { value: SUBJECT.slice(0, -1) } });
    fireEvent.click(screen.getByRole('button', { name: 'Erase identity data' }));
    expect((await screen.findByRole('alert')).textContent).toMatch('does not match the person reference');
    expect(confirm.getAttribute('aria-invalid')).toBe('true');
    expect(erased).toEqual([]);

    fireEvent.change(confirm, { target: { value: SUBJECT } });
    fireEvent.click(screen.getByRole('button', { name: 'Erase identity data' }));
    const reference = screen.getByLabelText(/^Reference/);
    await waitFor(() => expect(reference.getAttribute('aria-invalid')).toBe('true'));
    expect((reference as HTMLInputElement).value).toBe('Order about the person');

    fireEvent.change(reference, { target: { value: 'COURT-2026/0117' } });
    fireEvent.click(screen.getByRole('button', { name: 'Erase identity data' }));
    await screen.findByText(`The identity data of ${SUBJECT} is erased. The erasure is recorded.`);
    expect(erased[1]!.body).toEqual({ ground: 'court-order', reference: 'COURT-2026/0117' });

    // A second erasure is refused in words; the confirmation must be typed again.
    fireEvent.change(confirm, { target: { value: SUBJECT } });
    fireEvent.click(screen.getByRole('button', { name: 'Erase identity data' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(
      'This person’s identity data has already been erased.',
    );
  });
});

describe('oversight: verifying an export file in the browser', () => {
  const file = (text: string, name = 'log.ndjson') =>
    new File([text], name, { type: 'application/x-ndjson' });

  it('asks for a file, shows each step of a failed verification, and the same check on the command line', async () => {
    const ledger = fakeLedger({
      'GET /audit/public-key': () =>
        json({
          origin: 'ledger.test/audit',
          keyId: '00000000',
          verifierKey: 'ledger.test/audit+00000000+AQ==',
        }),
      'GET /audit/checkpoints/latest': () =>
        json({ origin: 'ledger.test/audit', treeSize: 3, rootHash: 'a'.repeat(64), note: '' }),
    });
    renderSignedIn(<VerifyExportFile />, ledger);
    fireEvent.click(screen.getByRole('button', { name: 'Verify file' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Choose an export file first.');

    const input = screen.getByLabelText('Export file (.ndjson)');
    fireEvent.change(input, { target: { files: [file('not an export\n', 'export 2026.ndjson')] } });
    expect(screen.getByText(/verify --file 'export 2026.ndjson' --checkpoint/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Verify file' }));
    await screen.findByText(
      'Not verified: the file does not match what the ledger signed. See the failed step.',
    );
    const steps = screen.getAllByRole('listitem').map((li) => li.getAttribute('data-result'));
    expect(steps).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(screen.getAllByRole('listitem')[0]!.textContent).toMatch(/File format and range: failed/);
  });

  it('says when the ledger has no checkpoint to verify against (404)', async () => {
    const ledger = fakeLedger({
      'GET /audit/public-key': () => json({ verifierKey: 'ledger.test/audit+00000000+AQ==' }),
      'GET /audit/checkpoints/latest': () => problem(404, 'AUDIT.NO_CHECKPOINT', 'none signed yet'),
    });
    renderSignedIn(<VerifyExportFile />, ledger);
    fireEvent.change(screen.getByLabelText('Export file (.ndjson)'), { target: { files: [file('{}\n')] } });
    fireEvent.click(screen.getByRole('button', { name: 'Verify file' }));
    await screen.findByText('The ledger has signed no checkpoint yet: there is nothing to verify against.');
  });

  it('quotes a file name for the shell only when it needs it', () => {
    expect(verifyCommand('log.ndjson')).toBe(
      'npm run -s ledger -- verify --file log.ndjson --checkpoint checkpoint.json --public-key ledger.vkey',
    );
    expect(verifyCommand("it's.ndjson")).toContain(`--file 'it'\\''s.ndjson'`);
  });
});
