/**
 * A key rotation in the deployment's one audit log in PostgreSQL (AUDIT_LOG_STORE=postgres): the
 * writer's retired key travels with the log, so that every replica follows the rotation, whichever
 * key it was started with, and a verifier that trusts the keys accepts what a replica serves.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { appendInvented, readEverything, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import type { CheckpointSigner } from './checkpoint';
import { KeyChain, rotationSigner } from './key-rotation';
import { LogForked, MerkleLog, RetiredKeyError } from './merkle-log';
import { PostgresSharedLog } from './postgres-shared-log';

const URL = process.env.NRM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ORIGIN = 'nrm-ledger.example/audit';
const oldKey = AuditKeys.generate(ORIGIN);
const newKey = AuditKeys.generate(ORIGIN);
const forged = AuditKeys.generate(ORIGIN);

describe('retired audit keys in the PostgreSQL shared log (int)', () => {
  const schema = `audit_rot_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let env: ReturnType<typeof scratch>;
  const open: MerkleLog[] = [];
  const shared: PostgresSharedLog[] = [];

  beforeAll(() => {
    env = scratch('nrm-audit-rot-');
  });
  afterAll(async () => {
    for (const l of open) await l.close();
    for (const s of shared) await s.close();
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    await env.dispose();
  });

  const sharedLog = (): PostgresSharedLog => {
    const s = new PostgresSharedLog({ connectionString: URL, schema });
    shared.push(s);
    return s;
  };
  const replica = (name: string, signer: CheckpointSigner): MerkleLog => {
    const log = new MerkleLog({
      store: env.store,
      filename: join(env.dir, `${name}.sqlite`),
      signer,
      checkpointEvery: 1_000_000,
      checkpointIntervalMs: 0,
    });
    open.push(log);
    return log;
  };
  const closeLog = async (log: MerkleLog): Promise<void> => {
    open.splice(open.indexOf(log), 1);
    await log.close();
  };
  const grow = async (log: MerkleLog, events: number) => {
    await appendInvented(env.store, events);
    log.add((await readEverything(env.store)).slice(log.treeSize));
    return log.checkpoint()!;
  };

  it('lets a replica on the new key import the old checkpoints, stops one on the old key signing, and verifies', async () => {
    const writerLease = sharedLog();
    expect(await writerLease.tryAcquire()).toBe(true);

    // Before the rotation: the writer signs with the old key; a second replica follows it.
    const writer = replica('writer', oldKey);
    const before = await grow(writer, 40);
    await writerLease.push(writer);
    await closeLog(writer);
    const follower = replica('follower-old-key', oldKey);
    await sharedLog().pull(follower);
    expect(follower.latestCheckpoint()?.treeSize).toBe(before.treeSize);

    // The rotation (as `ledger rotate-audit-key` does it): a checkpoint signed by both, the old key retired.
    const rotating = replica('writer', rotationSigner(oldKey, newKey));
    const rotation = await grow(rotating, 5);
    rotating.retireKey(oldKey.keyId, newKey.keyId);
    await writerLease.push(rotating);
    await closeLog(rotating);
    const resumed = replica('writer', newKey);
    const after = await grow(resumed, 30);
    await writerLease.push(resumed);

    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ key_id: string; successor: string; rotation_tree_size: number }>(
        `SELECT key_id, successor, rotation_tree_size::int FROM ${schema}.audit_retired_keys`,
      );
      expect(rows).toEqual([
        { key_id: oldKey.keyId, successor: newKey.keyId, rotation_tree_size: rotation.treeSize },
      ]);
      await expect(admin.query(`DELETE FROM ${schema}.audit_retired_keys`)).rejects.toThrow(/append-only/);
    } finally {
      await admin.end();
    }

    // A replica started on the new key in an empty DATA_DIR (a new pod) takes the whole log,
    // the old key's checkpoints included, and holds the old key as retired.
    const fresh = replica('fresh-new-key', newKey);
    await sharedLog().pull(fresh);
    expect(fresh.checkpoints().map((c) => c.treeSize)).toEqual([
      before.treeSize,
      rotation.treeSize,
      after.treeSize,
    ]);
    expect(fresh.retiredKeys().map((r) => [r.keyId, r.successor])).toEqual([[oldKey.keyId, newKey.keyId]]);

    // The replica still on the old key follows the writer's new checkpoints, and signs nothing new.
    await sharedLog().pull(follower);
    expect(follower.latestCheckpoint()?.treeSize).toBe(after.treeSize);
    expect(follower.retiredKeys().map((r) => r.keyId)).toEqual([oldKey.keyId]);
    await appendInvented(env.store, 3);
    follower.add((await readEverything(env.store)).slice(follower.treeSize));
    expect(() => follower.checkpoint()).toThrow(RetiredKeyError);

    // A verifier trusting both keys, oldest first, follows what the new replica serves.
    const chain = new KeyChain([oldKey.verifier, newKey.verifier]);
    const verdicts = fresh.checkpoints().map((c) => chain.step(c));
    expect(verdicts.every((v) => v.ok)).toBe(true);

    // A retirement the shared log cannot show (no rotation checkpoint signed by both) is refused.
    const attacker = new pg.Client({ connectionString: URL });
    await attacker.connect();
    try {
      await attacker.query(
        `INSERT INTO ${schema}.audit_retired_keys (origin, key_id, successor, retired_at, rotation_tree_size)
         VALUES ($1, $2, $3, $4, $5)`,
        [ORIGIN, newKey.keyId, forged.keyId, new Date().toISOString(), after.treeSize],
      );
    } finally {
      await attacker.end();
    }
    const another = replica('another-new-key', newKey);
    await expect(sharedLog().pull(another)).rejects.toThrow(LogForked);
    expect(another.retiredKeys()).toEqual([]);
    console.log(
      `audit key rotation in PostgreSQL: 1 retired key shared; new-key replica imported ${fresh.checkpoints().length} checkpoints, ` +
        `old-key replica followed to ${follower.latestCheckpoint()?.treeSize} and refused to sign; ` +
        `verifier accepted ${verdicts.length}/${verdicts.length}; forged retirement refused`,
    );
  });
});
