import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  formatSignedNote,
  formatVerifierKey,
  NOTE_COSIGNATURE_V1,
  noteVerifier,
  parseSignedNote,
  signaturesBy,
  verifyEd25519,
  type NoteSignature,
  type NoteVerifier,
  type SignedNote,
} from './signed-note';

/**
 * C2SP tlog-cosignature, Ed25519 (cosignature/v1, signature type 0x04), from
 * the spec's text: the signature is `timestamp (u64, big-endian) ‖ Ed25519
 * signature` over the message
 *
 *     cosignature/v1
 *     time <POSIX seconds, decimal, no leading zeroes>
 *     <the whole note text of the checkpoint>
 *
 * and the key ID is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]. It says: as
 * of that time, this is the largest consistent tree the witness has seen of
 * the log named by the origin line.
 */

/** Cosignatures may come this far ahead of the verifier's clock (seconds); later ones are refused. */
export const COSIGNATURE_FUTURE_SKEW_SECONDS = 300;
const MAX_TIMESTAMP = 2n ** 63n - 1n;

export function cosignatureMessage(checkpointText: string, timestamp: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`, 'utf8');
}

/** A witness's signing key: its name (schema-less URL) and an Ed25519 private key. */
export class WitnessKey {
  readonly publicKey: KeyObject;
  readonly verifier: NoteVerifier;

  private constructor(
    readonly name: string,
    private readonly privateKey: KeyObject,
  ) {
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new RangeError('a witness key is an Ed25519 key');
    this.publicKey = createPublicKey(privateKey);
    this.verifier = noteVerifier(name, NOTE_COSIGNATURE_V1, this.publicKey);
  }

  static generate(name: string): WitnessKey {
    return new WitnessKey(name, generateKeyPairSync('ed25519').privateKey);
  }

  /** From a PEM (PKCS#8) Ed25519 private key. */
  static fromPem(name: string, pem: string): WitnessKey {
    return new WitnessKey(name, createPrivateKey({ key: pem, format: 'pem' }));
  }

  privateKeyPem(): string {
    return this.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /** `<name>+<key ID>+<base64(0x04 ‖ key)>`: what a verifier configures. */
  verifierKey(): string {
    return formatVerifierKey(this.verifier);
  }

  /** The cosignature of a checkpoint's note text at `timestamp` (POSIX seconds). */
  cosign(checkpointText: string, timestamp: number): NoteSignature {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0)
      throw new RangeError('a timestamp is whole seconds');
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(BigInt(timestamp));
    const signature = sign(null, cosignatureMessage(checkpointText, timestamp), this.privateKey);
    return { name: this.name, keyId: this.verifier.keyId, signature: Buffer.concat([stamp, signature]) };
  }
}

/** The note with `cosignature` added (replacing an earlier one by the same key). */
export function addCosignature(note: SignedNote, cosignature: NoteSignature): string {
  const others = note.signatures.filter(
    (s) => !(s.name === cosignature.name && s.keyId === cosignature.keyId),
  );
  return formatSignedNote({ text: note.text, signatures: [...others, cosignature] });
}

export type CosignatureVerdict =
  | { readonly valid: true; readonly name: string; readonly keyId: string; readonly timestamp: number }
  | { readonly valid: false; readonly name: string; readonly keyId: string; readonly reason: string };

/** Checks one cosignature line by a known witness key; never throws. */
export function verifyCosignature(
  text: string,
  line: NoteSignature,
  witness: NoteVerifier,
  now: Date = new Date(),
): CosignatureVerdict {
  const who = { name: line.name, keyId: line.keyId };
  if (witness.type !== NOTE_COSIGNATURE_V1 || line.name !== witness.name || line.keyId !== witness.keyId)
    return { valid: false, ...who, reason: 'not a cosignature by this witness key' };
  if (line.signature.length !== 8 + 64)
    return { valid: false, ...who, reason: 'a cosignature is an 8-byte timestamp and a 64-byte signature' };
  const timestamp = line.signature.readBigUInt64BE(0);
  if (timestamp > MAX_TIMESTAMP) return { valid: false, ...who, reason: 'the timestamp exceeds 2^63 - 1' };
  if (timestamp > BigInt(Math.floor(now.getTime() / 1000) + COSIGNATURE_FUTURE_SKEW_SECONDS))
    return { valid: false, ...who, reason: `the cosignature is dated in the future (${timestamp})` };
  const seconds = Number(timestamp);
  if (!verifyEd25519(cosignatureMessage(text, seconds), witness.publicKey, line.signature.subarray(8)))
    return { valid: false, ...who, reason: 'the cosignature does not match' };
  return { valid: true, ...who, timestamp: seconds };
}

export interface CosignatureReport {
  /** Witnesses (by name) whose cosignature verified, with its time. */
  readonly cosignedBy: readonly { readonly name: string; readonly timestamp: number }[];
  /** Cosignatures by known witnesses that failed, with the reason. */
  readonly refused: readonly { readonly name: string; readonly reason: string }[];
  /** Configured witnesses with no cosignature in the note. */
  readonly missing: readonly string[];
  /** Signature lines by keys nobody configured (ignored, as the spec says). */
  readonly unknown: number;
}

/** Reads a note's cosignatures against the configured witnesses. The log's own line counts as unknown here. */
export function checkCosignatures(
  note: string | SignedNote,
  witnesses: readonly NoteVerifier[],
  now: Date = new Date(),
): CosignatureReport | { readonly malformed: string } {
  let parsed: SignedNote;
  if (typeof note === 'string') {
    const result = parseSignedNote(note);
    if (!result.ok) return { malformed: result.reason };
    parsed = result.value;
  } else parsed = note;
  const cosignedBy: { name: string; timestamp: number }[] = [];
  const refused: { name: string; reason: string }[] = [];
  const missing: string[] = [];
  let known = 0;
  for (const witness of witnesses) {
    const lines = signaturesBy(parsed, witness);
    known += lines.length;
    if (lines.length === 0) {
      missing.push(witness.name);
      continue;
    }
    const verdicts = lines.map((line) => verifyCosignature(parsed.text, line, witness, now));
    const bad = verdicts.find((v) => !v.valid);
    if (bad && !bad.valid) refused.push({ name: witness.name, reason: bad.reason });
    else {
      const latest = Math.max(...verdicts.map((v) => (v.valid ? v.timestamp : 0)));
      cosignedBy.push({ name: witness.name, timestamp: latest });
    }
  }
  return { cosignedBy, refused, missing, unknown: parsed.signatures.length - known };
}
