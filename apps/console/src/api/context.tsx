import { createContext, useContext } from 'react';
import type { LedgerClient } from './client';

export const ApiContext = createContext<LedgerClient | undefined>(undefined);

export function useApi(): LedgerClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error('useApi outside a signed-in workspace');
  return client;
}
