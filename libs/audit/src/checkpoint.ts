import { createHash, createPublicKey, KeyObject, type JsonWebKey } from 'node:crypto';
import { decodeCanonicalBase64 } from './encoding';
import { isTreeSize } from './merkle';
import {
  isKeyName,
  NOTE_ED25519,
  noteVerifier,
  parseSignedNote,
  signatureLine,
  signaturesBy,
  verifyEd25519,
  type NoteVerifier,
  type SignedNote,
} from './signed-note';

/**
 * A checkpoint is a C2SP `tlog-checkpoint` (c2sp.org/tlog-checkpoint): a
 * signed note whose text is the log's origin, its tree size, its root hash
 * (base64) and one extension line with the time it was signed:
 *
 *     nrm-ledger.example/audit
 *     1024
 *     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *     time 2026-11-30T12:00:00.000Z
 *
 *     — nrm-ledger.example/audit <base64(key ID ‖ Ed25519 signature)>
 *
 * It says "after `treeSize` events my root was `rootHash`", signed by the
 * installation's key under the name of the origin. The note is the checkpoint;
 * the JSON fields beside it are read from the note and must agree with it.
 */
export interface Checkpoint {
  /** The log's name: the note's first line and the name its key signs under. */
  readonly origin: string;
  readonly treeSize: number;
  /** MTH of the first `treeSize` leaves, 64 lower-case hex digits. */
  readonly rootHash: string;
  /** When it was signed: ISO-8601, UTC, milliseconds (`2026-11-30T12:00:00.000Z`). */
  readonly time: string;
  /** The note key ID of the log's key: SHA-256(origin ‖ 0x0A ‖ 0x01 ‖ key)[:4], 8 hex digits. */
  readonly keyId: string;
}

export interface SignedCheckpoint extends Checkpoint {
  /** The log's Ed25519 signature over the note text, standard base64. */
  readonly signature: string;
  /** The signed note itself (text, blank line, signature lines), possibly with witnesses' cosignatures. */
  readonly note: string;
}

/** The note text of a checkpoint, final newline included. */
export function checkpointText(checkpoint: {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly time: string;
}): string {
  const root = Buffer.from(checkpoint.rootHash, 'hex').toString('base64');
  return `${checkpoint.origin}\n${checkpoint.treeSize}\n${root}\ntime ${checkpoint.time}\n`;
}

/** What signs checkpoints: `AuditKeys`, or any holder of an Ed25519 private key. */
export interface CheckpointSigner {
  /** The log's origin, which is also its key's name in the note. */
  readonly origin: string;
  /** The note key ID (type 0x01) of the key under that name. */
  readonly keyId: string;
  sign(bytes: Uint8Array): Buffer;
  /**
   * Keys that sign the same note after this one, under the same name: the new key while the
   * log's key is rotated (the rotation checkpoint carries both signatures).
   */
  readonly alsoSignedBy?: readonly CheckpointSigner[];
}

export function signCheckpoint(
  signer: CheckpointSigner,
  statement: { readonly treeSize: number; readonly rootHash: string; readonly time: string },
): SignedCheckpoint {
  const text = checkpointText({ ...statement, origin: signer.origin });
  const signature = signer.sign(Buffer.from(text, 'utf8'));
  const others = (signer.alsoSignedBy ?? []).map((other) => {
    if (other.origin !== signer.origin)
      throw new AuditKeyError(`a co-signing key must sign under the log's name ${signer.origin}`);
    return signatureLine(other.origin, other.keyId, other.sign(Buffer.from(text, 'utf8')));
  });
  const note = `${text}\n${signatureLine(signer.origin, signer.keyId, signature)}${others.join('')}`;
  return {
    origin: signer.origin,
    treeSize: statement.treeSize,
    rootHash: statement.rootHash,
    time: statement.time,
    keyId: signer.keyId,
    signature: signature.toString('base64'),
    note,
  };
}

export class AuditKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditKeyError';
  }
}

/** SHA-256 of the key's SubjectPublicKeyInfo (DER), hex: the key's fingerprint (not its note key ID). */
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

const VIEW_FIELDS = ['keyId', 'note', 'origin', 'rootHash', 'signature', 'time', 'treeSize'];
const UTC_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TREE_SIZE = /^(0|[1-9]\d{0,15})$/;

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/**
 * Reads a checkpoint from its signed note, or from the JSON view of one (an
 * object with `note`, whose other fields must say what the note says). The
 * log's signature is the line named as the origin; other lines (witnesses'
 * cosignatures) are kept in the note and left to their verifiers. Checks the
 * form only: `verifyCheckpointSignature` checks the signature.
 */
export function parseSignedCheckpoint(value: unknown): Parsed<SignedCheckpoint> {
  const fail = (reason: string): Parsed<SignedCheckpoint> => ({ ok: false, reason });
  let noteText: unknown = value;
  let view: Record<string, unknown> | undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    view = value as Record<string, unknown>;
    const unknownField = Object.keys(view).find((name) => !VIEW_FIELDS.includes(name));
    if (unknownField !== undefined) return fail(`a checkpoint has no field ${unknownField}`);
    if (!('note' in view)) return fail('a checkpoint carries its signed note in the field note');
    noteText = view.note;
  } else if (typeof value !== 'string') return fail('a checkpoint is a signed note or an object with note');
  const note = parseSignedNote(noteText);
  if (!note.ok) return fail(`note: ${note.reason}`);
  const lines = note.value.text.slice(0, -1).split('\n');
  if (lines.length !== 4) return fail('a checkpoint note has four lines: origin, tree size, root hash, time');
  const [origin, size, root, timeLine] = lines as [string, string, string, string];
  if (!isKeyName(origin)) return fail('the origin line must be non-empty, without spaces or "+"');
  if (!TREE_SIZE.test(size) || !isTreeSize(Number(size)))
    return fail('the tree size line must be a whole number from 0 without leading zeroes');
  const rootBytes = decodeCanonicalBase64(root);
  if (rootBytes?.length !== 32) return fail('the root hash line must be the base64 of 32 bytes');
  const time = timeLine.startsWith('time ') ? timeLine.slice(5) : '';
  if (!UTC_INSTANT.test(time) || new Date(time).toISOString() !== time)
    return fail('the fourth line must be "time" and a UTC instant such as 2026-11-30T12:00:00.000Z');
  const own = note.value.signatures.find((s) => s.name === origin);
  if (!own) return fail(`the note has no signature named as its origin ${origin}`);
  if (own.signature.length !== 64) return fail("the log's signature must be 64 bytes (Ed25519)");
  const checkpoint: SignedCheckpoint = {
    origin,
    treeSize: Number(size),
    rootHash: rootBytes.toString('hex'),
    time,
    keyId: own.keyId,
    signature: own.signature.toString('base64'),
    note: noteText as string,
  };
  if (view)
    for (const [name, given] of Object.entries(view))
      if (given !== checkpoint[name as keyof SignedCheckpoint])
        return fail(`${name} does not match the signed note`);
  return { ok: true, value: checkpoint };
}

export type SignatureVerdict =
  { readonly valid: true } | { readonly valid: false; readonly reason: string; readonly otherKey: boolean };

/**
 * Is the checkpoint signed by the log's key? `key` is a verifier key (name and
 * key, `<origin>+<id>+<key>`), which also fixes the origin, or a bare public
 * key, trusted under whatever origin the note names. The note is read again:
 * a JSON view that disagrees with its note is refused.
 */
export function verifyCheckpointSignature(
  checkpoint: SignedCheckpoint,
  key: KeyObject | NoteVerifier,
): SignatureVerdict {
  const parsed = parseSignedCheckpoint(checkpoint);
  if (!parsed.ok) return { valid: false, otherKey: false, reason: parsed.reason };
  const { origin } = parsed.value;
  let verifier: NoteVerifier;
  try {
    verifier = key instanceof KeyObject ? noteVerifier(origin, NOTE_ED25519, key) : key;
  } catch (error) {
    return { valid: false, otherKey: false, reason: error instanceof Error ? error.message : String(error) };
  }
  if (verifier.type !== NOTE_ED25519)
    return { valid: false, otherKey: true, reason: 'the trusted key is not a log key (type 0x01)' };
  if (verifier.name !== origin)
    return {
      valid: false,
      otherKey: true,
      reason: `the checkpoint is of the log ${origin}, not of the trusted log ${verifier.name}`,
    };
  const note = parseSignedNote(parsed.value.note);
  const lines = note.ok ? signaturesBy(note.value, verifier) : [];
  if (lines.length === 0)
    return {
      valid: false,
      otherKey: true,
      reason: `signed by key ${parsed.value.keyId}, not by the trusted key ${verifier.keyId}`,
    };
  const text = Buffer.from((note as { value: SignedNote }).value.text, 'utf8');
  const ok = lines.every((line) => verifyEd25519(text, verifier.publicKey, line.signature));
  return ok ? { valid: true } : { valid: false, otherKey: false, reason: 'the signature does not match' };
}
