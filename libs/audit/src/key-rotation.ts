import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { AuditKeys, originFile } from './audit-keys';
import {
  AuditKeyError,
  parseSignedCheckpoint,
  type CheckpointSigner,
  type SignedCheckpoint,
} from './checkpoint';
import { NOTE_ED25519, parseSignedNote, signaturesBy, verifyEd25519, type NoteVerifier } from './signed-note';

/**
 * Rotating the log's signing key. The log's name (origin) stays; the key under it changes. The
 * rotation checkpoint is signed by the old key and the new one (a note carries several
 * signatures), then the old key is retired: it signs nothing new. A verifier that trusts the
 * keys, listed oldest first, follows the rotation from one checkpoint to the next.
 */

/**
 * The signer of the rotation checkpoint: the old key, and the new one after it once `armed` says
 * so (before, the old key alone signs what came before the rotation: exactly one checkpoint
 * carries both signatures).
 */
export function rotationSigner(
  old: CheckpointSigner,
  next: CheckpointSigner,
  armed: () => boolean = () => true,
): CheckpointSigner {
  if (old.origin !== next.origin)
    throw new AuditKeyError(`the new key must sign under the log's name ${old.origin}`);
  if (old.keyId === next.keyId) throw new AuditKeyError('the new key is the old key');
  return {
    origin: old.origin,
    keyId: old.keyId,
    sign: (bytes) => old.sign(bytes),
    get alsoSignedBy() {
      return armed() ? [next] : [];
    },
  };
}

/** The files of a rotation beside the key file: the new key before it takes over, and the retired one. */
export function rotationFiles(keyFile: string, retiredKeyId: string): { next: string; retired: string } {
  return { next: `${keyFile}.next`, retired: `${keyFile}.retired-${retiredKeyId}` };
}

/**
 * Makes the new key, under the old key's origin, in `<keyFile>.next` (mode 0600, created
 * exclusively: a rotation left half-done is refused, not overwritten).
 */
export function prepareNextKey(old: AuditKeys): AuditKeys {
  if (old.file === undefined) throw new AuditKeyError('only a key kept in a file can be rotated');
  const { next } = rotationFiles(old.file, old.keyId);
  if (existsSync(next))
    throw new AuditKeyError(
      `${next} exists: a rotation was started and not finished; remove it (its key never signed alone) and run rotate-audit-key again`,
    );
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(next, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), {
    mode: 0o600,
    flag: 'wx',
  });
  chmodSync(next, 0o600);
  return AuditKeys.load({ keyFile: next, dataDir: '.', origin: old.origin });
}

/**
 * After the rotation checkpoint is stored and the old key recorded as retired: the old key file
 * is kept as `<keyFile>.retired-<key ID>`, the new key takes its place, and the origin is kept
 * in `<keyFile>.origin` so that it does not change with the key.
 */
export function completeRotation(old: AuditKeys): void {
  if (old.file === undefined) throw new AuditKeyError('only a key kept in a file can be rotated');
  const { next, retired } = rotationFiles(old.file, old.keyId);
  writeFileSync(originFile(old.file), `${old.origin}\n`, { mode: 0o600 });
  renameSync(old.file, retired);
  renameSync(next, old.file);
}

export type ChainStep =
  | { readonly ok: true; readonly current: NoteVerifier; readonly rotatedFrom?: NoteVerifier }
  | { readonly ok: false; readonly reason: string };

/**
 * Follows the log's key through the checkpoints, in increasing tree size. `trusted` are the log
 * keys the verifier trusts, oldest first. The first checkpoint fixes the current key (the newest
 * trusted key that signs it). Then each checkpoint must be signed by the current key; one also
 * signed by the next trusted key is a rotation, after which the current key is retired. A
 * checkpoint signed by a retired key, by a later key without the current one, or by no trusted
 * key is refused.
 */
export class KeyChain {
  private index = -1;
  private readonly keys: readonly NoteVerifier[];
  rotations = 0;

  constructor(trusted: readonly NoteVerifier[]) {
    if (trusted.length === 0) throw new AuditKeyError('at least one trusted key is needed');
    for (const key of trusted)
      if (key.type !== NOTE_ED25519)
        throw new AuditKeyError(`${key.name}+${key.keyId} is not a log key (type 0x01)`);
    this.keys = trusted;
  }

  /** The key that signs now, once a checkpoint was seen. */
  get current(): NoteVerifier | undefined {
    return this.keys[this.index];
  }

  /** The indexes of the trusted keys whose signature on this checkpoint is valid. */
  private signers(checkpoint: SignedCheckpoint | string): number[] | string {
    const parsed = parseSignedCheckpoint(checkpoint);
    if (!parsed.ok) return parsed.reason;
    const note = parseSignedNote(parsed.value.note);
    if (!note.ok) return note.reason;
    const text = Buffer.from(note.value.text, 'utf8');
    const valid: number[] = [];
    for (const [i, key] of this.keys.entries()) {
      if (key.name !== parsed.value.origin) continue;
      const lines = signaturesBy(note.value, key);
      if (lines.length === 0) continue;
      if (!lines.every((line) => verifyEd25519(text, key.publicKey, line.signature)))
        return `the signature of key ${key.keyId} does not match`;
      valid.push(i);
    }
    return valid;
  }

  /** Takes the next checkpoint (by tree size); refuses it, saying why, or says which key signs now. */
  step(checkpoint: SignedCheckpoint | string): ChainStep {
    const signers = this.signers(checkpoint);
    if (typeof signers === 'string') return { ok: false, reason: signers };
    if (signers.length === 0) return { ok: false, reason: 'signed by no trusted key' };
    if (this.index < 0) {
      this.index = Math.max(...signers);
      return { ok: true, current: this.keys[this.index]! };
    }
    const retired = signers.filter((i) => i < this.index);
    if (retired.length > 0)
      return {
        ok: false,
        reason: `signed by key ${this.keys[retired[0]!]!.keyId}, retired by a rotation: it signs nothing new`,
      };
    if (!signers.includes(this.index))
      return {
        ok: false,
        reason: `signed by key ${this.keys[signers[0]!]!.keyId} without the current key ${this.current!.keyId}: a rotation checkpoint carries both`,
      };
    const later = signers.filter((i) => i > this.index);
    if (later.length === 0) return { ok: true, current: this.current! };
    if (later.length > 1 || later[0] !== this.index + 1)
      return { ok: false, reason: 'a rotation passes to the next trusted key, one at a time' };
    const from = this.current!;
    this.index = later[0]!;
    this.rotations++;
    return { ok: true, current: this.current!, rotatedFrom: from };
  }
}
