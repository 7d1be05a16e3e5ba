import { render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { ledgerClient } from '../src/api/client';
import { ApiContext } from '../src/api/context';
import { I18nProvider, type Locale } from '../src/i18n/i18n';
import { BASE, type FakeLedger } from './fake-ledger';

/** A screen as a signed-in workspace shows it: the typed client over the given ledger, in a language. */
export function renderSignedIn(ui: ReactElement, ledger: FakeLedger, locale: Locale = 'en'): RenderResult {
  const client = ledgerClient({
    credential: 'test-key',
    onUnauthorized: () => undefined,
    baseUrl: BASE,
    fetch: ledger.fetch,
  });
  return render(
    <I18nProvider locale={locale}>
      <ApiContext.Provider value={client}>{ui}</ApiContext.Provider>
    </I18nProvider>,
  );
}
