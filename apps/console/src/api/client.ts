import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './openapi.gen';

/** The ledger's API, typed from its OpenAPI document: a changed path, parameter or body breaks the build. */
export type LedgerClient = ReturnType<typeof createClient<paths>>;
export type Schemas = components['schemas'];
export type Purpose = NonNullable<paths['/cases/{caseId}']['get']['parameters']['header']>['X-Purpose'];
export type DeclineReason = Schemas['DeclineReferralDto']['reason'];
export type ServiceType = Schemas['RecordServiceProvidedDto']['serviceType'];
export type Finding = Schemas['ReviewAccessDto']['finding'];
export type BoardStatus = NonNullable<
  NonNullable<paths['/coordinator/handoff-board']['get']['parameters']['query']>['status']
>;

export interface ClientOptions {
  /** An API key or a bearer token (JWT): both go in `Authorization: Bearer`. */
  readonly credential: string;
  /** Called once for any 401: the credential expired or was revoked. */
  readonly onUnauthorized: () => void;
  readonly baseUrl?: string;
  readonly fetch?: typeof globalThis.fetch;
}

export function ledgerClient(options: ClientOptions): LedgerClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl ?? window.location.origin,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    // The credential is never sent to another origin, nor kept by the browser's HTTP cache.
    credentials: 'omit',
    cache: 'no-store',
  });
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${options.credential}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) options.onUnauthorized();
      return response;
    },
  };
  client.use(auth);
  return client;
}

/** A fresh key per attempt of a command: a retry of the same attempt returns the first result. */
export function idempotencyKey(): string {
  // randomUUID exists only in secure contexts (https, localhost); a ledger on plain http elsewhere
  // still gets a version 4 UUID from getRandomValues, which every context has.
  if (typeof globalThis.crypto.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
