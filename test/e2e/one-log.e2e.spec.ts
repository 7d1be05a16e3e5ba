import {
  WitnessKey,
  hashFromHex,
  verifyConsistency,
  verifyInclusion,
  type SignedCheckpoint,
} from '@nrm/audit';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { AuditLogThread } from '../../apps/ledger-api/src/audit/audit-log-thread-client';
import { AUDIT_LOG_THREAD } from '../../apps/ledger-api/src/audit/audit.module';
import { Ledger, Principal } from './harness';

const URL = process.env.NRM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface InclusionAnswer {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  rootHash: string;
  proof: string[];
}

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`waited in vain for ${what}`);
}

/**
 * Two API replicas (two Nest apps, each with its own DATA_DIR) over one event store and one audit
 * log in PostgreSQL (AUDIT_LOG_STORE=postgres, a schema of its own per run): one holds the lease
 * and writes, both serve the same checkpoints and proofs over HTTP, and when the writer stops the
 * other takes the lease over and continues the same log.
 */
describe('one audit log for two API replicas (e2e, PostgreSQL)', () => {
  const schema = `audit_e2e_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const root = mkdtempSync(join(tmpdir(), 'nrm-one-log-e2e-'));
  let a: Ledger | undefined;
  let b: Ledger | undefined;

  afterAll(async () => {
    await b?.close();
    await a?.close().catch(() => undefined);
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves one log from both replicas; the follower takes over without a fork', async () => {
    const keyFile = join(root, 'audit-signing-key.pem');
    writeFileSync(
      keyFile,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }),
      { mode: 0o600 },
    );
    const dirA = join(root, 'a');
    const dirB = join(root, 'b');
    mkdirSync(dirA);
    mkdirSync(dirB);
    // One event store for both (EventStoreDB in production): B's events.sqlite is A's.
    symlinkSync(join(dirA, 'events.sqlite'), join(dirB, 'events.sqlite'));
    const witness = WitnessKey.generate('oversight.example/witness');
    const env = {
      AUDIT_WITNESS_KEYS: witness.verifierKey(),
      AUDIT_LOG_STORE: 'postgres',
      AUDIT_LOG_URL: URL,
      AUDIT_LOG_SCHEMA: schema,
      AUDIT_SIGNING_KEY_FILE: keyFile,
      AUDIT_CHECKPOINT_EVERY: '4',
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
    };
    a = await Ledger.boot({ ...env, DATA_DIR: dirA });
    b = await Ledger.boot({ ...env, DATA_DIR: dirB });
    // Each replica's log runs in its API's audit log thread (AUDIT_LOG_THREAD=on, the default).
    const logA = a.app.get<AuditLogThread>(AUDIT_LOG_THREAD);
    const logB = b.app.get<AuditLogThread>(AUDIT_LOG_THREAD);
    expect([logA.health().role, logB.health().role]).toEqual(['writer', 'follower']);

    const clinicA = await a.principal('health', ['caseworker'], 'clinic-one-log');
    const dpaA = await a.principal('oversight-body', ['oversight'], 'dpa-one-log');
    const clinicB = new Principal(b.base, clinicA.agencyId, clinicA.principalId, clinicA.apiKey);
    const dpaB = new Principal(b.base, dpaA.agencyId, dpaA.principalId, dpaA.apiKey);
    const report = async (through: Principal): Promise<void> => {
      const answer = await through.post('/cases', {
        indicators: ['debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
      });
      expect(answer.status).toBe(201);
    };
    await until(async () => (await clinicB.get('/health')).status === 200, 'replica B to be healthy');
    await until(
      async () => (await dpaB.get('/audit/public-key')).status === 200,
      'replica B to know the oversight principal',
    );
    for (let i = 0; i < 6; i++) await report(i % 2 === 0 ? clinicA : clinicB);

    const head = await a.store.headPosition();
    const latest = async (dpa: Principal) =>
      (await dpa.get<SignedCheckpoint>('/audit/checkpoints/latest')).body;
    await until(async () => (await latest(dpaA)).treeSize === head, 'the writer to sign the head');
    await until(async () => (await latest(dpaB)).treeSize >= head, 'the follower to serve it');
    // The oversight reads above are audited, so the writer may sign again meanwhile; the follower
    // (its log thread polls the shared leaves) serves the same checkpoint once it has caught up.
    let before = await latest(dpaA);
    await until(async () => {
      before = await latest(dpaA);
      return JSON.stringify(await latest(dpaB)) === JSON.stringify(before);
    }, 'both replicas to serve one checkpoint');
    expect(before.treeSize).toBeGreaterThanOrEqual(head);

    const counts = {
      replicas: 2,
      events: head,
      sameProofs: 0,
      cosignedOnA: 0,
      servedByB: 0,
      takenOver: 0,
      after: 0,
    };
    for (let position = 1; position <= head; position++) {
      const path = `/audit/proofs/inclusion?position=${position}&treeSize=${before.treeSize}`;
      const fromA = await dpaA.get<InclusionAnswer>(path);
      const fromB = await dpaB.get<InclusionAnswer>(path);
      expect(fromB.status).toBe(200);
      expect(fromB.body).toEqual(fromA.body);
      expect(
        verifyInclusion({
          leafIndex: fromB.body.leafIndex,
          treeSize: fromB.body.treeSize,
          leafHash: hashFromHex(fromB.body.leafHash),
          rootHash: hashFromHex(before.rootHash),
          proof: fromB.body.proof.map(hashFromHex),
        }),
      ).toEqual({ valid: true });
      counts.sameProofs++;
    }

    // A witness cosigns through replica A; replica B serves the cosignature too.
    const text = before.note.slice(0, before.note.indexOf('\n\n') + 1);
    const cosignature = witness.cosign(text, Math.floor(Date.now() / 1000));
    const line = `— ${cosignature.name} ${Buffer.concat([Buffer.from(cosignature.keyId, 'hex'), cosignature.signature]).toString('base64')}`;
    const cosigned = await dpaA.post<{ cosignedBy: string[] }>('/audit/checkpoints/cosignatures', {
      note: `${before.note}${line}\n`,
    });
    expect(cosigned.status).toBe(201);
    counts.cosignedOnA++;
    // Served with the checkpoint of that size (reads are audited: the log, and its latest, move on).
    const atSize = async (dpa: Principal, size: number) =>
      (await dpa.get<{ entries: SignedCheckpoint[] }>(`/audit/checkpoints?cursor=${size - 1}&limit=1`)).body
        .entries[0];
    await until(
      async () => (await atSize(dpaB, before.treeSize))?.note.includes(line) === true,
      'replica B to serve the cosignature',
    );
    counts.servedByB++;

    // The writer stops: replica B takes the lease over and continues the same log.
    await a.close();
    a = undefined;
    await until(() => logB.health().role === 'writer' && logB.health().state === 'running', 'the take-over');
    counts.takenOver++;
    for (let i = 0; i < 5; i++) await report(clinicB);
    const newHead = await b.store.headPosition();
    await until(async () => (await latest(dpaB)).treeSize === newHead, 'the new writer to sign');
    const after = await latest(dpaB);
    counts.after = after.treeSize;
    const consistency = await dpaB.get<{ proof: string[] }>(
      `/audit/proofs/consistency?from=${before.treeSize}&to=${after.treeSize}`,
    );
    expect(consistency.status).toBe(200);
    expect(
      verifyConsistency({
        firstSize: before.treeSize,
        secondSize: after.treeSize,
        firstRoot: hashFromHex(before.rootHash),
        secondRoot: hashFromHex(after.rootHash),
        proof: consistency.body.proof.map(hashFromHex),
      }),
    ).toEqual({ valid: true });
    expect((await clinicB.get('/health')).status).toBe(200);
    console.log(`one log (two Nest apps): ${JSON.stringify(counts)}`);
    // Two ledgers booted, each starting its projector's and its audit log's threads from source.
  }, 120_000);
});
