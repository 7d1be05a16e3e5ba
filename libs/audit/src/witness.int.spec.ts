import { join } from 'node:path';
import { appendInvented, readEverything, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { parseSignedCheckpoint, type SignedCheckpoint } from './checkpoint';
import { checkCosignatures, WitnessKey } from './cosignature';
import { eventLeafHash } from './leaf';
import { MerkleLog } from './merkle-log';
import { MerkleTree } from './merkle-tree';
import { witnessCheckpoint, type WitnessState } from './witness';

const ORIGIN = 'ledger.example/audit';
const keys = AuditKeys.generate(ORIGIN);
const witness = WitnessKey.generate('oversight.example/witness');
let env: ReturnType<typeof scratch>;
let forkEnv: ReturnType<typeof scratch>;
const open: MerkleLog[] = [];

function logOver(store: typeof env.store, dir: string): MerkleLog {
  const log = new MerkleLog({
    store,
    filename: join(dir, 'audit.sqlite'),
    signer: keys,
    checkpointEvery: 1_000_000,
    checkpointIntervalMs: 0,
  });
  open.push(log);
  return log;
}

async function catchUp(log: MerkleLog, store: typeof env.store): Promise<SignedCheckpoint> {
  log.add((await readEverything(store)).slice(log.treeSize));
  return log.checkpoint()!;
}

beforeEach(() => {
  env = scratch();
  forkEnv = scratch();
});
afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
  await env.dispose();
  await forkEnv.dispose();
});

describe('a witness of the log', () => {
  it('cosigns every honest checkpoint of a growing log and refuses a forked one, with evidence', async () => {
    const log = logOver(env.store, env.dir);
    let state: WitnessState | undefined;
    let honest = 0;
    let cosigned = 0;
    let served = '';
    for (let round = 0; round < 15; round++) {
      await appendInvented(env.store, 7 + ((round * 37) % 90));
      const checkpoint = await catchUp(log, env.store);
      honest++;
      const proof = state ? log.consistencyProof(state.treeSize, checkpoint.treeSize).proof : [];
      const outcome = witnessCheckpoint({
        logKey: keys.verifier,
        witness,
        state,
        offered: checkpoint.note,
        proof,
      });
      expect(outcome).toMatchObject({ ok: true });
      if (!outcome.ok) continue;
      cosigned++;
      state = outcome.state;
      served = outcome.cosigned;
      // The same checkpoint again: cosigned again, nothing new.
      expect(
        witnessCheckpoint({ logKey: keys.verifier, witness, state, offered: checkpoint, proof: [] }).ok,
      ).toBe(true);
    }
    // What the witness hands back is a checkpoint that still verifies, with one valid cosignature.
    expect(parseSignedCheckpoint(served).ok).toBe(true);
    expect(checkCosignatures(served, [witness.verifier])).toMatchObject({
      cosignedBy: [{ name: 'oversight.example/witness' }],
      refused: [],
      missing: [],
      unknown: 1,
    });

    // The operator rewrites history: the same key signs a log over other events (a fork).
    const accepted = state!;
    const forkLog = logOver(forkEnv.store, forkEnv.dir);
    await appendInvented(forkEnv.store, accepted.treeSize);
    const sameSize = await catchUp(forkLog, forkEnv.store);
    expect(sameSize.treeSize).toBe(accepted.treeSize);
    const refusals: string[] = [];
    const split = witnessCheckpoint({
      logKey: keys.verifier,
      witness,
      state,
      offered: sameSize.note,
      proof: [],
    });
    expect(split).toMatchObject({
      ok: false,
      kind: 'split-view',
      evidence: { accepted: accepted.checkpoint },
    });
    if (!split.ok) refusals.push(split.kind);
    // A newer forked checkpoint, with the fork's own (valid for the fork) proof, or the honest log's proof.
    await appendInvented(forkEnv.store, 50);
    const newer = await catchUp(forkLog, forkEnv.store);
    const forkProof = forkLog.consistencyProof(accepted.treeSize, newer.treeSize).proof;
    for (const proof of [forkProof, [], forkProof.slice(1)]) {
      const outcome = witnessCheckpoint({
        logKey: keys.verifier,
        witness,
        state,
        offered: newer.note,
        proof,
      });
      expect(outcome).toMatchObject({ ok: false, kind: 'inconsistent' });
      if (!outcome.ok) refusals.push(outcome.kind);
    }
    // The honest log continues; the witness still follows it.
    await appendInvented(env.store, 10);
    const next = await catchUp(log, env.store);
    const proof = log.consistencyProof(accepted.treeSize, next.treeSize).proof;
    expect(witnessCheckpoint({ logKey: keys.verifier, witness, state, offered: next.note, proof }).ok).toBe(
      true,
    );
    honest++;
    cosigned++;
    console.log(
      `witness: honest checkpoints ${honest}, cosigned ${cosigned}; forked offers ${refusals.length}, refused ${refusals.length} (${refusals.join(', ')})`,
    );
    expect(cosigned).toBe(honest);
  });

  it('refuses bad input with the reason, never cosigning it', async () => {
    await appendInvented(env.store, 40);
    const events = await readEverything(env.store);
    const tree = MerkleTree.of(events.map(eventLeafHash));
    const at20 = keys.signCheckpoint({
      treeSize: 20,
      rootHash: tree.root(20).toString('hex'),
      time: new Date().toISOString(),
    });
    const first = witnessCheckpoint({ logKey: keys.verifier, witness, offered: at20.note });
    expect(first.ok).toBe(true);
    const state = first.ok ? first.state : undefined;
    const good = keys.signCheckpoint({
      treeSize: 40,
      rootHash: tree.root(40).toString('hex'),
      time: new Date().toISOString(),
    });
    const proof = tree.consistencyProof(20, 40);
    const stranger = AuditKeys.generate(ORIGIN);
    const otherLog = AuditKeys.generate('other.example/log');
    const future = keys.signCheckpoint({
      treeSize: 40,
      rootHash: good.rootHash,
      time: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const forged = proof.map((h, i) => (i === 0 ? Buffer.from(h.map((b, j) => (j === 0 ? b ^ 1 : b))) : h));
    const cases: [string, unknown, readonly (string | Uint8Array)[], string][] = [
      ['malformed note', good.note.replace('\n40\n', '\nforty\n'), proof, 'malformed'],
      ['not text', 42, proof, 'malformed'],
      ['truncated note', good.note.slice(0, 30), proof, 'malformed'],
      ['unknown key id', stranger.signCheckpoint(good).note, proof, 'bad-signature'],
      ['another log', otherLog.signCheckpoint(good).note, proof, 'bad-signature'],
      [
        'edited root',
        good.note.replace(good.note.split('\n')[2]!, tree.root(39).toString('base64')),
        proof,
        'bad-signature',
      ],
      ['from the future', future.note, proof, 'from-future'],
      [
        'older than accepted',
        keys.signCheckpoint({ ...at20, treeSize: 10, rootHash: tree.root(10).toString('hex') }).note,
        [],
        'older',
      ],
      ['forged proof', good.note, forged, 'inconsistent'],
      ['proof of garbage', good.note, ['zz'], 'inconsistent'],
      ['proof too long', good.note, [...proof, ...proof], 'inconsistent'],
      ['size beyond the proof', keys.signCheckpoint({ ...good, treeSize: 4000 }).note, proof, 'inconsistent'],
    ];
    let refused = 0;
    for (const [name, offered, given, kind] of cases) {
      const outcome = witnessCheckpoint({ logKey: keys.verifier, witness, state, offered, proof: given });
      expect({ name, outcome }).toMatchObject({ name, outcome: { ok: false, kind } });
      if (!outcome.ok) {
        expect(outcome.reason.length).toBeGreaterThan(5);
        refused++;
      }
    }
    expect(witnessCheckpoint({ logKey: keys.verifier, witness, state, offered: good.note, proof }).ok).toBe(
      true,
    );
    console.log(`witness bad input: cases ${cases.length}, refused ${refused}, cosigned 0`);
  });
});
