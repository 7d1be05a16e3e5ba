/**
 * @jest-environment ./apps/console/test/dom-environment.js
 */
import { fireEvent, screen, within } from '@testing-library/react';
import { fakeLedger, json } from '../../test/fake-ledger';
import { renderSignedIn } from '../../test/render';
import { AccessReport } from './access-report';

const SUBJECT = 'feedface-0000-4000-8000-000000000001';
const report = {
  subjectId: SUBJECT,
  generatedAt: '2026-12-07T10:00:00.000Z',
  requestedBy: { agencyId: 'ngo-bridge', agencyName: 'Bridge Invented NGO' },
  period: {},
  caseIds: ['deadbeef-0000-4000-8000-000000000001'],
  accesses: [
    {
      at: '2026-11-03T09:30:00.000Z',
      agencyId: 'clinic-harbour',
      agencyName: 'Harbour Invented Clinic',
      agencyKind: 'health',
      caseId: 'deadbeef-0000-4000-8000-000000000001',
      view: 'case',
      purpose: 'assistance',
      basis: [{ category: 'health', basis: 'consent' }],
    },
    {
      at: '2026-11-04T18:05:00.000Z',
      agencyId: 'police-west',
      agencyName: null,
      agencyKind: 'law-enforcement',
      view: 'case',
      purpose: 'protection',
      basis: [{ category: 'identity', basis: 'break-glass' }],
    },
  ],
};

describe('subject access report: printed in the person’s language', () => {
  it('chooses the language recorded with the person’s consent when the report names one', async () => {
    const ledger = fakeLedger({
      [`GET /subjects/${SUBJECT}/access-report`]: () => json({ ...report, consentLanguage: 'ro' }),
    });
    renderSignedIn(<AccessReport />, ledger);
    expect(screen.getByLabelText<HTMLSelectElement>('Language of the report').value).toBe('en');
    fireEvent.change(screen.getByLabelText('Person reference (subject id)'), { target: { value: SUBJECT } });
    fireEvent.click(screen.getByRole('button', { name: 'Show report' }));
    const printed = await screen.findByRole('article', { name: 'Cine a accesat datele acestei persoane' });
    expect(printed.getAttribute('lang')).toBe('ro');
    expect(screen.getByLabelText<HTMLSelectElement>('Language of the report').value).toBe('ro');
  });

  it('prints in Romanian, with Romanian dates and agencies by name and kind, never by id', async () => {
    const ledger = fakeLedger({ [`GET /subjects/${SUBJECT}/access-report`]: () => json(report) });
    renderSignedIn(<AccessReport />, ledger);
    const language = screen.getByLabelText('Language of the report');
    expect([...(language as HTMLSelectElement).options].map((o) => o.value)).toEqual(['en', 'fr', 'ro']);
    fireEvent.change(language, { target: { value: 'ro' } });
    fireEvent.change(screen.getByLabelText('Person reference (subject id)'), { target: { value: SUBJECT } });
    fireEvent.click(screen.getByRole('button', { name: 'Show report' }));
    const printed = await screen.findByRole('article', { name: 'Cine a accesat datele acestei persoane' });
    expect(printed.getAttribute('lang')).toBe('ro');
    const rows = within(printed).getAllByRole('row').slice(1);
    const cells = rows.map((r) =>
      within(r)
        .getAllByRole('cell')
        .map((c) => c.textContent),
    );
    const local = new Intl.DateTimeFormat('ro', { dateStyle: 'medium', timeStyle: 'short' });
    expect(cells).toEqual([
      [
        local.format(new Date(report.accesses[0]!.at)),
        'Harbour Invented Clinic (Serviciu de sănătate)',
        'Sănătate',
        'Asistență',
        'consimțământ',
      ],
      [
        local.format(new Date(report.accesses[1]!.at)),
        'Poliție',
        'Identitate',
        'Protecție',
        'Acces de urgență',
      ],
    ]);
    // The local form is the language's own: Romanian month names, not an ISO instant.
    expect(cells[0]![0]).toMatch(/nov\./);
    expect(within(printed).getByText('Bridge Invented NGO')).toBeTruthy();
    const text = printed.textContent ?? '';
    for (const id of ['clinic-harbour', 'police-west', 'ngo-bridge']) expect(text).not.toContain(id);
    // The screen around it stays in the interface's language.
    expect(screen.getByRole('button', { name: 'Print' })).toBeTruthy();
  });
});
