import { parseSignedCheckpoint, verifyCheckpointSignature, type SignedCheckpoint } from './checkpoint';
import { addCosignature, type WitnessKey } from './cosignature';
import { decodeCanonicalBase64, isHexHash } from './encoding';
import { verifyConsistency } from './merkle';
import {
  formatVerifierKey,
  NOTE_ED25519,
  parseSignedNote,
  parseVerifierKey,
  type NoteSignature,
  type NoteVerifier,
} from './signed-note';

/**
 * A witness of the log (c2sp.org/tlog-cosignature semantics): it remembers
 * the last checkpoint it accepted, accepts a newer one only with a consistency
 * proof from the remembered one, and cosigns what it accepts. A checkpoint of
 * the same size with another root, or a newer one that no proof ties to the
 * remembered one, is a split view: refused, and reported with both notes as
 * evidence (both carry the log's signature).
 */

/** The witness's memory, kept in a file between runs. */
export interface WitnessState {
  readonly format: 'nrm-ledger-witness-state/v1';
  /** The log's verifier key (`<origin>+<id>+<key>`): which log this witness watches. */
  readonly logKey: string;
  /** The note of the last checkpoint accepted (log signature verified). */
  readonly checkpoint: string;
  readonly treeSize: number;
  readonly rootHash: string;
  /** When it was accepted, POSIX seconds. */
  readonly acceptedAt: number;
}

export type WitnessRefusal =
  'malformed' | 'bad-signature' | 'from-future' | 'older' | 'split-view' | 'inconsistent';

export type WitnessOutcome =
  | {
      readonly ok: true;
      /** The offered note with this witness's cosignature added. */
      readonly cosigned: string;
      readonly cosignature: NoteSignature;
      readonly checkpoint: SignedCheckpoint;
      readonly state: WitnessState;
      /** The size the witness had accepted before (0 the first time). */
      readonly previousSize: number;
    }
  | {
      readonly ok: false;
      readonly kind: WitnessRefusal;
      readonly reason: string;
      /** For a split view: the checkpoint the witness holds and the one offered, both signed by the log. */
      readonly evidence?: { readonly accepted: string; readonly offered: string };
    };

/** A checkpoint may be dated this far ahead of the witness's clock (seconds). */
export const CHECKPOINT_FUTURE_SKEW_SECONDS = 300;

export interface WitnessInput {
  readonly logKey: NoteVerifier;
  readonly witness: WitnessKey;
  /** Absent on the first run: the first checkpoint is accepted on its signature alone. */
  readonly state?: WitnessState;
  /** A checkpoint note, or its JSON view. */
  readonly offered: unknown;
  /** Consistency proof (hashes, hex or bytes) from the state's size to the offered size. */
  readonly proof?: readonly (string | Uint8Array)[];
  readonly now?: Date;
}

function hashes(proof: readonly (string | Uint8Array)[]): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (const item of proof) {
    if (typeof item === 'string') {
      if (!isHexHash(item)) return undefined;
      out.push(Buffer.from(item, 'hex'));
    } else out.push(Buffer.from(item));
  }
  return out;
}

/** Decides on an offered checkpoint and, when it is accepted, cosigns it. Never throws on bad input. */
export function witnessCheckpoint(input: WitnessInput): WitnessOutcome {
  const now = input.now ?? new Date();
  const seconds = Math.floor(now.getTime() / 1000);
  const parsed = parseSignedCheckpoint(input.offered);
  if (!parsed.ok) return { ok: false, kind: 'malformed', reason: parsed.reason };
  const offered = parsed.value;
  const signature = verifyCheckpointSignature(offered, input.logKey);
  if (!signature.valid) return { ok: false, kind: 'bad-signature', reason: signature.reason };
  if (Date.parse(offered.time) > now.getTime() + CHECKPOINT_FUTURE_SKEW_SECONDS * 1000)
    return {
      ok: false,
      kind: 'from-future',
      reason: `the checkpoint is dated ${offered.time}, in the future`,
    };
  const state = input.state;
  if (state) {
    const evidence = { accepted: state.checkpoint, offered: offered.note };
    if (offered.treeSize < state.treeSize)
      return {
        ok: false,
        kind: 'older',
        reason: `the checkpoint is of ${offered.treeSize} events; this witness already accepted ${state.treeSize}`,
      };
    if (offered.treeSize === state.treeSize && offered.rootHash !== state.rootHash)
      return {
        ok: false,
        kind: 'split-view',
        reason: `two checkpoints of ${offered.treeSize} events with different roots, both signed by the log`,
        evidence,
      };
    if (offered.treeSize > state.treeSize) {
      const proof = hashes(input.proof ?? []);
      const verdict = proof
        ? verifyConsistency({
            firstSize: state.treeSize,
            secondSize: offered.treeSize,
            firstRoot: Buffer.from(state.rootHash, 'hex'),
            secondRoot: Buffer.from(offered.rootHash, 'hex'),
            proof,
          })
        : { valid: false as const, reason: 'the proof hashes must be 64 lower-case hex digits each' };
      if (!verdict.valid)
        return {
          ok: false,
          kind: 'inconsistent',
          reason: `the checkpoint of ${offered.treeSize} events is not shown consistent with the accepted one of ${state.treeSize}: ${verdict.reason}`,
          evidence,
        };
    }
  }
  const text = offered.note.slice(0, offered.note.lastIndexOf('\n\n') + 1);
  const cosignature = input.witness.cosign(text, seconds);
  const note = parseSignedNote(offered.note);
  if (!note.ok) return { ok: false, kind: 'malformed', reason: note.reason };
  return {
    ok: true,
    cosigned: addCosignature(note.value, cosignature),
    cosignature,
    checkpoint: offered,
    previousSize: state?.treeSize ?? 0,
    state: {
      format: 'nrm-ledger-witness-state/v1',
      logKey: formatVerifierKey(input.logKey),
      checkpoint: offered.note,
      treeSize: offered.treeSize,
      rootHash: offered.rootHash,
      acceptedAt: seconds,
    },
  };
}

/** Reads a state file's JSON; the reason names what is wrong. */
export function parseWitnessState(
  value: unknown,
): { ok: true; value: WitnessState; logKey: NoteVerifier } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'the witness state must be a JSON object' };
  const record = value as Record<string, unknown>;
  if (record.format !== 'nrm-ledger-witness-state/v1')
    return { ok: false, reason: 'the witness state has format nrm-ledger-witness-state/v1' };
  const key = parseVerifierKey(record.logKey);
  if (!key.ok) return { ok: false, reason: `logKey: ${key.reason}` };
  if (key.value.type !== NOTE_ED25519) return { ok: false, reason: 'logKey must be a log key (type 0x01)' };
  const checkpoint = parseSignedCheckpoint(record.checkpoint);
  if (!checkpoint.ok) return { ok: false, reason: `checkpoint: ${checkpoint.reason}` };
  if (!verifyCheckpointSignature(checkpoint.value, key.value).valid)
    return { ok: false, reason: 'checkpoint: not signed by logKey' };
  if (record.treeSize !== checkpoint.value.treeSize || record.rootHash !== checkpoint.value.rootHash)
    return { ok: false, reason: 'treeSize and rootHash must be those of checkpoint' };
  const acceptedAt = record.acceptedAt;
  if (typeof acceptedAt !== 'number' || !Number.isSafeInteger(acceptedAt) || acceptedAt < 0)
    return { ok: false, reason: 'acceptedAt must be POSIX seconds' };
  return {
    ok: true,
    logKey: key.value,
    value: {
      format: 'nrm-ledger-witness-state/v1',
      logKey: record.logKey as string,
      checkpoint: checkpoint.value.note,
      treeSize: checkpoint.value.treeSize,
      rootHash: checkpoint.value.rootHash,
      acceptedAt,
    },
  };
}

/** Hex or base64 proof hashes as bytes, or undefined when one is neither. */
export function proofHashes(values: readonly unknown[]): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (const value of values) {
    if (isHexHash(value)) out.push(Buffer.from(value, 'hex'));
    else {
      const bytes = decodeCanonicalBase64(value);
      if (bytes?.length !== 32) return undefined;
      out.push(bytes);
    }
  }
  return out;
}
