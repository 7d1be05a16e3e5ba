import Database from 'better-sqlite3';
import type { EventStore, RecordedEvent, Subscription, SubscribeOptions } from '@nrm/event-store';
import { join } from 'node:path';
import { appendInvented, readEverything, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { verifyCheckpointSignature } from './checkpoint';
import { hashFromHex } from './encoding';
import { eventLeafHash } from './leaf';
import { MerkleRangeError, verifyConsistency, verifyInclusion } from './merkle';
import { LogDiverged, LogGap, MerkleLog, type MerkleLogOptions } from './merkle-log';
import { MerkleTree } from './merkle-tree';

const keys = AuditKeys.generate();
let env: ReturnType<typeof scratch>;
const open: MerkleLog[] = [];

function log(options: Partial<MerkleLogOptions> = {}): MerkleLog {
  const created = new MerkleLog({
    store: env.store,
    filename: join(env.dir, 'audit.sqlite'),
    signer: keys,
    checkpointIntervalMs: 0,
    ...options,
  });
  open.push(created);
  return created;
}

/** The tree recomputed from the store's events now, independently of the log. */
async function recomputed(): Promise<{ tree: MerkleTree; events: RecordedEvent[] }> {
  const events = await readEverything(env.store);
  return { tree: MerkleTree.of(events.map(eventLeafHash)), events };
}

beforeEach(() => {
  env = scratch();
});
afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
  await env.dispose();
});

describe('MerkleLog', () => {
  it('follows the store, signing a checkpoint every N events, each over the root of the events so far', async () => {
    await appendInvented(env.store, 1500);
    const audit = log({ checkpointEvery: 200, batchSize: 64 });
    await audit.start();
    expect(await audit.waitFor(1500, 10_000)).toBe(true);
    await appendInvented(env.store, 40); // live, after catching up
    expect(await audit.waitFor(1540, 10_000)).toBe(true);

    const { tree } = await recomputed();
    const checkpoints = audit.checkpoints();
    expect(checkpoints.length).toBeGreaterThanOrEqual(6);
    expect(checkpoints[checkpoints.length - 1]!.treeSize).toBeGreaterThan(1540 - 200);
    let previous = 0;
    for (const checkpoint of checkpoints) {
      expect(checkpoint.treeSize - previous).toBeGreaterThanOrEqual(200);
      expect(checkpoint.rootHash).toBe(tree.root(checkpoint.treeSize).toString('hex'));
      expect(verifyCheckpointSignature(checkpoint, keys.publicKey)).toEqual({ valid: true });
      previous = checkpoint.treeSize;
    }
    expect(audit.health()).toMatchObject({ ok: true, state: 'running', treeSize: 1540 });
  });

  it('gives inclusion and consistency proofs that verify against its checkpoints', async () => {
    await appendInvented(env.store, 700);
    const audit = log({ checkpointEvery: 97, batchSize: 50 });
    await audit.catchUp();
    audit.checkpoint();
    const { events } = await recomputed();
    const checkpoints = audit.checkpoints();
    let proofs = 0;
    for (const checkpoint of checkpoints) {
      for (let position = 1; position <= checkpoint.treeSize; position += 13) {
        const proof = audit.inclusionProof(position, checkpoint.treeSize);
        const verdict = verifyInclusion({
          leafIndex: proof.leafIndex,
          treeSize: checkpoint.treeSize,
          leafHash: eventLeafHash(events[position - 1]!), // from the event itself, not from the log
          proof: proof.proof,
          rootHash: hashFromHex(checkpoint.rootHash),
        });
        expect(verdict).toEqual({ valid: true });
        proofs++;
      }
    }
    for (const first of checkpoints)
      for (const second of checkpoints) {
        if (first.treeSize > second.treeSize) continue;
        const proof = audit.consistencyProof(first.treeSize, second.treeSize);
        expect(
          verifyConsistency({
            firstSize: first.treeSize,
            secondSize: second.treeSize,
            firstRoot: hashFromHex(first.rootHash),
            secondRoot: hashFromHex(second.rootHash),
            proof: proof.proof,
          }),
        ).toEqual({ valid: true });
        proofs++;
      }
    expect(checkpoints).toHaveLength(7);
    expect(proofs).toBeGreaterThan(200);
  });

  it('names the field of a proof request outside the log', async () => {
    await appendInvented(env.store, 20);
    const audit = log();
    await audit.catchUp();
    const field = (request: () => unknown): string => {
      try {
        request();
        return 'answered';
      } catch (error) {
        return error instanceof MerkleRangeError ? `${error.field}: ${error.message}` : String(error);
      }
    };
    expect(field(() => audit.inclusionProof(21, 21))).toBe(
      'treeSize: treeSize 21 is beyond the log, which holds 20 events',
    );
    expect(field(() => audit.inclusionProof(12, 10))).toBe(
      'position: position 12 is beyond a tree of 10 events',
    );
    expect(field(() => audit.inclusionProof(0, 10))).toBe('position: position must be a whole number from 1');
    expect(field(() => audit.inclusionProof(2.5, 10))).toMatch(/^position/);
    expect(field(() => audit.consistencyProof(11, 10))).toBe(
      'firstSize: firstSize 11 is larger than secondSize 10',
    );
    expect(field(() => audit.consistencyProof(1, 99))).toMatch(/^secondSize/);
    expect(field(() => audit.rootAt(-1))).toMatch(/^treeSize/);
  });

  it('continues after a restart, and two processes may keep the same file', async () => {
    await appendInvented(env.store, 300);
    const first = log({ checkpointEvery: 50 });
    await first.catchUp();
    await first.close();
    await appendInvented(env.store, 300);

    // Two logs on one file, as the API and the console would be: both follow the store at once.
    const a = log({ checkpointEvery: 50, batchSize: 16 });
    const b = log({ checkpointEvery: 50, batchSize: 7 });
    await Promise.all([a.start(), b.start()]);
    await appendInvented(env.store, 200);
    expect(await a.waitFor(800, 10_000)).toBe(true);
    expect(await b.waitFor(800, 10_000)).toBe(true);
    expect(a.health()).toMatchObject({ ok: true });
    expect(b.health()).toMatchObject({ ok: true });
    const { tree } = await recomputed();
    expect(a.rootAt(800)).toEqual(tree.root(800));
    for (const checkpoint of b.checkpoints())
      expect(checkpoint.rootHash).toBe(tree.root(checkpoint.treeSize).toString('hex'));
  });

  it('signs a checkpoint after the interval when fewer than N events came', async () => {
    const audit = log({ checkpointEvery: 10_000, checkpointIntervalMs: 50 });
    await audit.start();
    await appendInvented(env.store, 5);
    expect(await audit.waitFor(5, 5000)).toBe(true);
    const deadline = Date.now() + 5000;
    while (audit.latestCheckpoint()?.treeSize !== 5 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(audit.latestCheckpoint()?.treeSize).toBe(5);
    // Nothing new: no new checkpoint.
    const latest = audit.latestCheckpoint();
    expect(audit.checkpoint()).toEqual(latest);
    expect(audit.checkpoints()).toHaveLength(1);
  });

  it('refuses a stored event that no longer matches its leaf, and a position skipped', async () => {
    await appendInvented(env.store, 30);
    const audit = log();
    await audit.catchUp();
    // Someone edits the event store behind the ledger's back.
    const raw = new Database(join(env.dir, 'events.sqlite'));
    raw.exec('DROP TRIGGER events_are_immutable_update');
    raw.prepare("UPDATE events SET data = json_set(data, '$.region', 'XX-XX') WHERE position = 17").run();
    raw.close();
    const events = await readEverything(env.store);
    expect(() => audit.add(events.slice(10, 20))).toThrow(LogDiverged);
    try {
      audit.add(events.slice(16, 17));
    } catch (error) {
      expect(error).toBeInstanceOf(LogDiverged);
      expect((error as LogDiverged).position).toBe(17);
    }
    expect(audit.add(events.slice(0, 16))).toBe(30); // untouched ones are fine
    await appendInvented(env.store, 5);
    const more = await readEverything(env.store);
    expect(() => audit.add([more[31]!])).toThrow(LogGap);
    expect(audit.treeSize).toBe(30);
    // What comes before a refused event is kept.
    expect(() => audit.add([more[30]!, more[32]!])).toThrow(LogGap);
    expect(audit.treeSize).toBe(31);
  });

  it('stops, and says where, when the store skips a position while it follows', async () => {
    await appendInvented(env.store, 40);
    const audit = log({ store: skipping(env.store, 23) });
    await audit.start();
    const deadline = Date.now() + 5000;
    while (audit.health().state === 'running' && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(audit.health()).toMatchObject({
      ok: false,
      state: 'failed',
      treeSize: 22,
      failure: { position: 23 },
    });
    expect(await audit.waitFor(40, 100)).toBe(false);
  });

  it('measures how fast it builds from a store of 12,000 events', async () => {
    await appendInvented(env.store, 12_000, 200);
    const audit = log({ checkpointEvery: 1000 });
    const result = await audit.catchUp();
    expect(result.treeSize).toBe(12_000);
    expect(audit.checkpoints().map((c) => c.treeSize)).toEqual(
      Array.from({ length: 12 }, (_, i) => (i + 1) * 1024).filter((size) => size <= 12_000),
    );
    audit.checkpoint();
    process.stdout.write(
      `merkle log build: ${result.added} leaves in ${result.seconds.toFixed(2)} s = ${Math.round(result.leavesPerSec)} leaves/s\n`,
    );
    const { tree } = await recomputed();
    expect(audit.latestCheckpoint()?.rootHash).toBe(tree.root().toString('hex'));
  });
});

/** The store as seen through a subscription that loses one position. */
function skipping(store: EventStore, lost: number): EventStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name !== 'subscribe') return Reflect.get(target, name, receiver) as unknown;
      return (options?: SubscribeOptions): Subscription => {
        const inner = target.subscribe(options);
        return {
          get closed() {
            return inner.closed;
          },
          close: () => inner.close(),
          async *[Symbol.asyncIterator]() {
            for await (const event of inner) if (event.position !== lost) yield event;
          },
        };
      };
    },
  });
}
