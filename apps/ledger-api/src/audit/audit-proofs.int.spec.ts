import {
  AuditKeys,
  hashFromHex,
  IntegrityWatch,
  MerkleLog,
  verifyConsistency,
  verifyInclusion,
} from '@nrm/audit';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { appendInvented, scratch } from '../../../../libs/audit/test/invented-events';
import { ProblemException } from '../http/problem';
import { AuditProofs } from './audit-proofs';

let env: ReturnType<typeof scratch>;
let log: MerkleLog;
let proofs: AuditProofs;
const keys = AuditKeys.generate();

beforeEach(() => {
  env = scratch('nrm-audit-api-');
  log = new MerkleLog({
    store: env.store,
    filename: join(env.dir, 'audit.sqlite'),
    signer: keys,
    checkpointEvery: 10,
    checkpointIntervalMs: 0,
    batchSize: 5,
  });
  proofs = new AuditProofs(log, keys);
});
afterEach(async () => {
  await log.close();
  await env.dispose();
});

/** The problem a call answers with: status, code and field. */
async function problemOf(
  call: () => unknown,
): Promise<{ status: number; code: string; field?: string } | 'answered'> {
  try {
    await call();
    return 'answered';
  } catch (error) {
    if (!(error instanceof ProblemException)) throw error;
    const { status, code, field } = error.problem;
    return { status, code, ...(field !== undefined ? { field } : {}) };
  }
}

describe('AuditProofs', () => {
  it('answers 404 before the first checkpoint', async () => {
    expect(await problemOf(() => proofs.latestCheckpoint())).toEqual({
      status: 404,
      code: 'AUDIT.NO_CHECKPOINT',
    });
    expect(await problemOf(() => proofs.inclusion(1))).toEqual({ status: 404, code: 'AUDIT.NO_CHECKPOINT' });
    expect(proofs.checkpoints({})).toEqual({ entries: [] });
  });

  it('proves against checkpoints, pages through them, and refuses what lies beyond, naming the field', async () => {
    await appendInvented(env.store, 35);
    await log.catchUp(); // checkpoints at 10, 20 and 30 on the way
    log.checkpoint();
    const latest = proofs.latestCheckpoint();
    expect(latest.treeSize).toBe(35);

    const inclusion = await proofs.inclusion(7, 20);
    expect(inclusion.checkpoint).toEqual(log.checkpointAt(20));
    expect(
      verifyInclusion({
        leafIndex: 6,
        treeSize: 20,
        leafHash: hashFromHex(inclusion.leafHash),
        proof: inclusion.proof.map(hashFromHex),
        rootHash: hashFromHex(log.checkpointAt(20)!.rootHash),
      }),
    ).toEqual({ valid: true });
    expect((await proofs.inclusion(35)).treeSize).toBe(35); // the latest by default

    const consistency = proofs.consistency(10);
    expect(consistency).toMatchObject({ fromSize: 10, toSize: 35, toRoot: latest.rootHash });
    expect(
      verifyConsistency({
        firstSize: 10,
        secondSize: 35,
        firstRoot: hashFromHex(consistency.fromRoot),
        secondRoot: hashFromHex(consistency.toRoot),
        proof: consistency.proof.map(hashFromHex),
      }),
    ).toEqual({ valid: true });

    const first = proofs.checkpoints({ limit: 2 });
    expect(first.entries.map((c) => c.treeSize)).toEqual([10, 20]);
    expect(first.next).toEqual({ cursor: 20 });
    const second = proofs.checkpoints({ limit: 2, cursor: 20 });
    expect(second.entries.map((c) => c.treeSize)).toEqual([30, 35]);
    expect(second.next).toBeUndefined();

    // More events than the latest checkpoint covers: proofs stop at what is signed.
    await appendInvented(env.store, 3);
    await log.catchUp();
    expect(log.treeSize).toBe(38);
    const beyond = { status: 422, code: 'AUDIT.BEYOND_CHECKPOINT' };
    expect(await problemOf(() => proofs.inclusion(1, 36))).toEqual({ ...beyond, field: 'treeSize' });
    expect(await problemOf(() => proofs.inclusion(36))).toEqual({ ...beyond, field: 'position' });
    expect(await problemOf(() => proofs.inclusion(21, 20))).toEqual({ ...beyond, field: 'position' });
    expect(await problemOf(() => proofs.consistency(5, 36))).toEqual({ ...beyond, field: 'to' });
    expect(await problemOf(() => proofs.consistency(21, 20))).toEqual({
      status: 400,
      code: 'REQUEST.INVALID',
      field: 'from',
    });
    expect(await problemOf(() => proofs.consistency(36))).toEqual({
      status: 400,
      code: 'REQUEST.INVALID',
      field: 'from',
    });
  });

  it('withholds the proof of an event the store no longer backs, and reports it', async () => {
    const watch = new IntegrityWatch({
      log,
      store: env.store,
      filename: join(env.dir, 'audit.sqlite'),
      headCheckMs: 0,
      rehashEventsPerSecond: 0,
    });
    const watched = new AuditProofs(log, keys, undefined, watch);
    await appendInvented(env.store, 20);
    await log.catchUp();
    expect((await watched.inclusion(7)).position).toBe(7);
    const db = new Database(join(env.dir, 'events.sqlite'));
    db.exec('DROP TRIGGER events_are_immutable_update');
    db.exec(`UPDATE events SET data = replace(data, '"score":', '"scorf":') WHERE position = 7`);
    db.close();
    expect(await problemOf(() => watched.inclusion(7))).toEqual({
      status: 503,
      code: 'AUDIT.INTEGRITY_HALT',
    });
    expect(watch.finding()).toMatchObject({ kind: 'changed', position: 7, by: 'proof' });
    expect(log.health()).toMatchObject({ ok: false, state: 'failed', failure: { position: 7 } });
    expect((await watched.inclusion(8)).position).toBe(8); // other leaves still prove
    await watch.close();
  });

  it('serves the public key that verifies its checkpoints', () => {
    const key = proofs.publicKey();
    expect(key).toMatchObject({
      algorithm: 'Ed25519',
      keyId: keys.keyId,
      publicKeyJwk: { kty: 'OKP', crv: 'Ed25519' },
    });
    expect(key.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });
});
