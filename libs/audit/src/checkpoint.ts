import { createHash, createPublicKey, KeyObject, verify, type JsonWebKey } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { decodeCanonicalBase64, isHexHash } from './encoding';
import { isTreeSize } from './merkle';

/**
 * A checkpoint: the log's statement "after `treeSize` events my root was
 * `rootHash`", made at `time` and signed (Ed25519) by the key `keyId`. Two
 * checkpoints of one log must be consistent (one tree a prefix of the other);
 * a consistency proof shows it.
 */
export interface Checkpoint {
  readonly treeSize: number;
  /** MTH of the first `treeSize` leaves, 64 lower-case hex digits. */
  readonly rootHash: string;
  /** When it was signed: ISO-8601, UTC, milliseconds (`2026-11-30T12:00:00.000Z`). */
  readonly time: string;
  /** SHA-256 of the signing key's SubjectPublicKeyInfo (DER), hex. */
  readonly keyId: string;
}

export interface SignedCheckpoint extends Checkpoint {
  /** Ed25519 signature over `checkpointSigningBytes`, standard base64. */
  readonly signature: string;
}

/** Names what is signed, so that a signature over a checkpoint can never pass for one over anything else. */
export const CHECKPOINT_FORMAT = 'nrm-ledger-checkpoint/v1';

/** The bytes an Ed25519 signature covers: the canonical JSON of the checkpoint and its format name. */
export function checkpointSigningBytes(checkpoint: Checkpoint): Buffer {
  return Buffer.from(
    canonicalJson({
      format: CHECKPOINT_FORMAT,
      keyId: checkpoint.keyId,
      rootHash: checkpoint.rootHash,
      time: checkpoint.time,
      treeSize: checkpoint.treeSize,
    }),
    'utf8',
  );
}

/** What signs checkpoints: `AuditKeys`, or any holder of an Ed25519 private key. */
export interface CheckpointSigner {
  readonly keyId: string;
  sign(bytes: Uint8Array): Buffer;
}

export function signCheckpoint(
  signer: CheckpointSigner,
  statement: { readonly treeSize: number; readonly rootHash: string; readonly time: string },
): SignedCheckpoint {
  const checkpoint: Checkpoint = { ...statement, keyId: signer.keyId };
  return { ...checkpoint, signature: signer.sign(checkpointSigningBytes(checkpoint)).toString('base64') };
}

export class AuditKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditKeyError';
  }
}

/** SHA-256 of the key's SubjectPublicKeyInfo (DER), hex: what a checkpoint names its key by. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function isJwk(value: unknown): value is JsonWebKey {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof KeyObject)
  );
}

/**
 * An Ed25519 public key from a PEM (SPKI) text, a JWK (object or its JSON
 * text) or a KeyObject. Anything else, private keys included, is refused.
 */
export function publicKeyFrom(input: KeyObject | string | JsonWebKey): KeyObject {
  let key: KeyObject;
  try {
    if (input instanceof KeyObject) key = input;
    else if (typeof input === 'string' && input.trim().startsWith('{'))
      key = createPublicKey({ key: JSON.parse(input) as JsonWebKey, format: 'jwk' });
    else if (typeof input === 'string') {
      if (/PRIVATE KEY/.test(input))
        throw new AuditKeyError('a public key is needed here, not a private one');
      key = createPublicKey({ key: input, format: 'pem' });
    } else if (isJwk(input)) {
      if ('d' in input) throw new AuditKeyError('a public key is needed here, not a private one');
      key = createPublicKey({ key: input, format: 'jwk' });
    } else throw new AuditKeyError('a public key must be PEM text, a JWK or a KeyObject');
  } catch (error) {
    if (error instanceof AuditKeyError) throw error;
    throw new AuditKeyError(
      `not a readable public key (PEM "BEGIN PUBLIC KEY" or JWK): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (key.type !== 'public') throw new AuditKeyError('a public key is needed here, not a private one');
  if (key.asymmetricKeyType !== 'ed25519')
    throw new AuditKeyError(
      `checkpoints are signed with Ed25519, not ${key.asymmetricKeyType ?? 'this key type'}`,
    );
  return key;
}

const CHECKPOINT_FIELDS = ['keyId', 'rootHash', 'signature', 'time', 'treeSize'];
const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Checks that a parsed JSON value is a signed checkpoint, field by field, with one spelling per value. */
export function parseSignedCheckpoint(value: unknown): Parsed<SignedCheckpoint> {
  const fail = (reason: string): Parsed<SignedCheckpoint> => ({ ok: false, reason });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('a checkpoint must be an object');
  const record = value as Record<string, unknown>;
  const names = Object.keys(record).sort();
  if (names.length !== CHECKPOINT_FIELDS.length || names.some((n, i) => n !== CHECKPOINT_FIELDS[i]))
    return fail(`a checkpoint has exactly the fields ${CHECKPOINT_FIELDS.join(', ')}`);
  const { treeSize, rootHash, time, keyId, signature } = record;
  if (!isTreeSize(treeSize)) return fail('treeSize must be a whole number from 0');
  if (!isHexHash(rootHash)) return fail('rootHash must be 64 lower-case hex digits');
  if (!isHexHash(keyId)) return fail('keyId must be 64 lower-case hex digits');
  if (typeof time !== 'string' || !UTC_INSTANT.test(time) || new Date(time).toISOString() !== time)
    return fail('time must be a UTC instant such as 2026-11-30T12:00:00.000Z');
  const bytes = decodeCanonicalBase64(signature);
  if (bytes?.length !== 64 || typeof signature !== 'string')
    return fail('signature must be the base64 of 64 bytes (an Ed25519 signature)');
  return { ok: true, value: { treeSize, rootHash, time, keyId, signature } };
}

export type SignatureVerdict =
  { readonly valid: true } | { readonly valid: false; readonly reason: string; readonly otherKey: boolean };

/** Is the checkpoint signed by this public key? A checkpoint naming another key is refused as such. */
export function verifyCheckpointSignature(
  checkpoint: SignedCheckpoint,
  publicKey: KeyObject,
): SignatureVerdict {
  const keyId = keyIdOf(publicKey);
  if (checkpoint.keyId !== keyId)
    return {
      valid: false,
      otherKey: true,
      reason: `signed by key ${checkpoint.keyId.slice(0, 16)}…, not by the trusted key ${keyId.slice(0, 16)}…`,
    };
  const signature = decodeCanonicalBase64(checkpoint.signature);
  let ok = false;
  try {
    ok = signature !== undefined && verify(null, checkpointSigningBytes(checkpoint), publicKey, signature);
  } catch {
    ok = false;
  }
  return ok ? { valid: true } : { valid: false, otherKey: false, reason: 'the signature does not match' };
}
