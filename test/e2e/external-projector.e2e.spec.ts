import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { PostgresReadModelStore } from '@nrm/projections';
import { TEST_POSTGRES_URL } from '../../libs/projections/test/read-model-backends';
import { healthDetail, Ledger, type Principal, freePort, startProjectorProcess } from './harness';

/**
 * Production topology in small: the API with PROJECTOR=external reads
 * PostgreSQL read models that a projector in another process keeps.
 */
describe('API with an external projector process and PostgreSQL read models (e2e)', () => {
  const schema = `e2e_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const env = {
    READ_MODEL_STORE: 'postgres',
    READ_MODEL_URL: TEST_POSTGRES_URL,
    READ_MODEL_SCHEMA: schema,
    PROJECTOR: 'external',
  };
  let ledger: Ledger;
  let healthPort: number;
  let child: ChildProcess | undefined;
  let clinic: Principal;
  let ngo: Principal;

  async function startProjector(): Promise<void> {
    child = await startProjectorProcess(env, ledger.dataDir, healthPort);
  }

  /** Until the projector process reports every checkpoint at the store's head. */
  async function caughtUp(): Promise<void> {
    const head = await ledger.store.headPosition();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answer = await fetch(`http://127.0.0.1:${healthPort}/health`);
      const body = (await answer.json()) as { positions: Record<string, number> };
      if (Object.values(body.positions).every((p) => p >= head)) return;
      if (Date.now() > deadline) throw new Error('projector did not catch up in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function killProjector(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((exited) => {
      running.once('exit', () => exited());
      running.kill('SIGKILL');
    });
  }

  beforeAll(async () => {
    ledger = await Ledger.boot(env);
    healthPort = await freePort();
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-ext');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-ext');
    await ledger.principal('shelter', ['caseworker'], 'shelter-ext');
    await startProjector();
  }, 60_000);

  afterAll(async () => {
    await killProjector();
    await ledger.close();
    const store = new PostgresReadModelStore({ connectionString: TEST_POSTGRES_URL, schema });
    await store.dropSchema();
    await store.close();
  });

  it('answers reads from the projector process, says 503 while it is down, and catches up when it returns', async () => {
    const reported = await clinic.post<{ caseId: string }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    expect(reported.status).toBe(201);
    const caseId = reported.body.caseId;
    const consent = (agencyId: string) =>
      clinic.post(`/cases/${caseId}/consents`, {
        agencyIds: [agencyId],
        categories: ['case-status'],
        purposes: ['assistance'],
        expiresAt: '2030-01-01T00:00:00Z',
        capture: { method: 'written', language: 'en', interpreterUsed: false },
      });
    const refer = (toAgencyId: string) =>
      clinic.post(`/cases/${caseId}/referrals`, {
        toAgencyId,
        purpose: 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'urgent',
        respondBy: new Date(Date.now() + 86_400_000).toISOString(),
        sharedCategories: ['case-status'],
      });
    expect((await consent('ngo-ext')).status).toBe(201);
    expect((await refer('ngo-ext')).status).toBe(201);
    const read = () =>
      ngo.call<{ categories: Record<string, unknown>; code?: string }>('GET', `/cases/${caseId}`, undefined, {
        'x-purpose': 'assistance',
      });
    const seen = await read();
    expect(seen.status).toBe(200);
    expect(Object.keys(seen.body.categories)).toEqual(['case-status']);

    // The projector's state and store are detail: the scraper's token shows them.
    const health = await healthDetail<{ details: { projector: { state: string; store: string } } }>(
      ledger.base,
    );
    expect(health.status).toBe(200);
    expect(health.body.details.projector).toMatchObject({ state: 'following' });
    expect(health.body.details.projector.store).toContain(`schema ${schema}`);

    // The projector dies. A record the case directory does not follow (consent, which reads take
    // from the store itself) holds no read up: the read models still cover every case event.
    // (Each read appends its audit event: let the projector cover that one first.)
    await caughtUp();
    await killProjector();
    expect((await consent('shelter-ext')).status).toBe(201);
    expect((await read()).status).toBe(200);
    // A record it follows is stored but not projected: reads and party checks refuse with 503
    // rather than answer from a read model that lags the store.
    expect((await refer('shelter-ext')).status).toBe(201);
    const behind = await read();
    expect(behind.status).toBe(503);
    expect(behind.body.code).toBe('READ_MODEL.BEHIND');
    expect(behind.headers.get('content-type')).toContain('application/problem+json');
    const refused = await refer('shelter-ext');
    expect(refused.status).toBe(503);

    // Back: it resumes from its checkpoint and the API answers again.
    await startProjector();
    expect((await read()).status).toBe(200);
    expect((await refer('shelter-ext')).status).toBe(201);
  }, 60_000);
});
