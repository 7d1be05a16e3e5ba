/**
 * The ledger's HTTP answers for component tests: each route answers what the real ledger answers
 * (shapes copied from its e2e suites), and every request is kept for the test to inspect.
 */
export type Route = (request: Request, url: URL) => Response | Promise<Response>;

export interface FakeLedger {
  readonly fetch: typeof globalThis.fetch;
  readonly requests: Request[];
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
      'x-request-id': 'req-test-1',
    },
  });
}

export function problem(status: number, code: string, detail: string, field?: string): Response {
  return json(
    {
      type: `urn:nrm-ledger:problem:${code}`,
      status,
      title: code,
      code,
      detail,
      field,
      requestId: 'req-test-1',
    },
    status,
  );
}

export const BASE = 'http://ledger.test';

/** Routes by `METHOD /path` (path without query); anything else answers the ledger's 404. */
export function fakeLedger(routes: Record<string, Route>): FakeLedger {
  const requests: Request[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    requests.push(request.clone());
    const url = new URL(request.url);
    const route = routes[`${request.method} ${url.pathname}`];
    return route
      ? route(request, url)
      : problem(404, 'HTTP.NOT_FOUND', `Cannot ${request.method} ${url.pathname}`);
  };
  return { fetch: fetch, requests };
}
