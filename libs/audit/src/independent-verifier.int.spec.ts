/**
 * The ledger's checkpoints and inclusion proofs checked by code nobody here
 * wrote: sigstore-js (`@sigstore/verify`, npm, Apache-2.0, maintained by the
 * Sigstore project), the verifier npm itself uses for package provenance.
 *
 * What it checks, in its own code: the checkpoint is a signed note whose
 * signature line (key hint = first 4 bytes of the log ID, name matching the
 * log) verifies with the trusted Ed25519 key over the note text; the note's
 * size and root hash are parsed from the note; the RFC 6962 inclusion proof
 * of SHA-256(0x00 ‖ leaf bytes) at the leaf index leads to that root.
 *
 * Entry point: `verifyTLogInclusion` from `@sigstore/verify/dist/tlog`, which
 * is internal to the package (its public `Verifier` takes whole Sigstore
 * bundles: a signed artifact plus a Rekor entry). It has no consistency-proof
 * verifier, so consistency proofs are not checked here (see the README).
 */
import { VerificationError } from '@sigstore/verify';
import { verifyTLogInclusion } from '@sigstore/verify/dist/tlog';
import { join } from 'node:path';
import { appendInvented, readEverything, scratch } from '../test/invented-events';
import { AuditKeys } from './audit-keys';
import type { SignedCheckpoint } from './checkpoint';
import { addCosignature, WitnessKey } from './cosignature';
import { leafBytes } from './leaf';
import { MerkleLog } from './merkle-log';
import { parseSignedNote } from './signed-note';

type Entry = Parameters<typeof verifyTLogInclusion>[0];
type Authority = Parameters<typeof verifyTLogInclusion>[1][number];

const ORIGIN = 'ledger.example/audit';
const keys = AuditKeys.generate(ORIGIN);
const intruder = AuditKeys.generate(ORIGIN);

/** The log as sigstore knows a log: its ID's first 4 bytes are the note key hint, its URL names it. */
function authority(of: AuditKeys): Authority {
  return {
    logID: Buffer.concat([Buffer.from(of.keyId, 'hex'), Buffer.alloc(28)]),
    baseURL: `https://${of.origin}`,
    publicKey: of.publicKey,
    validFor: { start: new Date(0), end: new Date(8.64e15) },
  };
}

function entry(
  body: Buffer,
  leafIndex: number,
  checkpoint: SignedCheckpoint,
  hashes: Buffer[],
  note = checkpoint.note,
): Entry {
  return {
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
      checkpoint: { envelope: note },
    },
  };
}

/** 'accepted', or the error it threw: a VerificationError for a refusal. */
function sigstore(e: Entry, tlogs: Authority[] = [authority(keys)]): 'accepted' | 'refused' | 'crashed' {
  try {
    verifyTLogInclusion(e, tlogs);
    return 'accepted';
  } catch (error) {
    return error instanceof VerificationError ? 'refused' : 'crashed';
  }
}

const witness = WitnessKey.generate('oversight.example/witness');

function cosignedNote(checkpoint: SignedCheckpoint): string {
  const note = parseSignedNote(checkpoint.note);
  if (!note.ok) throw new Error(note.reason);
  return addCosignature(note.value, witness.cosign(note.value.text, Math.floor(Date.now() / 1000)));
}

let env: ReturnType<typeof scratch>;
let log: MerkleLog;
beforeAll(async () => {
  env = scratch();
  log = new MerkleLog({
    store: env.store,
    filename: join(env.dir, 'audit.sqlite'),
    signer: keys,
    checkpointEvery: 97,
    checkpointIntervalMs: 0,
  });
  await appendInvented(env.store, 700);
  const events = await readEverything(env.store);
  for (let at = 0; at < events.length; at += 97) {
    log.add(events.slice(at, at + 97));
    log.checkpoint();
  }
});
afterAll(async () => {
  await log.close();
  await env.dispose();
});

describe('an independent verifier (sigstore-js @sigstore/verify)', () => {
  it('accepts every honest checkpoint and inclusion proof, and refuses every forged one', async () => {
    const events = await readEverything(env.store);
    const checkpoints = log.checkpoints();
    expect(checkpoints.length).toBeGreaterThanOrEqual(7);
    const counts = { honest: 0, accepted: 0, forged: 0, refused: 0, crashed: 0 };
    const forgedOutcome = (e: Entry, tlogs?: Authority[]) => {
      counts.forged++;
      const outcome = sigstore(e, tlogs);
      if (outcome === 'refused') counts.refused++;
      if (outcome === 'crashed') counts.crashed++;
      return outcome;
    };
    for (const checkpoint of checkpoints) {
      const root = checkpoint.note.split('\n')[2]!;
      const otherRoot = log.checkpoints()[0]!.note.split('\n')[2]!;
      const step = Math.max(1, Math.floor(checkpoint.treeSize / 60));
      for (let index = 0; index < checkpoint.treeSize; index += step) {
        const body = leafBytes(events[index]!);
        const { proof } = log.inclusionProof(index + 1, checkpoint.treeSize);
        counts.honest++;
        const honest = sigstore(entry(body, index, checkpoint, proof));
        expect({ index, size: checkpoint.treeSize, honest }).toEqual({
          index,
          size: checkpoint.treeSize,
          honest: 'accepted',
        });
        if (honest === 'accepted') counts.accepted++;
        // The same checkpoint as served with a witness's cosignature: the extra line is ignored.
        counts.honest++;
        const cosigned = sigstore(entry(body, index, checkpoint, proof, cosignedNote(checkpoint)));
        expect({ index, cosigned }).toEqual({ index, cosigned: 'accepted' });
        if (cosigned === 'accepted') counts.accepted++;

        const forgeries: [string, Entry, Authority[]?][] = [
          [
            'another event',
            entry(leafBytes(events[(index + 1) % checkpoint.treeSize]!), index, checkpoint, proof),
          ],
          ['a byte of the event', entry(Buffer.concat([body, Buffer.from(' ')]), index, checkpoint, proof)],
          ['another index', entry(body, (index + 1) % checkpoint.treeSize, checkpoint, proof)],
          ...(proof.length > 0
            ? ([
                [
                  'a proof hash flipped',
                  entry(
                    body,
                    index,
                    checkpoint,
                    proof.map((h, i) =>
                      i === 0 ? Buffer.from(h.map((b, j) => (j === 0 ? b ^ 0x80 : b))) : h,
                    ),
                  ),
                ],
                ['a proof hash dropped', entry(body, index, checkpoint, proof.slice(1))],
              ] as [string, Entry][])
            : []),
          ['the proof padded', entry(body, index, checkpoint, [...proof, proof[0] ?? Buffer.alloc(32)])],
          [
            'the note root edited',
            entry(
              body,
              index,
              checkpoint,
              proof,
              checkpoint.note.replace(
                root,
                otherRoot === root ? Buffer.alloc(32).toString('base64') : otherRoot,
              ),
            ),
          ],
          [
            'the note size edited',
            entry(
              body,
              index,
              checkpoint,
              proof,
              checkpoint.note.replace(`\n${checkpoint.treeSize}\n`, `\n${checkpoint.treeSize + 1}\n`),
            ),
          ],
          [
            'signed by an intruder under the same name',
            entry(body, index, checkpoint, proof, intruder.signCheckpoint(checkpoint).note),
          ],
          [
            'an intruder claiming the log key id',
            entry(
              body,
              index,
              checkpoint,
              proof,
              intruder
                .signCheckpoint(checkpoint)
                .note.replace(
                  /— (\S+) (\S+)\n$/,
                  (_m, n: string, s: string) =>
                    `— ${n} ${Buffer.concat([Buffer.from(keys.keyId, 'hex'), Buffer.from(s, 'base64').subarray(4)]).toString('base64')}\n`,
                ),
            ),
          ],
          [
            'verified against the intruder only',
            entry(body, index, checkpoint, proof),
            [authority(intruder)],
          ],
        ];
        for (const [name, forged, tlogs] of forgeries) {
          const outcome = forgedOutcome(forged, tlogs);
          expect({ name, index, outcome }).toEqual({ name, index, outcome: 'refused' });
        }
      }
    }
    // Malformed notes: refused, never a crash.
    const any = checkpoints[0]!;
    const body = leafBytes(events[0]!);
    const { proof } = log.inclusionProof(1, any.treeSize);
    for (const note of ['', 'garbage', any.note.split('\n\n')[0]!, any.note.replace('— ', '')]) {
      expect(forgedOutcome(entry(body, 0, any, proof, note))).toBe('refused');
    }
    console.log(
      `independent verifier (@sigstore/verify 3.1.1): honest proofs ${counts.honest}, accepted ${counts.accepted}; forged ${counts.forged}, refused ${counts.refused}, crashed ${counts.crashed}`,
    );
    expect(counts.accepted).toBe(counts.honest);
    expect(counts.refused).toBe(counts.forged);
  });
});
