import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ComponentType } from 'react';
import { ApiContext } from './api/context';
import { ledgerClient } from './api/client';
import {
  I18nProvider,
  isLocale,
  LOCALE_NAMES,
  LOCALES,
  preferredLocale,
  useI18n,
  type Locale,
} from './i18n/i18n';
import { forgetSession, keepSession, restoreSession, type Session, type Workspace } from './session';
import { SignIn, type SignInNotice } from './sign-in';

// One chunk per workspace: a caseworker's browser never loads the coordinator's screens.
const WORKSPACE_SCREENS: Readonly<Record<Workspace, ComponentType>> = {
  caseworker: lazy(() => import('./caseworker/workspace')),
  coordinator: lazy(() => import('./coordinator/workspace')),
  oversight: lazy(() => import('./oversight/workspace')),
};

export interface AppProps {
  /** Where the ledger answers; the page's own origin by default. */
  readonly baseUrl?: string;
  readonly fetch?: typeof globalThis.fetch;
  readonly storage?: Storage;
  readonly languages?: readonly string[];
}

const LOCALE_KEY = 'nrm-console.locale';

export function App({
  baseUrl,
  fetch,
  storage = window.sessionStorage,
  languages = navigator.languages,
}: AppProps) {
  const [locale, setLocale] = useState<Locale>(() => {
    const saved = storage.getItem(LOCALE_KEY);
    return isLocale(saved) ? saved : preferredLocale(languages);
  });
  const [session, setSession] = useState<Session | undefined>(() => restoreSession(storage));
  const [notice, setNotice] = useState<SignInNotice | undefined>();

  const signOut = useCallback(
    (why: SignInNotice) => {
      forgetSession(storage);
      setSession(undefined);
      setNotice(why);
    },
    [storage],
  );
  const client = useMemo(
    () =>
      session &&
      ledgerClient({
        credential: session.credential,
        onUnauthorized: () => signOut('expired'),
        baseUrl,
        fetch,
      }),
    [session, signOut, baseUrl, fetch],
  );
  const chooseLocale = (next: Locale) => {
    storage.setItem(LOCALE_KEY, next);
    setLocale(next);
  };
  const signIn = (next: Session) => {
    keepSession(next, storage);
    setNotice(undefined);
    setSession(next);
  };

  return (
    <I18nProvider locale={locale}>
      <Shell
        locale={locale}
        onLocale={chooseLocale}
        workspace={session?.workspace}
        onSignOut={session ? () => signOut('signedOut') : undefined}
      >
        {session && client ? (
          <ApiContext.Provider value={client}>
            <WorkspaceScreen workspace={session.workspace} />
          </ApiContext.Provider>
        ) : (
          <SignIn notice={notice} onSignIn={signIn} />
        )}
      </Shell>
    </I18nProvider>
  );
}

function WorkspaceScreen({ workspace }: { workspace: Workspace }) {
  const { t } = useI18n();
  const Screen = WORKSPACE_SCREENS[workspace];
  return (
    <Suspense fallback={<p role="status">{t('app.loading')}</p>}>
      <Screen />
    </Suspense>
  );
}

interface ShellProps {
  readonly locale: Locale;
  readonly onLocale: (locale: Locale) => void;
  readonly workspace: Workspace | undefined;
  readonly onSignOut: (() => void) | undefined;
  readonly children: React.ReactNode;
}

function Shell({ locale, onLocale, workspace, onSignOut, children }: ShellProps) {
  const { t } = useI18n();
  // The document's language follows the interface: screen readers pronounce it right.
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = t('app.title');
  }, [locale, t]);
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top no-print">
        <p className="brand">{t('app.title')}</p>
        {workspace && (
          <p className="workspace">{t('app.signedInAs', { workspace: t(`workspace.${workspace}`) })}</p>
        )}
        <label className="language">
          {t('app.language')}{' '}
          <select value={locale} onChange={(e) => isLocale(e.target.value) && onLocale(e.target.value)}>
            {(Object.keys(LOCALES) as Locale[]).map((l) => (
              <option key={l} value={l} lang={l}>
                {LOCALE_NAMES[l]}
              </option>
            ))}
          </select>
        </label>
        {onSignOut && (
          <button type="button" onClick={onSignOut}>
            {t('app.signOut')}
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
