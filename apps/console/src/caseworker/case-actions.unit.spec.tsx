/**
 * @jest-environment ./apps/console/test/dom-environment.js
 */
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fakeLedger, json, problem } from '../../test/fake-ledger';
import { renderSignedIn } from '../../test/render';
import { CaseActions } from './case-actions';

const CASE = 'c0ffee00-0000-4000-8000-000000000000';
const AGENCIES = [
  { agencyId: 'ngo-lighthouse', name: 'Lighthouse Victim Support', kind: 'ngo', country: 'NL' },
  {
    agencyId: 'labour-inspectorate',
    name: 'Labour Inspectorate',
    kind: 'labour-inspectorate',
    country: 'NL',
  },
  { agencyId: 'nrm-romania', name: 'Romanian NRM contact point', kind: 'foreign-nrm', country: 'RO' },
];

const form = (name: string) => screen.getByRole('heading', { name }).closest('form')!;
const check = (scope: HTMLElement, group: string, label: string) =>
  fireEvent.click(within(within(scope).getByRole('group', { name: group })).getByLabelText(label));

describe('caseworker: consent and its withdrawal, and a referral', () => {
  it('records a consent; a self-grant is refused next to the agencies, and nothing typed is lost', async () => {
    const bodies: unknown[] = [];
    const ledger = fakeLedger({
      'GET /agencies': () => json(AGENCIES),
      [`POST /cases/${CASE}/consents`]: async (request) => {
        const body = (await request.json()) as { agencyIds: string[] };
        bodies.push(body);
        expect(request.headers.get('idempotency-key')).toMatch(/^[0-9a-f-]{36}$/);
        return body.agencyIds.includes('ngo-lighthouse')
          ? problem(
              422,
              'CONSENT.SELF_GRANT',
              'A record cannot give your own agency access it does not already hold.',
              'agencyIds[0]',
            )
          : json({ consentId: 'consent-7f3a', stream: 's', revision: 1, position: 9 }, 201);
      },
    });
    renderSignedIn(<CaseActions caseId={CASE} />, ledger);
    await screen.findAllByLabelText('Lighthouse Victim Support');
    const consent = form('Record the person’s consent');
    check(consent, 'Agencies', 'Lighthouse Victim Support');
    check(consent, 'Agencies', 'Labour Inspectorate');
    check(consent, 'Data categories', 'Case status');
    check(consent, 'Purposes', 'Investigation');
    fireEvent.change(within(consent).getByLabelText('How it was given'), { target: { value: 'written' } });
    fireEvent.change(within(consent).getByLabelText(/Language the person was informed in/), {
      target: { value: 'ro' },
    });
    fireEvent.click(within(consent).getByRole('button', { name: 'Record consent' }));

    const agencies = within(consent).getByRole('group', { name: 'Agencies' });
    const message = await within(agencies).findByRole('alert');
    expect(message.textContent).toMatch(/cannot give your own agency access/);
    expect(message.textContent).toMatch(/req-test-1/);
    expect(agencies.getAttribute('aria-describedby')).toBe(message.id);
    // Everything typed is still there.
    expect(within(agencies).getByLabelText<HTMLInputElement>('Labour Inspectorate').checked).toBe(true);
    expect(within(consent).getByLabelText<HTMLInputElement>(/Language the person/).value).toBe('ro');
    expect(within(consent).getByLabelText<HTMLSelectElement>('How it was given').value).toBe('written');

    check(consent, 'Agencies', 'Lighthouse Victim Support');
    fireEvent.click(within(consent).getByRole('button', { name: 'Record consent' }));
    await within(consent).findByText('Consent recorded. Its reference: consent-7f3a');
    expect(bodies[1]).toEqual({
      agencyIds: ['labour-inspectorate'],
      categories: ['case-status'],
      purposes: ['investigation'],
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT23:59:59Z$/),
      capture: { method: 'written', language: 'ro', interpreterUsed: false },
    });
    // The withdrawal form offers the consent just recorded.
    const withdraw = form('Record a withdrawal of consent');
    expect(within(withdraw).getByLabelText<HTMLInputElement>('Consent reference').value).toBe('consent-7f3a');
  });

  it('shows an agency not in contact with the person why it cannot record consent (403), on the form', async () => {
    const ledger = fakeLedger({
      'GET /agencies': () => json(AGENCIES),
      [`POST /cases/${CASE}/consents`]: () =>
        problem(403, 'CONSENT.NO_CONTACT', 'Only an agency in direct contact with the person …'),
    });
    renderSignedIn(<CaseActions caseId={CASE} />, ledger, 'fr');
    await screen.findAllByLabelText('Labour Inspectorate');
    const consent = form('Enregistrer le consentement de la personne');
    fireEvent.click(within(consent).getByRole('button', { name: 'Enregistrer le consentement' }));
    const alert = await within(consent).findByRole('alert');
    expect(alert.textContent).toMatch(/Seul un organisme en contact direct avec la personne/);
  });

  it('asks for the witness of a verbal consent, and shows the ledger’s refusal next to it', async () => {
    const ledger = fakeLedger({
      'GET /agencies': () => json(AGENCIES),
      [`POST /cases/${CASE}/consents`]: () =>
        problem(422, 'CONSENT.WITNESS_REQUIRED', 'A verbal consent needs…', 'capture.witnessPrincipalId'),
    });
    renderSignedIn(<CaseActions caseId={CASE} />, ledger);
    await screen.findAllByLabelText('Labour Inspectorate');
    const consent = form('Record the person’s consent');
    expect(within(consent).queryByLabelText('Witness (principal id)')).toBeNull();
    fireEvent.change(within(consent).getByLabelText('How it was given'), {
      target: { value: 'verbal-with-witness' },
    });
    const witness = within(consent).getByLabelText('Witness (principal id)');
    fireEvent.click(within(consent).getByRole('button', { name: 'Record consent' }));
    await waitFor(() => expect(witness.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(witness.getAttribute('aria-describedby')!)!.textContent).toMatch(
      'A verbal consent needs the witness who heard it.',
    );
  });

  it('withdraws a consent whole, or in part naming only the lists chosen; an unknown one is a 404 in words', async () => {
    const bodies: unknown[] = [];
    const ledger = fakeLedger({
      'GET /agencies': () => json(AGENCIES),
      [`POST /cases/${CASE}/consents/consent-1/withdrawal`]: async (request) => {
        bodies.push(await request.json());
        return json({ stream: 's', revision: 2, position: 10 });
      },
      [`POST /cases/${CASE}/consents/consent-x/withdrawal`]: () =>
        problem(404, 'CONSENT.NOT_FOUND', 'No consent with this reference…', 'consentId'),
    });
    renderSignedIn(<CaseActions caseId={CASE} />, ledger);
    await screen.findAllByLabelText('Labour Inspectorate');
    const withdraw = form('Record a withdrawal of consent');
    const reference = within(withdraw).getByLabelText('Consent reference');
    fireEvent.change(reference, { target: { value: 'consent-x' } });
    fireEvent.click(within(withdraw).getByRole('button', { name: 'Record withdrawal' }));
    await waitFor(() => expect(reference.getAttribute('aria-invalid')).toBe('true'));
    expect(within(withdraw).getByRole('alert').textContent).toMatch(
      'No consent with this reference is recorded for this case.',
    );
    expect((reference as HTMLInputElement).value).toBe('consent-x');

    fireEvent.change(reference, { target: { value: 'consent-1' } });
    fireEvent.click(within(withdraw).getByRole('button', { name: 'Record withdrawal' }));
    await within(withdraw).findByText('Withdrawal recorded: the whole consent has ended.');
    fireEvent.click(within(withdraw).getByLabelText('Only part of it (choose below)'));
    check(withdraw, 'Data categories', 'Health');
    fireEvent.click(within(withdraw).getByRole('button', { name: 'Record withdrawal' }));
    await within(withdraw).findByText('Withdrawal recorded: it applies from the next read.');
    expect(bodies).toEqual([{}, { categories: ['health'] }]);
  });

  it('makes a referral; sharing what no consent covers is refused next to the shared categories', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const ledger = fakeLedger({
      'GET /agencies': () => json(AGENCIES),
      [`POST /cases/${CASE}/referrals`]: async (request) => {
        const body = (await request.json()) as Record<string, unknown>;
        bodies.push(body);
        return (body.sharedCategories as string[]).includes('exploitation')
          ? problem(422, 'REFERRAL.NOT_COVERED', 'exploitation is not covered', 'sharedCategories')
          : json({ referralId: 'ref-42', stream: 's', revision: 0, position: 11 }, 201);
      },
    });
    renderSignedIn(<CaseActions caseId={CASE} />, ledger);
    await screen.findAllByLabelText('Labour Inspectorate');
    const refer = form('Make a referral');
    fireEvent.change(within(refer).getByLabelText('Receiving agency'), {
      target: { value: 'labour-inspectorate' },
    });
    fireEvent.change(within(refer).getByLabelText('Purpose'), { target: { value: 'investigation' } });
    fireEvent.change(within(refer).getByLabelText('Urgency'), { target: { value: 'urgent' } });
    check(refer, 'Services requested', 'Legal assistance');
    check(refer, 'Data categories shared with the receiver', 'Exploitation');
    check(refer, 'Data categories shared with the receiver', 'Case status');
    fireEvent.click(within(refer).getByRole('button', { name: 'Make referral' }));
    const shared = within(refer).getByRole('group', { name: 'Data categories shared with the receiver' });
    expect((await within(shared).findByRole('alert')).textContent).toMatch(
      'does not cover sharing these categories',
    );
    check(refer, 'Data categories shared with the receiver', 'Exploitation');
    fireEvent.click(within(refer).getByRole('button', { name: 'Make referral' }));
    await within(refer).findByText('Referral made. Its reference: ref-42');
    expect(bodies[1]).toEqual({
      toAgencyId: 'labour-inspectorate',
      purpose: 'investigation',
      servicesRequested: ['legal'],
      urgency: 'urgent',
      respondBy: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/),
      sharedCategories: ['case-status'],
    });
    expect(Date.parse(bodies[1]!.respondBy as string)).toBeGreaterThan(Date.now());
  });
});
