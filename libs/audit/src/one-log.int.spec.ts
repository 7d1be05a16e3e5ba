/**
 * One log for the deployment: two API-like replicas, each with its own data
 * directory, over one shared store and one audit log in PostgreSQL (a schema
 * of its own per run, at 127.0.0.1:5432 db `test`). One holds the lease and
 * writes; the other follows read-only and serves the same checkpoints and
 * proofs; when the writer stops, the other takes the lease over and continues
 * the same log (no fork: a consistency proof from before to after verifies).
 */
import { SqliteEventStore, type RecordedEvent } from '@nrm/event-store';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { appendInvented } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { FileLease } from './log-lease';
import { verifyConsistency, verifyInclusion } from './merkle';
import { MerkleLog, NotLeaseHolder } from './merkle-log';
import { PostgresSharedLog } from './postgres-shared-log';

const URL = process.env.NRM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const keys = AuditKeys.generate('ledger.example/audit');

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`waited in vain for ${what}`);
}

describe('one audit log for several API replicas (PostgreSQL)', () => {
  const schema = `audit_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let dir: string;
  let admin: pg.Client;
  const open: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-one-log-'));
    admin = new pg.Client({ connectionString: URL });
    await admin.connect();
  });
  afterAll(async () => {
    for (const thing of open.reverse()) await thing.close().catch(() => undefined);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  function replica(name: string): { store: SqliteEventStore; log: MerkleLog; shared: PostgresSharedLog } {
    mkdirSync(join(dir, name), { recursive: true });
    // The replicas share the event store (EventStoreDB in production; here one SQLite file).
    const store = new SqliteEventStore({
      filename: join(dir, 'events.sqlite'),
      synchronous: 'NORMAL',
      pollIntervalMs: 20,
    });
    const shared = new PostgresSharedLog({ connectionString: URL, schema });
    const log = new MerkleLog({
      store,
      filename: join(dir, name, 'audit.sqlite'),
      signer: keys,
      lease: shared,
      shared,
      followMs: 50,
      checkpointEvery: 100,
      checkpointIntervalMs: 0,
    });
    open.push(store, log);
    return { store, log, shared };
  }

  it('one writes, both serve the same checkpoints and proofs, and the other takes over without a fork', async () => {
    const a = replica('a');
    const b = replica('b');
    await a.log.start();
    await b.log.start();
    expect([a.log.role, b.log.role]).toEqual(['writer', 'follower']);
    expect(b.log.health()).toMatchObject({ ok: true, state: 'following', role: 'follower' });

    await appendInvented(a.store, 300);
    await until(() => a.log.treeSize === 300, 'the writer to record 300 events');
    a.log.checkpoint();
    await a.log.flushed();
    await until(() => b.log.latestCheckpoint()?.treeSize === 300, 'the follower to read the checkpoint');
    const before = a.log.latestCheckpoint()!;
    expect(b.log.latestCheckpoint()).toEqual(before);
    expect(b.log.checkpoints()).toEqual(a.log.checkpoints());

    const counts = { events: 300, sameProofs: 0, refusedWrites: 0, refusedLeases: 0, takenOver: 0 };
    for (let position = 1; position <= 300; position += 7) {
      const fromA = a.log.inclusionProof(position, 300);
      expect(b.log.inclusionProof(position, 300)).toEqual(fromA);
      expect(verifyInclusion({ ...fromA, rootHash: Buffer.from(before.rootHash, 'hex') })).toEqual({
        valid: true,
      });
      counts.sameProofs++;
    }
    // The follower cannot extend the log, nor can a third process take the lease.
    const events: RecordedEvent[] = [];
    for await (const event of b.store.readAll({ fromPosition: { after: 299 } })) events.push(event);
    expect(() => b.log.add(events)).toThrow(NotLeaseHolder);
    counts.refusedWrites++;
    const third = new PostgresSharedLog({ connectionString: URL, schema });
    expect(await third.tryAcquire()).toBe(false);
    counts.refusedLeases++;
    await expect(third.push(b.log)).rejects.toThrow(/not the holder/);
    counts.refusedWrites++;
    await third.close();
    const { rows: writers } = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1`,
      [0x4e524d4c],
    );
    expect(Number(writers[0]!.n)).toBe(1);

    // The writer stops: the follower takes the lease over and continues the same log.
    await a.log.close();
    await until(() => b.log.role === 'writer' && b.log.health().state === 'running', 'the take-over');
    counts.takenOver++;
    await appendInvented(b.store, 200);
    await until(() => b.log.treeSize === 500, 'the new writer to record 500 events');
    b.log.checkpoint();
    await b.log.flushed();
    const after = b.log.latestCheckpoint()!;
    expect(after.treeSize).toBe(500);
    expect(b.log.checkpointAt(300)).toEqual(before);
    const consistency = b.log.consistencyProof(300, 500);
    expect(
      verifyConsistency({
        ...consistency,
        firstRoot: Buffer.from(before.rootHash, 'hex'),
        secondRoot: Buffer.from(after.rootHash, 'hex'),
      }),
    ).toEqual({ valid: true });
    const { rows } = await admin.query<{ n: string; last: string; sizes: string }>(
      `SELECT count(*) AS n, max(leaf) AS last, (SELECT string_agg(tree_size::text, ',' ORDER BY tree_size) FROM ${schema}.audit_checkpoints) AS sizes FROM ${schema}.audit_leaves`,
    );
    expect(rows[0]).toMatchObject({ n: '500', last: '499' });
    // The shared log refuses to be rewritten.
    await expect(admin.query(`DELETE FROM ${schema}.audit_leaves WHERE leaf = 499`)).rejects.toThrow(
      /append-only/,
    );
    console.log(
      `one log: ${JSON.stringify({ ...counts, leaves: Number(rows[0]!.n), checkpoints: rows[0]!.sizes })}`,
    );
  });
});

describe('a shared log rewritten behind the writer', () => {
  const schema = `audit_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  it('is refused by a replica reading it: a rewritten leaf or a forged checkpoint stops its log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-one-log-fork-'));
    const admin = new pg.Client({ connectionString: URL });
    await admin.connect();
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), pollIntervalMs: 20 });
    const open: MerkleLog[] = [];
    const replica = (name: string): MerkleLog => {
      const shared = new PostgresSharedLog({ connectionString: URL, schema });
      const log = new MerkleLog({
        store,
        filename: join(dir, `${name}.sqlite`),
        signer: keys,
        lease: shared,
        shared,
        followMs: 50,
        checkpointEvery: 10,
        checkpointIntervalMs: 0,
      });
      open.push(log);
      return log;
    };
    const counts = { attacks: 0, refused: 0 };
    try {
      const writer = replica('writer');
      await writer.start();
      await appendInvented(store, 40);
      await until(() => writer.treeSize === 40, 'the writer to record 40 events');
      writer.checkpoint();
      await writer.flushed();
      // Attack 1: with the triggers dropped, one leaf rewritten; a fresh replica reads the log.
      await admin.query(`ALTER TABLE ${schema}.audit_leaves DISABLE TRIGGER USER`);
      await admin.query(`UPDATE ${schema}.audit_leaves SET hash = sha256(hash) WHERE leaf = 17`);
      counts.attacks++;
      const fresh = replica('fresh');
      await fresh.start();
      await until(() => fresh.health().state === 'failed', 'the fresh replica to refuse the log');
      expect(fresh.health().failure?.message).toMatch(/forked|another root/);
      counts.refused++;
      // Every replica's start puts the triggers back: drop them again to restore the leaf.
      await admin.query(`ALTER TABLE ${schema}.audit_leaves DISABLE TRIGGER USER`);
      await admin.query(`UPDATE ${schema}.audit_leaves SET hash = $1 WHERE leaf = 17`, [writer.node(0, 17)]);
      // Attack 2: a checkpoint of a larger size, signed by another key, put in the shared log.
      const intruder = AuditKeys.generate('ledger.example/audit');
      const forged = new MerkleLog({
        store,
        filename: join(dir, 'forged.sqlite'),
        signer: intruder,
        checkpointIntervalMs: 0,
      });
      open.push(forged);
      await forged.catchUp();
      await admin.query(`INSERT INTO ${schema}.audit_checkpoints (tree_size, note) VALUES (41, $1)`, [
        forged.checkpoint()!.note.replace('\n40\n', '\n41\n'),
      ]);
      counts.attacks++;
      const another = replica('another');
      await another.start();
      await until(() => another.health().state === 'failed', 'the replica to refuse the checkpoint');
      expect(another.health().failure?.message).toMatch(/malformed|another key|bad signature/);
      counts.refused++;
      console.log(`shared log rewritten: ${JSON.stringify(counts)}`);
    } finally {
      for (const log of open.reverse()) await log.close();
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the embedded default: a file lock beside the log', () => {
  it('lets one process at a time write; the lock goes with its holder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-file-lease-'));
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), pollIntervalMs: 20 });
    const lease = (): FileLease => new FileLease(join(dir, 'audit.lease'));
    const open = (l: FileLease): MerkleLog =>
      new MerkleLog({
        store,
        filename: join(dir, 'audit.sqlite'),
        signer: keys,
        lease: l,
        followMs: 50,
        checkpointIntervalMs: 0,
      });
    const first = open(lease());
    const second = open(lease());
    try {
      await first.start();
      await second.start();
      expect([first.role, second.role]).toEqual(['writer', 'follower']);
      await appendInvented(store, 50);
      await until(() => second.treeSize === 50, 'the follower to see 50 leaves');
      expect(second.checkpoint()).toBeUndefined();
      // The follower (the console beside a running API) asks; the writer signs.
      expect((await second.requestCheckpoint(5000))?.treeSize).toBe(50);
      await first.close();
      await until(() => second.role === 'writer', 'the take-over');
      await appendInvented(store, 10);
      await until(() => second.treeSize === 60, 'the new writer to record 60 events');
      console.log(`file lease: ${JSON.stringify({ leaves: second.treeSize, takenOver: 1 })}`);
    } finally {
      await first.close();
      await second.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
