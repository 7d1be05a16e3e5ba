import { randomUUID } from 'node:crypto';
import { Ledger, scrape, TEST_METRICS_TOKEN } from './harness';

describe('metrics and liveness (e2e)', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await Ledger.boot();
  });
  afterAll(() => ledger.close());

  it('counts requests by route template, never by id, and tells the store head and the checkpoints', async () => {
    const clinic = await ledger.principal('health', ['caseworker'], 'clinic-metrics');
    const reported = await clinic.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    const caseId = reported.body.caseId;
    await clinic.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' });
    // Paths no route matches, one with a name in it, and an id in a query: none may become a label.
    const strayId = randomUUID();
    await fetch(`${ledger.base}/cases/${caseId}/Velmora-Dashkintree`);
    await fetch(`${ledger.base}/people/Velmora%20Dashkintree?caseId=${strayId}`);
    await clinic.call('GET', `/cases?caseId=${strayId}`);

    const answer = await fetch(`${ledger.base}/metrics`, {
      headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const text = await answer.text();
    expect(text).toMatch(/nrm_http_requests_total\{method="POST",route="\/cases",status="201"\} 1/);
    expect(text).toMatch(/nrm_http_requests_total\{method="GET",route="\/cases\/:caseId",status="403"\} 1/);
    expect(text).toMatch(/nrm_http_requests_total\{method="GET",route="\(unmatched\)",status="404"\} 2/);
    expect(text).toMatch(/nrm_event_store_head_position [1-9]\d*/);
    expect(text).toMatch(/nrm_read_model_checkpoint\{projection="case-directory"\} [1-9]\d*/);
    expect(text).toContain('nrm_process_cpu_seconds_total');
    for (const needle of [caseId, strayId, 'Velmora', 'debt-bondage', clinic.principalId, clinic.agencyId])
      expect(text).not.toContain(needle);
    // Every label value is a route template, a method, a status or a fixed word: nothing a client chose.
    const values = [...text.matchAll(/="([^"]*)"/g)].map((m) => m[1]!);
    const odd = values.filter((v) => !/^(\/[a-z:A-Z{}*.-]*)+$|^[A-Za-z0-9_.+-]*$|^\(unmatched\)$/.test(v));
    expect(odd).toEqual([]);
  });

  it('answers liveness without touching any dependency', async () => {
    const answer = await fetch(`${ledger.base}/health/live`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: 'ok' });
  });

  it('serves the metrics to the scrape credential only: no credential, a wrong one or an agency key get 401', async () => {
    const clinic = await ledger.principal('health', ['caseworker'], 'clinic-scrape');
    const attempts: Array<[string, Record<string, string>]> = [
      ['no credential', {}],
      ['a wrong token', { authorization: `Bearer ${TEST_METRICS_TOKEN.slice(0, -1)}x` }],
      ['the token with a suffix', { authorization: `Bearer ${TEST_METRICS_TOKEN}x` }],
      ['the token as X-Api-Key', { 'x-api-key': TEST_METRICS_TOKEN }],
      ['the token as Basic', { authorization: `Basic ${TEST_METRICS_TOKEN}` }],
      ["an agency's API key", { authorization: `Bearer ${clinic.apiKey}` }],
    ];
    const served: string[] = [];
    for (const [name, headers] of attempts) {
      const answer = await fetch(`${ledger.base}/metrics`, { headers });
      const text = await answer.text();
      if (answer.status !== 401 || text.includes('nrm_')) served.push(`${name}: ${answer.status}`);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect(JSON.parse(text)).toMatchObject({ status: 401, code: 'AUTH.UNAUTHENTICATED' });
    }
    console.log(`metrics: ${attempts.length} scrapes without the token, served ${served.length}`);
    expect(served).toEqual([]);
    expect(await scrape(ledger.base)).toContain('nrm_http_requests_total');
  });
});

describe('metrics on a ledger without METRICS_TOKEN (e2e)', () => {
  it('are off: /metrics answers as an unknown path does, whatever credential is sent', async () => {
    const ledger = await Ledger.boot({ METRICS_TOKEN: '' });
    try {
      const clinic = await ledger.principal('health', ['caseworker'], 'clinic-off');
      const normalise = async (answer: Response, path: string) => ({
        status: answer.status,
        type: answer.headers.get('content-type'),
        body: (await answer.text())
          .replace(/"requestId":"[^"]*"/, '')
          .split(path)
          .join('<path>'),
      });
      const unknown = await normalise(await fetch(`${ledger.base}/metricz`), '/metricz');
      expect(unknown.status).toBe(404);
      const credentials: Array<Record<string, string>> = [
        {},
        { authorization: `Bearer ${TEST_METRICS_TOKEN}` },
        { authorization: `Bearer ${clinic.apiKey}` },
      ];
      for (const headers of credentials)
        expect(await normalise(await fetch(`${ledger.base}/metrics`, { headers }), '/metrics')).toEqual(
          unknown,
        );
      expect((await fetch(`${ledger.base}/health/live`)).status).toBe(200);
    } finally {
      await ledger.close();
    }
  });
});
