import {
  eventLeafHash,
  hashFromHex,
  publicKeyFrom,
  verifyCheckpointSignature,
  verifyInclusion,
  type SignedCheckpoint,
} from '@nrm/audit';
import type { RecordedEvent } from '@nrm/event-store';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dropSchema } from '../../libs/event-store/test/postgres';
import { TEST_POSTGRES_URL } from '../../libs/projections/test/read-model-backends';
import { healthDetail, Ledger, type Principal, freePort, startProjectorProcess } from './harness';

interface Health {
  status: string;
  details: Record<string, { status: string; adapter?: string; state?: string; headPosition?: number }>;
}

/**
 * The production topology the tests can prove here: events, keys and read models in PostgreSQL
 * (EVENT_STORE=postgres), the projector as its own process (PROJECTOR=external, as in
 * deploy/compose.yaml) and the one audit log of the deployment in PostgreSQL too.
 */
describe('the ledger on a PostgreSQL event store (e2e)', () => {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  const schemas = {
    events: `e2e_ev_${suffix}`,
    keys: `e2e_keys_${suffix}`,
    reads: `e2e_rm_${suffix}`,
    audit: `e2e_audit_${suffix}`,
  };
  const env = {
    EVENT_STORE: 'postgres',
    EVENT_STORE_URL: TEST_POSTGRES_URL,
    EVENT_STORE_SCHEMA: schemas.events,
    ID_DERIVATION_SECRET: 'an-invented-secret-for-this-test-only-0123456789',
    KEY_STORE: 'postgres',
    KEY_STORE_URL: TEST_POSTGRES_URL,
    KEY_STORE_SCHEMA: schemas.keys,
    READ_MODEL_STORE: 'postgres',
    READ_MODEL_URL: TEST_POSTGRES_URL,
    READ_MODEL_SCHEMA: schemas.reads,
    AUDIT_LOG_STORE: 'postgres',
    AUDIT_LOG_URL: TEST_POSTGRES_URL,
    AUDIT_LOG_SCHEMA: schemas.audit,
    PROJECTOR: 'external',
    AUDIT_CHECKPOINT_EVERY: '1',
    AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
    AUDIT_INTEGRITY_CHECK_SECONDS: '1',
  };
  let ledger: Ledger;
  let clinic: Principal;
  let dpa: Principal;
  let ngo: Principal;
  let projector: ChildProcess | undefined;

  /** apps/projector as a child process on the same stores, resolved once its /health answers 200. */
  async function startProjector(): Promise<void> {
    projector = await startProjectorProcess(env, ledger.dataDir, await freePort());
  }

  beforeAll(async () => {
    ledger = await Ledger.boot(env);
    clinic = await ledger.principal('health', ['caseworker'], 'clinic-pg');
    dpa = await ledger.principal('oversight-body', ['oversight'], 'dpa-pg');
    ngo = await ledger.principal('ngo', ['caseworker'], 'ngo-pg');
    await startProjector();
  }, 60_000);

  afterAll(async () => {
    if (projector && projector.exitCode === null)
      await new Promise<void>((exited) => {
        projector!.once('exit', () => exited());
        projector!.kill('SIGTERM');
      });
    await ledger.close();
    for (const schema of Object.values(schemas)) await dropSchema(schema);
  });

  async function checkpointCovering(position: number): Promise<SignedCheckpoint> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const answer = await dpa.get<SignedCheckpoint>('/audit/checkpoints/latest');
      if (answer.status === 200 && answer.body.treeSize >= position) return answer.body;
      if (Date.now() > deadline) throw new Error(`no checkpoint covers position ${position}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('records a case, reads it back through the projector process, and proves it in the signed audit log', async () => {
    const reported = await clinic.post<{ caseId: string; position: number }>('/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    expect(reported.status).toBe(201);
    const { caseId, position } = reported.body;

    // Consent and a referral to an NGO, whose read is answered from the projected read models.
    const consent = await clinic.post(`/cases/${caseId}/consents`, {
      agencyIds: ['ngo-pg'],
      categories: ['case-status'],
      purposes: ['assistance'],
      expiresAt: '2030-01-01T00:00:00Z',
      capture: { method: 'written', language: 'en', interpreterUsed: false },
    });
    expect(consent.status).toBe(201);
    const referral = await clinic.post(`/cases/${caseId}/referrals`, {
      toAgencyId: 'ngo-pg',
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy: new Date(Date.now() + 86_400_000).toISOString(),
      sharedCategories: ['case-status'],
    });
    expect(referral.status).toBe(201);
    const read = await ngo.call<{ categories: Record<string, unknown> }>(
      'GET',
      `/cases/${caseId}`,
      undefined,
      {
        'x-purpose': 'assistance',
      },
    );
    expect(read.status).toBe(200);
    expect(Object.keys(read.body.categories)).toEqual(['case-status']);

    // The event is in PostgreSQL, in the schema configured, at the position the API answered.
    let event: RecordedEvent | undefined;
    for await (const e of ledger.store.readAll({ fromPosition: { after: position - 1 }, maxCount: 1 }))
      event = e;
    expect(event).toMatchObject({ position, type: 'PotentialVictimReported' });

    const checkpoint = await checkpointCovering(position);
    const key = publicKeyFrom(
      (await dpa.get<{ publicKeyPem: string }>('/audit/public-key')).body.publicKeyPem,
    );
    expect(verifyCheckpointSignature(checkpoint, key)).toEqual({ valid: true });
    const proof = await dpa.get<{ leafHash: string; proof: string[] }>(
      `/audit/proofs/inclusion?position=${position}&treeSize=${checkpoint.treeSize}`,
    );
    expect(proof.status).toBe(200);
    const leaf = eventLeafHash(event!);
    expect(proof.body.leafHash).toBe(leaf.toString('hex'));
    expect(
      verifyInclusion({
        leafIndex: position - 1,
        treeSize: checkpoint.treeSize,
        leafHash: leaf,
        proof: proof.body.proof.map(hashFromHex),
        rootHash: hashFromHex(checkpoint.rootHash),
      }),
    ).toEqual({ valid: true });

    const health = await healthDetail<Health>(ledger.base);
    expect(health.status).toBe(200);
    expect(health.body.details.eventStore).toMatchObject({ status: 'up', adapter: 'postgres' });
    expect(health.body.details.auditIntegrity).toMatchObject({ status: 'up' });
    expect(health.body.details.projector).toMatchObject({ status: 'up', state: 'following' });
    console.log(
      `postgres e2e: case recorded at position ${position}, read back by the referred NGO 200, ` +
        `inclusion proof valid in a checkpoint of ${checkpoint.treeSize}, health up`,
    );
  }, 60_000);
});
