import { idempotencyKey } from './client';
import { ApiProblem, answer, problemOf } from './problem';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('console API helpers', () => {
  it('makes version 4 idempotency keys, also where randomUUID is missing (plain http)', () => {
    const randomUUID = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(crypto), 'randomUUID')!;
    const keys = new Set<string>();
    try {
      Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true });
      for (let i = 0; i < 1000; i++) keys.add(idempotencyKey());
    } finally {
      delete (crypto as { randomUUID?: unknown }).randomUUID;
      Object.defineProperty(Object.getPrototypeOf(crypto), 'randomUUID', randomUUID);
    }
    expect(keys.size).toBe(1000);
    expect([...keys].filter((k) => !V4.test(k))).toEqual([]);
    expect(idempotencyKey()).toMatch(V4);
  });

  it('reads a problem body, and the request id from the header when the body has none', () => {
    const response = new Response('', { status: 422, headers: { 'x-request-id': 'req-9' } });
    const problem = problemOf(response, {
      code: 'REFERRAL.NOT_COVERED',
      detail: 'Not covered.',
      field: 'sharedCategories',
    });
    expect([problem.status, problem.code, problem.detail, problem.field, problem.requestId]).toEqual([
      422,
      'REFERRAL.NOT_COVERED',
      'Not covered.',
      'sharedCategories',
      'req-9',
    ]);
    // An answer that is not a problem document still becomes one, named by its status.
    expect(problemOf(new Response('', { status: 502 }), '<html>bad gateway</html>').code).toBe('HTTP.502');
  });

  it('turns a request that got no answer into a problem with status 0', async () => {
    const failure = await answer(Promise.reject(new TypeError('fetch failed'))).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiProblem);
    expect((failure as ApiProblem).status).toBe(0);
  });
});
