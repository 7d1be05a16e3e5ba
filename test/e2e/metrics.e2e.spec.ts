import { Ledger } from './harness';

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

    const answer = await fetch(`${ledger.base}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const text = await answer.text();
    expect(text).toMatch(/nrm_http_requests_total\{method="POST",route="\/cases",status="201"\} 1/);
    expect(text).toMatch(/nrm_http_requests_total\{method="GET",route="\/cases\/:caseId",status="403"\} 1/);
    expect(text).toMatch(/nrm_event_store_head_position [1-9]\d*/);
    expect(text).toMatch(/nrm_read_model_checkpoint\{projection="case-directory"\} [1-9]\d*/);
    expect(text).toContain('nrm_process_cpu_seconds_total');
    expect(text).not.toContain(caseId);
    expect(text).not.toContain('debt-bondage');
  });

  it('answers liveness without touching any dependency', async () => {
    const answer = await fetch(`${ledger.base}/health/live`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ status: 'ok' });
  });
});
