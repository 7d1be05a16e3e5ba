import { randomBytes } from 'node:crypto';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { loadConfig } from '@nrm/runtime';
import { freePort, GENEROUS_RATE_LIMITS, Ledger, scrape, TEST_METRICS_TOKEN } from './harness';

/** What a burst of requests got back: each status counted, and the first 429 kept for a closer look. */
async function burst(
  times: number,
  send: () => Promise<Response>,
): Promise<{ statuses: Record<number, number>; refused?: Response; refusedBody?: Record<string, unknown> }> {
  const statuses: Record<number, number> = {};
  let refused: Response | undefined;
  let refusedBody: Record<string, unknown> | undefined;
  for (let i = 0; i < times; i++) {
    const response = await send();
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    const text = await response.text();
    if (response.status === 429 && !refused) {
      refused = response;
      refusedBody = JSON.parse(text) as Record<string, unknown>;
    }
  }
  return { statuses, refused, refusedBody };
}

function expectTooMany(
  refused: Response | undefined,
  body: Record<string, unknown> | undefined,
  window: number,
) {
  expect(refused?.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const retryAfter = Number(refused?.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(window);
  expect(body).toMatchObject({ status: 429, code: 'RATE_LIMIT.EXCEEDED', title: 'Too many requests' });
}

/** One sample of a metric from the Prometheus text, 0 when absent. */
async function metric(base: string, line: string): Promise<number> {
  const text = await scrape(base);
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

const guess = () => `nrm_${randomBytes(24).toString('base64url')}`;

describe('rate limits (an attacker from one address, a principal in a loop)', () => {
  describe('in-process store (the embedded default)', () => {
    let ledger: Ledger;
    beforeAll(async () => {
      ledger = await Ledger.boot({
        RATE_LIMIT_PER_PRINCIPAL: '5',
        RATE_LIMIT_PER_ADDRESS: '4',
        RATE_LIMIT_FAILED_AUTH: '3',
        RATE_LIMIT_WINDOW_SECONDS: '60',
        RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS: '900',
      });
    });
    afterAll(() => ledger.close());

    it('answers 429 problem+json with Retry-After once a principal is past its limit, and only that principal', async () => {
      const hasty = await ledger.principal('ngo', ['caseworker']);
      const other = await ledger.principal('ngo', ['caseworker']);
      const sent = 12;
      const { statuses, refused, refusedBody } = await burst(sent, () =>
        fetch(`${ledger.base}/cases`, { headers: { authorization: `Bearer ${hasty.apiKey}` } }),
      );
      console.log(
        `rate limit per principal (limit 5/60s): ${sent} requests sent, ${statuses[200] ?? 0} answered 200, ` +
          `${statuses[429] ?? 0} answered 429; Retry-After ${refused?.headers.get('retry-after')}s`,
      );
      expect(statuses).toEqual({ 200: 5, 429: 7 });
      expectTooMany(refused, refusedBody, 60);
      // Another principal of the same agency, from the same address, is not held back.
      expect((await other.get('/cases')).status).toBe(200);
      expect(await metric(ledger.base, 'nrm_rate_limited_total{limit="principal"}')).toBe(7);
    });

    it('locks an address out after its failed authentications: guesses, then even a good key, are refused unchecked', async () => {
      const victim = await ledger.principal('health', ['caseworker']);
      const sent = 40;
      const { statuses, refused, refusedBody } = await burst(sent, () =>
        fetch(`${ledger.base}/cases`, { headers: { authorization: `Bearer ${guess()}` } }),
      );
      // A valid key from the locked address is not even looked at (an attacker cannot tell a hit).
      const good = await fetch(`${ledger.base}/cases`, {
        headers: { authorization: `Bearer ${victim.apiKey}` },
      });
      const goodBody = (await good.json()) as Record<string, unknown>;
      const failures = await metric(ledger.base, 'nrm_auth_failures_total');
      console.log(
        `failed-auth limit (3/900s): ${sent} guessed keys sent, ${statuses[401] ?? 0} checked and refused 401, ` +
          `${statuses[429] ?? 0} refused 429 unchecked; a valid key after: ${good.status}; ` +
          `nrm_auth_failures_total ${failures}; Retry-After ${refused?.headers.get('retry-after')}s`,
      );
      expect(statuses).toEqual({ 401: 3, 429: 37 });
      expectTooMany(refused, refusedBody, 900);
      expect(refused!.headers.get('retry-after')).not.toBe('1');
      expect(good.status).toBe(429);
      expect(goodBody).toMatchObject({ code: 'RATE_LIMIT.EXCEEDED' });
      expect(failures).toBe(3);
      expect(await metric(ledger.base, 'nrm_rate_limited_total{limit="failed-auth"}')).toBe(38);
    });

    it('limits requests without a credential per address, the API docs included, but never /health or /metrics', async () => {
      const { statuses, refused, refusedBody } = await burst(6, () => fetch(`${ledger.base}/cases`));
      const docs = await fetch(`${ledger.base}/openapi.json`);
      const docsBody = (await docs.json()) as Record<string, unknown>;
      const health = await burst(30, () => fetch(`${ledger.base}/health`));
      const scrapes = await burst(30, () =>
        fetch(`${ledger.base}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } }),
      );
      console.log(
        `per-address limit without a credential (4/60s): 6 sent, ${statuses[401] ?? 0} answered 401, ` +
          `${statuses[429] ?? 0} answered 429; /openapi.json after: ${docs.status}; ` +
          `30 /health: ${JSON.stringify(health.statuses)}; 30 /metrics: ${JSON.stringify(scrapes.statuses)}`,
      );
      expect(statuses).toEqual({ 401: 4, 429: 2 });
      expectTooMany(refused, refusedBody, 60);
      expect(docs.status).toBe(429);
      expect(docs.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(docsBody).toMatchObject({ status: 429, code: 'RATE_LIMIT.EXCEEDED' });
      expect(health.statuses[429]).toBeUndefined();
      expect(scrapes.statuses).toEqual({ 200: 30 });
    });
  });

  it('fails open to per-process limits when Redis is unreachable (a closed port): answered, still limited', async () => {
    const closed = await freePort();
    const ledger = await Ledger.boot({
      RATE_LIMIT_STORE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${closed}/0`,
      RATE_LIMIT_PER_PRINCIPAL: '10',
      RATE_LIMIT_FAILED_AUTH: '2',
    });
    try {
      const principal = await ledger.principal('ngo', ['caseworker']);
      const sent = 15;
      const { statuses, refused, refusedBody } = await burst(sent, () =>
        fetch(`${ledger.base}/cases`, { headers: { authorization: `Bearer ${principal.apiKey}` } }),
      );
      const guesses = await burst(5, () =>
        fetch(`${ledger.base}/cases`, { headers: { 'x-api-key': guess() } }),
      );
      const fallbacks = await metric(ledger.base, 'nrm_rate_limit_store_fallbacks_total');
      console.log(
        `Redis unreachable (port ${closed} closed): ${sent} requests of one principal (limit 10): ` +
          `${JSON.stringify(statuses)}; 5 guesses (limit 2): ${JSON.stringify(guesses.statuses)}; ` +
          `${fallbacks} decisions taken without Redis`,
      );
      expect(statuses).toEqual({ 200: 10, 429: 5 });
      expectTooMany(refused, refusedBody, 60);
      expect(guesses.statuses).toEqual({ 401: 2, 429: 3 });
      expect(fallbacks).toBeGreaterThanOrEqual(sent + 5);
    } finally {
      await ledger.close();
    }
  });

  it('shares one limit between two instances through Redis: a principal cannot double it by switching replica', async () => {
    const redis = {
      RATE_LIMIT_STORE: 'redis',
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      RATE_LIMIT_PER_PRINCIPAL: '8',
    };
    const ledger = await Ledger.boot(redis);
    const principal = await ledger.principal('ngo', ['caseworker']);
    // A second replica on the same store, started after the principal was registered: it knows the key.
    const replica = await createApp(
      loadConfig({
        DATA_DIR: ledger.dataDir,
        PROJECTOR: 'external',
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        ...GENEROUS_RATE_LIMITS,
        ...redis,
      }),
    );
    try {
      await replica.listen({ port: 0, host: '127.0.0.1' });
      const bases = [ledger.base, await replica.getUrl()];
      const perReplica: Array<Record<number, number>> = bases.map(() => ({}));
      const sent = 20;
      let refused: Response | undefined;
      let refusedBody: Record<string, unknown> | undefined;
      for (let i = 0; i < sent; i++) {
        const response = await fetch(`${bases[i % 2]}/cases`, {
          headers: { authorization: `Bearer ${principal.apiKey}` },
        });
        const tally = perReplica[i % 2]!;
        tally[response.status] = (tally[response.status] ?? 0) + 1;
        const text = await response.text();
        if (response.status === 429 && !refused) {
          refused = response;
          refusedBody = JSON.parse(text) as Record<string, unknown>;
        }
      }
      const ok = perReplica.reduce((n, t) => n + (t[200] ?? 0), 0);
      const limited = perReplica.reduce((n, t) => n + (t[429] ?? 0), 0);
      console.log(
        `two replicas sharing Redis (limit 8/60s per principal): ${sent} requests alternating, ` +
          `${ok} answered 200, ${limited} answered 429 (per replica: ${JSON.stringify(perReplica)})`,
      );
      // Each replica alone would have let 8 through: 16 in all.
      expect(ok).toBe(8);
      expect(limited).toBe(12);
      expect(perReplica[0]![200]! + perReplica[1]![200]!).toBe(8);
      expectTooMany(refused, refusedBody, 60);
    } finally {
      await replica.close();
      await ledger.close();
    }
  });
});
