/**
 * The log over a store with sparse positions: EventStoreDB's commit positions,
 * through the adapter and its fake client (byte offsets in the transaction log,
 * with system records between the ledger's events). The log must cover every
 * event, its proofs verify (also with sigstore-js, code nobody here wrote), an
 * export verifies, and a deleted tail or a changed event is still a finding.
 */
import { VerificationError } from '@sigstore/verify';
import { verifyTLogInclusion } from '@sigstore/verify/dist/tlog';
import { EventStoreDbEventStore, type RecordedEvent } from '@nrm/event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeEventStoreDb } from '../../event-store/test/fake-eventstoredb-client';
import Database from 'better-sqlite3';
import { appendInvented, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import type { SignedCheckpoint } from './checkpoint';
import { writeExport } from './export';
import { IntegrityWatch } from './integrity';
import { leafBytes } from './leaf';
import { verifyConsistency, verifyInclusion } from './merkle';
import { LogDiverged, MerkleLog } from './merkle-log';
import { verifyExport } from './verify-export';

const ORIGIN = 'ledger.example/audit';
const keys = AuditKeys.generate(ORIGIN);
const EVENTS = 240;

interface Scene {
  readonly server: FakeEventStoreDb;
  readonly store: EventStoreDbEventStore;
  readonly log: MerkleLog;
  readonly dir: string;
  readonly dispose: () => Promise<void>;
}

async function scene(): Promise<Scene> {
  const dir = mkdtempSync(join(tmpdir(), 'nrm-sparse-'));
  const server = new FakeEventStoreDb();
  const store = new EventStoreDbEventStore({ client: server.client(), batchSize: 64 });
  await appendInvented(store, EVENTS);
  const log = new MerkleLog({
    store,
    filename: join(dir, 'audit.sqlite'),
    signer: keys,
    densePositions: false,
    checkpointEvery: 50,
    checkpointIntervalMs: 0,
    batchSize: 30,
  });
  await log.catchUp();
  log.checkpoint();
  return {
    server,
    store,
    log,
    dir,
    dispose: async () => {
      await log.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function everything(store: EventStoreDbEventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
}

async function exportOf(scene: Scene, to = scene.log.treeSize): Promise<string> {
  const lines: string[] = [];
  await writeExport(scene.store, scene.log, { from: 1, to }, { write: (line) => void lines.push(line) });
  return lines.join('');
}

/** Removes the store's last `count` records of the ledger (a deleted tail), as an operator with disk access would. */
function deleteTail(server: FakeEventStoreDb, count: number): number[] {
  const removed = server.log.splice(server.log.length - count, count);
  for (const record of removed) {
    const stream = server.streamRecords(record.streamId) as unknown[] | undefined;
    stream?.splice(stream.indexOf(record), 1);
  }
  return removed.map((r) => Number(r.logPosition));
}

function sigstore(body: Buffer, leafIndex: number, checkpoint: SignedCheckpoint, hashes: Buffer[]): string {
  const entry = {
    logIndex: String(leafIndex),
    logId: { keyId: Buffer.from(keys.keyId, 'hex') },
    kindVersion: { kind: 'nrm-ledger-event', version: '1' },
    integratedTime: '0',
    canonicalizedBody: body,
    inclusionPromise: undefined,
    inclusionProof: {
      logIndex: String(leafIndex),
      rootHash: Buffer.from(checkpoint.rootHash, 'hex'),
      treeSize: String(checkpoint.treeSize),
      hashes,
      checkpoint: { envelope: checkpoint.note },
    },
  } as Parameters<typeof verifyTLogInclusion>[0];
  try {
    verifyTLogInclusion(entry, [
      {
        logID: Buffer.concat([Buffer.from(keys.keyId, 'hex'), Buffer.alloc(28)]),
        baseURL: `https://${keys.origin}`,
        publicKey: keys.publicKey,
        validFor: { start: new Date(0), end: new Date(8.64e15) },
      },
    ]);
    return 'accepted';
  } catch (error) {
    return error instanceof VerificationError ? 'refused' : 'crashed';
  }
}

describe('the audit log over sparse positions (EventStoreDB, fake client)', () => {
  let s: Scene;
  beforeEach(async () => {
    s = await scene();
  });
  afterEach(async () => {
    await s.dispose();
  });

  it('covers every event in store order, and every proof verifies, with ours and with sigstore-js', async () => {
    const events = await everything(s.store);
    const gaps = events.filter((e, i) => i > 0 && e.position - events[i - 1]!.position > 1).length;
    expect(events.length).toBeGreaterThanOrEqual(EVENTS);
    expect(gaps).toBeGreaterThan(EVENTS / 2);
    expect(s.log.treeSize).toBe(events.length);
    expect(s.log.lastPosition).toBe(events[events.length - 1]!.position);
    const checkpoint = s.log.latestCheckpoint()!;
    expect(checkpoint.treeSize).toBe(events.length);
    const counts = { events: events.length, gaps, inclusion: 0, sigstore: 0, consistency: 0 };
    for (const [i, event] of events.entries()) {
      const proof = s.log.inclusionProof(event.position, checkpoint.treeSize);
      expect(proof.leafIndex).toBe(i);
      const ours = verifyInclusion({ ...proof, rootHash: Buffer.from(checkpoint.rootHash, 'hex') });
      expect(ours).toEqual({ valid: true });
      counts.inclusion++;
      expect(sigstore(leafBytes(event), i, checkpoint, proof.proof)).toBe('accepted');
      counts.sigstore++;
    }
    for (const older of s.log.checkpoints()) {
      const proof = s.log.consistencyProof(older.treeSize, checkpoint.treeSize);
      expect(verifyConsistency(proof)).toEqual({ valid: true });
      counts.consistency++;
    }
    // A position between two recorded events holds nothing the log recorded.
    const between = events[1]!.position - 1;
    expect(() => s.log.inclusionProof(between, checkpoint.treeSize)).toThrow(/holds no event/);
    console.log(`sparse positions: ${JSON.stringify(counts)}`);
  });

  it('exports in leaves (format 2) and the export verifies; the watch finds nothing', async () => {
    const verdict = await verifyExport([await exportOf(s)], {
      trustedCheckpoint: s.log.latestCheckpoint(),
      publicKey: keys.publicKey,
    });
    expect(verdict).toMatchObject({ ok: true, unit: 'leaf', events: s.log.treeSize });
    const watch = new IntegrityWatch({
      log: s.log,
      store: s.store,
      filename: join(s.dir, 'audit.sqlite'),
      headCheckMs: 0,
      rehashEventsPerSecond: 0,
    });
    expect(await watch.start()).toBeUndefined();
    await watch.close();
  });

  it('finds a deleted tail after a gap, offline and online, at the first deleted position', async () => {
    const trusted = s.log.latestCheckpoint()!;
    const counts = { deleted: 0, offline: 0, online: 0 };
    const removed = deleteTail(s.server, 3);
    counts.deleted = removed.length;
    const first = Math.min(...removed);
    // Offline: what the store still holds, against the checkpoint kept from before.
    const kept = s.log.treeSize - 3;
    const verdict = await verifyExport([await exportOf(s, kept)], {
      trustedCheckpoint: trusted,
      publicKey: keys.publicKey,
    });
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.fault).toMatchObject({ kind: 'truncated', position: kept + 1, unit: 'leaf' });
      counts.offline++;
    }
    // Online: the watch compares the head with the leaf index.
    const watch = new IntegrityWatch({
      log: s.log,
      store: s.store,
      filename: join(s.dir, 'audit.sqlite'),
      headCheckMs: 0,
      rehashEventsPerSecond: 0,
    });
    const finding = await watch.start();
    expect(finding).toMatchObject({ kind: 'truncated', position: first });
    counts.online++;
    await watch.close();
    console.log(`sparse tail deletion: ${JSON.stringify(counts)}`);
  });

  it('finds a deleted tail followed by new events: missing online, reused offline against a rebuilt log', async () => {
    const trusted = s.log.latestCheckpoint()!;
    const removed = deleteTail(s.server, 3);
    // Later than the trusted checkpoint, so that an event recorded after it sits in its leaves.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await appendInvented(s.store, 3);
    const counts = { deleted: removed.length, appended: 3, online: '', offline: '' };
    const watch = new IntegrityWatch({
      log: s.log,
      store: s.store,
      filename: ':memory:',
      headCheckMs: 0,
      rehashEventsPerSecond: 0,
    });
    // EventStoreDB never hands a position out twice: the deleted ones are missing, later ones remain.
    const online = await watch.start();
    expect(online).toMatchObject({ kind: 'missing', position: Math.min(...removed) });
    counts.online = online!.kind;
    await watch.close();
    // The operator rebuilds the log from the store as it now is; the kept checkpoint tells.
    const rebuilt = new MerkleLog({
      store: s.store,
      filename: join(s.dir, 'rebuilt.sqlite'),
      signer: keys,
      densePositions: false,
      checkpointIntervalMs: 0,
    });
    try {
      await rebuilt.catchUp();
      rebuilt.checkpoint();
      const lines: string[] = [];
      await writeExport(
        s.store,
        rebuilt,
        { from: 1, to: rebuilt.treeSize },
        { write: (l) => void lines.push(l) },
      );
      const verdict = await verifyExport([lines.join('')], {
        trustedCheckpoint: trusted,
        publicKey: keys.publicKey,
      });
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) {
        expect(verdict.fault).toMatchObject({ kind: 'reused', position: trusted.treeSize - 2, unit: 'leaf' });
        counts.offline = verdict.fault.kind;
      }
    } finally {
      await rebuilt.close();
    }
    console.log(`sparse reuse: ${JSON.stringify(counts)}`);
  });

  it('finds a changed event, and the log refuses it', async () => {
    const watch = new IntegrityWatch({
      log: s.log,
      store: s.store,
      filename: ':memory:',
      headCheckMs: 0,
      rehashEventsPerSecond: 0,
    });
    const events = await everything(s.store);
    const target = events[100]!;
    const record = s.server.log.find((r) => Number(r.logPosition) === target.position)!;
    (record as { data: string }).data = record.data.replace('"sequence":', '"sequence":1');
    const changed = await watch.checkPosition(target.position);
    expect(changed).toMatchObject({ kind: 'changed', position: target.position });
    // And the log refuses to take the changed event again.
    expect(() => s.log.add(events.slice(100, 101).map((e) => ({ ...e, type: 'Other' })))).toThrow(
      LogDiverged,
    );
    await watch.close();
    console.log(`sparse change: ${JSON.stringify({ changedAt: target.position, found: changed?.kind })}`);
  });

  it('follows the store live over the gaps, and signs what it follows', async () => {
    await s.log.start();
    const before = s.log.treeSize;
    await appendInvented(s.store, 60);
    const events = await everything(s.store);
    expect(await s.log.waitFor(events.length, 20_000)).toBe(true);
    expect(s.log.lastPosition).toBe(events[events.length - 1]!.position);
    const checkpoint = s.log.checkpoint()!;
    const last = s.log.inclusionProof(s.log.lastPosition, checkpoint.treeSize);
    expect(verifyInclusion({ ...last, rootHash: Buffer.from(checkpoint.rootHash, 'hex') })).toEqual({
      valid: true,
    });
    console.log(
      `sparse live: ${JSON.stringify({ before, after: s.log.treeSize, state: s.log.health().state })}`,
    );
    await s.log.stop();
  });
});

describe('a log from before the leaf index (schema 2)', () => {
  it('builds the index from its leaves (leaf n at position n + 1) and keeps serving proofs', async () => {
    const env = scratch('nrm-leaf-index-');
    const file = join(env.dir, 'audit.sqlite');
    try {
      await appendInvented(env.store, 70);
      const log = new MerkleLog({ store: env.store, filename: file, signer: keys, checkpointIntervalMs: 0 });
      await log.catchUp();
      const checkpoint = log.checkpoint()!;
      await log.close();
      // Back to schema 2: no leaf index.
      const raw = new Database(file);
      raw.exec('DROP TABLE leaf_positions; PRAGMA user_version = 2;');
      raw.close();
      const upgraded = new MerkleLog({
        store: env.store,
        filename: file,
        signer: keys,
        checkpointIntervalMs: 0,
      });
      expect(upgraded.positionAt(69)).toBe(70);
      expect(upgraded.lastPosition).toBe(70);
      const proof = upgraded.inclusionProof(35, checkpoint.treeSize);
      expect(proof.leafIndex).toBe(34);
      expect(verifyInclusion({ ...proof, rootHash: Buffer.from(checkpoint.rootHash, 'hex') })).toEqual({
        valid: true,
      });
      await upgraded.close();
    } finally {
      await env.dispose();
    }
  });
});
