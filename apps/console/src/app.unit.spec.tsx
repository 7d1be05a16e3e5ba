/**
 * @jest-environment ./apps/console/test/dom-environment.js
 */
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { App } from './app';
import { BASE, fakeLedger, json, problem } from '../test/fake-ledger';
// Compiled up front, so that the lazily loaded workspace resolves within findBy's wait.
import './caseworker/workspace';

const KEY = 'nrm_test_3f1c9a7e5b2d4c6e8f0a1b3c5d7e9f1a';

function signIn(options: { keepInTab?: boolean; workspace?: RegExp } = {}) {
  fireEvent.change(screen.getByLabelText('API key or bearer token'), { target: { value: KEY } });
  if (options.workspace) fireEvent.click(screen.getByLabelText(options.workspace));
  if (options.keepInTab) fireEvent.click(screen.getByLabelText(/Keep me signed in/));
  fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
}

/** Every place a browser keeps something for a page: the credential may be in none but the tab's session. */
function storedAnywhere(): string {
  return [JSON.stringify({ ...localStorage }), document.cookie].join('|');
}

describe('console sign-in', () => {
  beforeEach(() => {
    sessionStorage.clear();
    localStorage.clear();
  });

  const ledger = () =>
    fakeLedger({
      'GET /referrals': (request) =>
        request.headers.get('authorization') === `Bearer ${KEY}`
          ? json({ referrals: [] })
          : problem(401, 'AUTH.UNAUTHENTICATED', 'The credential is not valid.'),
      'GET /agencies': () => json([]),
    });

  it('sends the credential as a bearer token and keeps it in memory only by default', async () => {
    const api = ledger();
    render(<App baseUrl={BASE} fetch={api.fetch} languages={['en']} />);
    signIn();
    await screen.findByRole('heading', { name: 'Referrals waiting for me' });
    await screen.findByText('No referrals.');
    expect(api.requests.some((r) => r.headers.get('authorization') === `Bearer ${KEY}`)).toBe(true);
    expect(sessionStorage.length).toBe(0);
    expect(storedAnywhere()).not.toContain(KEY);
  });

  it('keeps it in this tab when asked, never in localStorage, and sign-out clears it', async () => {
    const api = ledger();
    const { unmount } = render(<App baseUrl={BASE} fetch={api.fetch} languages={['en']} />);
    signIn({ keepInTab: true });
    await screen.findByText('No referrals.');
    expect(JSON.stringify({ ...sessionStorage })).toContain(KEY);
    expect(storedAnywhere()).not.toContain(KEY);
    unmount();

    // A reload of the tab finds the session; sign-out leaves nothing behind.
    render(<App baseUrl={BASE} fetch={api.fetch} languages={['en']} />);
    await screen.findByText('No referrals.');
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByText(/You are signed out/)).toBeTruthy();
    expect(JSON.stringify({ ...sessionStorage })).not.toContain(KEY);
    expect(storedAnywhere()).not.toContain(KEY);
  });

  it('returns to sign-in with a clear message when the ledger answers 401 (expired or revoked)', async () => {
    const api = fakeLedger({
      'GET /referrals': () => problem(401, 'AUTH.UNAUTHENTICATED', 'The credential is not valid.'),
      'GET /agencies': () => problem(401, 'AUTH.UNAUTHENTICATED', 'The credential is not valid.'),
    });
    render(<App baseUrl={BASE} fetch={api.fetch} languages={['en']} />);
    signIn({ keepInTab: true });
    const alert = await screen.findByText(/did not accept your credential/);
    expect(alert.getAttribute('role')).toBe('alert');
    expect(screen.getByRole('heading', { name: 'Sign in' })).toBeTruthy();
    expect(JSON.stringify({ ...sessionStorage })).not.toContain(KEY);
  });

  it('asks for a credential instead of sending an empty one', () => {
    const api = ledger();
    render(<App baseUrl={BASE} fetch={api.fetch} languages={['en']} />);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByText('Enter your API key or bearer token.')).toBeTruthy();
    expect(api.requests).toHaveLength(0);
  });

  it('speaks the reader’s language (French) and switches on request', async () => {
    render(<App baseUrl={BASE} fetch={ledger().fetch} languages={['fr-BE', 'en']} />);
    expect(screen.getByRole('heading', { name: 'Connexion' })).toBeTruthy();
    expect(document.documentElement.lang).toBe('fr');
    act(() => {
      fireEvent.change(screen.getByLabelText('Langue'), { target: { value: 'en' } });
    });
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Sign in' })).toBeTruthy());
    expect(document.documentElement.lang).toBe('en');
  });

  it('says when the ledger cannot be reached, and keeps the screen', async () => {
    const api = fakeLedger({});
    const offline: typeof fetch = () => Promise.reject(new TypeError('fetch failed'));
    render(<App baseUrl={BASE} fetch={offline} languages={['en']} />);
    signIn();
    expect(await screen.findByText(/could not be reached/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
    expect(api.requests).toHaveLength(0);
  });
});
