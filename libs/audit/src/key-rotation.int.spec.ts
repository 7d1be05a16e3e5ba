import { join } from 'node:path';
import { appendInvented, readEverything, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import { signCheckpoint, type SignedCheckpoint } from './checkpoint';
import { WitnessKey } from './cosignature';
import { KeyChain, rotationSigner } from './key-rotation';
import { MerkleLog, RetiredKeyError } from './merkle-log';
import { parseSignedNote } from './signed-note';
import { witnessCheckpoint } from './witness';

const ORIGIN = 'nrm-ledger.example/audit';
const oldKey = AuditKeys.generate(ORIGIN);
const newKey = AuditKeys.generate(ORIGIN);
const forged = AuditKeys.generate(ORIGIN);

let env: ReturnType<typeof scratch>;
const open: MerkleLog[] = [];

function logWith(signer: Parameters<typeof signCheckpoint>[0]): MerkleLog {
  const log = new MerkleLog({
    store: env.store,
    filename: join(env.dir, 'audit.sqlite'),
    signer,
    checkpointEvery: 1_000_000,
    checkpointIntervalMs: 0,
  });
  open.push(log);
  return log;
}

async function grow(log: MerkleLog, events: number): Promise<SignedCheckpoint> {
  await appendInvented(env.store, events);
  log.add((await readEverything(env.store)).slice(log.treeSize));
  return log.checkpoint()!;
}

async function close(log: MerkleLog): Promise<void> {
  open.splice(open.indexOf(log), 1);
  await log.close();
}

/** The log's history across one rotation: checkpoints by the old key, the rotation, by the new key. */
async function rotatedLog(): Promise<{
  before: SignedCheckpoint;
  rotation: SignedCheckpoint;
  after: SignedCheckpoint;
  log: MerkleLog;
}> {
  const first = logWith(oldKey);
  const before = await grow(first, 40);
  await close(first);
  const rotating = logWith(rotationSigner(oldKey, newKey));
  const rotation = await grow(rotating, 5);
  rotating.retireKey(oldKey.keyId, newKey.keyId);
  await close(rotating);
  const log = logWith(newKey);
  const after = await grow(log, 30);
  return { before, rotation, after, log };
}

beforeEach(() => {
  env = scratch();
});
afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
  await env.dispose();
});

describe('rotating the log signing key', () => {
  it('signs the rotation checkpoint with both keys, under the log name, and retires the old key', async () => {
    const { rotation, log } = await rotatedLog();
    const note = parseSignedNote(rotation.note);
    expect(note.ok && note.value.signatures.map((s) => [s.name, s.keyId])).toEqual([
      [ORIGIN, oldKey.keyId],
      [ORIGIN, newKey.keyId],
    ]);
    // The JSON view names the key (the old one, first) and the origin it signs under.
    expect(rotation).toMatchObject({ origin: ORIGIN, keyId: oldKey.keyId });
    expect(log.retiredKeys()).toEqual([
      expect.objectContaining({ origin: ORIGIN, keyId: oldKey.keyId, successor: newKey.keyId }),
    ]);
  });

  it('refuses to sign with a retired key, and to retire a key without a rotation checkpoint', async () => {
    const { log } = await rotatedLog();
    await close(log);
    const stale = logWith(oldKey);
    await appendInvented(env.store, 3);
    stale.add((await readEverything(env.store)).slice(stale.treeSize));
    let refused = 0;
    for (const attempt of [() => stale.checkpoint(), () => stale.checkpoint()])
      try {
        attempt();
      } catch (error) {
        expect(error).toBeInstanceOf(RetiredKeyError);
        refused++;
      }
    await close(stale);
    // The old key as a co-signer of a rotation is refused too.
    const again = logWith(rotationSigner(newKey, oldKey));
    await appendInvented(env.store, 1);
    again.add((await readEverything(env.store)).slice(again.treeSize));
    expect(() => again.checkpoint()).toThrow(RetiredKeyError);
    refused++;
    await close(again);
    const fresh = logWith(newKey);
    expect(() => fresh.retireKey(newKey.keyId, forged.keyId)).toThrow(/not signed by both/);
    console.log(`retired key: ${refused}/3 signing attempts refused, no checkpoint by it stored`);
    expect(refused).toBe(3);
    expect(fresh.latestCheckpoint()!.keyId).toBe(newKey.keyId);
  });

  it('follows the rotation with the trusted keys and refuses the attacks', async () => {
    const { before, rotation, after } = await rotatedLog();
    const trusted = [oldKey.verifier, newKey.verifier];
    const follow = (chain: SignedCheckpoint[], keys = trusted) => {
      const keyChain = new KeyChain(keys);
      for (const checkpoint of chain) {
        const step = keyChain.step(checkpoint);
        if (!step.ok) return step.reason;
      }
      return 'accepted';
    };
    expect(follow([before, rotation, after])).toBe('accepted');
    // A verifier that starts after the rotation needs only the new key.
    expect(follow([after], [newKey.verifier])).toBe('accepted');

    const resign = (signer: Parameters<typeof signCheckpoint>[0], like: SignedCheckpoint) =>
      signCheckpoint(signer, { treeSize: like.treeSize, rootHash: like.rootHash, time: like.time });
    const attacks: [string, SignedCheckpoint[], RegExp][] = [
      ['retired key signs after rotation', [before, rotation, resign(oldKey, after)], /retired/],
      [
        'retired key co-signs after rotation',
        [before, rotation, resign(rotationSigner(newKey, oldKey), after)],
        /retired/,
      ],
      ['rotation by the new key only', [before, resign(newKey, rotation), after], /without the current key/],
      ['forged key', [before, rotation, resign(forged, after)], /no trusted key/],
      [
        'rotation to a forged key',
        [before, resign(rotationSigner(oldKey, forged), rotation), resign(forged, after)],
        /no trusted key/,
      ],
    ];
    let refused = 0;
    for (const [, chain, reason] of attacks) {
      const verdict = follow(chain);
      expect(verdict).toMatch(reason);
      if (verdict !== 'accepted') refused++;
    }
    console.log(`key rotation attacks: ${refused}/${attacks.length} refused, honest chain of 3 accepted`);
    expect(refused).toBe(attacks.length);
  });

  it('is accepted by a witness that knows the old key, which then follows the new one', async () => {
    const witness = WitnessKey.generate('oversight.example/witness');
    const first = logWith(oldKey);
    const before = await grow(first, 20);
    const seen = witnessCheckpoint({ logKey: oldKey.verifier, witness, offered: before.note });
    expect(seen.ok).toBe(true);
    await close(first);
    const rotating = logWith(rotationSigner(oldKey, newKey));
    const rotation = await grow(rotating, 4);
    const proof = rotating.consistencyProof(before.treeSize, rotation.treeSize).proof;
    const state = seen.ok ? seen.state : undefined;
    const byOld = witnessCheckpoint({
      logKey: oldKey.verifier,
      witness,
      state,
      offered: rotation.note,
      proof,
    });
    const byNew = witnessCheckpoint({
      logKey: newKey.verifier,
      witness,
      state,
      offered: rotation.note,
      proof,
    });
    expect(byOld.ok).toBe(true);
    expect(byNew.ok).toBe(true);
    // A checkpoint by the forged key is refused by the witness that now trusts the new key.
    const fake = signCheckpoint(forged, {
      treeSize: rotation.treeSize,
      rootHash: rotation.rootHash,
      time: rotation.time,
    });
    expect(witnessCheckpoint({ logKey: newKey.verifier, witness, state, offered: fake.note, proof }).ok).toBe(
      false,
    );
  });
});
