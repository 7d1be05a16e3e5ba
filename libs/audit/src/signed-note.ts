import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { decodeCanonicalBase64 } from './encoding';

/**
 * C2SP signed-note (c2sp.org/signed-note), written from the spec's text: a
 * note is a text ending in a newline, a blank line, then one or more
 * signature lines `— <key name> base64(4-byte key ID ‖ signature)`. The text
 * is separated from the signatures by the last blank line. A key is known by
 * the pair (name, key ID); the key ID is the first four bytes of
 * SHA-256(name ‖ 0x0A ‖ signature type ‖ public key).
 */

/** Signature types of the spec that this ledger uses. */
export const NOTE_ED25519 = 0x01;
/** Timestamped Ed25519 witness cosignature (c2sp.org/tlog-cosignature). */
export const NOTE_COSIGNATURE_V1 = 0x04;
export type NoteSignatureType = typeof NOTE_ED25519 | typeof NOTE_COSIGNATURE_V1;

/** More is refused: the spec asks verifiers to bound a note (at least 16 signatures). */
export const MAX_NOTE_SIGNATURES = 64;
export const MAX_NOTE_BYTES = 64 * 1024;

const EM_DASH = '\u2014';

export interface NoteSignature {
  readonly name: string;
  /** The 4-byte key ID, as 8 lower-case hex digits. */
  readonly keyId: string;
  /** The signature bytes after the key ID. */
  readonly signature: Buffer;
}

export interface SignedNote {
  /** The signed text, final newline included. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export type NoteParse =
  { readonly ok: true; readonly value: SignedNote } | { readonly ok: false; readonly reason: string };

/** Key names are non-empty, without Unicode spaces or '+'. */
export function isKeyName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !/[\s+]/u.test(name) && !hasControl(name);
}

function hasControl(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0009\u000b-\u001f\u007f]/.test(text);
}

/** Parses a signed note; the reason names what is wrong. Verifies nothing. */
export function parseSignedNote(note: unknown): NoteParse {
  const fail = (reason: string): NoteParse => ({ ok: false, reason });
  if (typeof note !== 'string') return fail('a signed note must be text');
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES)
    return fail(`a signed note is at most ${MAX_NOTE_BYTES} bytes`);
  if (Buffer.from(note, 'utf8').toString('utf8') !== note) return fail('a signed note must be valid UTF-8');
  if (hasControl(note)) return fail('a signed note has no control characters other than newline');
  if (!note.endsWith('\n')) return fail('a signed note ends with a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return fail('a signed note has a blank line between its text and its signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length === 1 && lines[0] === '') return fail('a signed note has at least one signature');
  if (lines.length > MAX_NOTE_SIGNATURES)
    return fail(`a signed note has at most ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures: NoteSignature[] = [];
  for (const [i, line] of lines.entries()) {
    const parts = line.split(' ');
    if (parts.length !== 3 || parts[0] !== EM_DASH)
      return fail(`signature line ${i + 1} is not "— <key name> <base64>"`);
    const [, name, encoded] = parts as [string, string, string];
    if (!isKeyName(name)) return fail(`signature line ${i + 1} has an invalid key name`);
    const bytes = decodeCanonicalBase64(encoded);
    if (bytes === undefined || bytes.length < 5)
      return fail(`signature line ${i + 1} is not the base64 of a key ID and a signature`);
    signatures.push({ name, keyId: bytes.subarray(0, 4).toString('hex'), signature: bytes.subarray(4) });
  }
  return { ok: true, value: { text, signatures } };
}

/** One signature line, newline included. */
export function signatureLine(name: string, keyId: string, signature: Uint8Array): string {
  const bytes = Buffer.concat([Buffer.from(keyId, 'hex'), signature]);
  return `${EM_DASH} ${name} ${bytes.toString('base64')}\n`;
}

export function formatSignedNote(note: SignedNote): string {
  return `${note.text}\n${note.signatures.map((s) => signatureLine(s.name, s.keyId, s.signature)).join('')}`;
}

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], as 8 hex digits. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): string {
  return createHash('sha256')
    .update(Buffer.from(`${name}\n`, 'utf8'))
    .update(Buffer.from([type]))
    .update(publicKey)
    .digest()
    .subarray(0, 4)
    .toString('hex');
}

/** The 32 bytes of an Ed25519 public key (RFC 8032 encoding). */
export function rawEd25519(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new RangeError('not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

export function ed25519FromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError('an Ed25519 public key is 32 bytes');
  const jwk: JsonWebKey = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') };
  return createPublicKey({ key: jwk, format: 'jwk' });
}

/** A key that verifies note signatures of one type: the tuple (name, key ID) names it. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: string;
  readonly type: NoteSignatureType;
  readonly publicKey: KeyObject;
}

export function noteVerifier(name: string, type: NoteSignatureType, publicKey: KeyObject): NoteVerifier {
  if (!isKeyName(name)) throw new RangeError('a key name is non-empty, without spaces or "+"');
  return { name, type, publicKey, keyId: noteKeyId(name, type, rawEd25519(publicKey)) };
}

/**
 * A verifier key in the text form of the Go note package and C2SP
 * (`<name>+<8 hex key ID>+<base64(type ‖ public key)>`).
 */
export function formatVerifierKey(verifier: NoteVerifier): string {
  const material = Buffer.concat([Buffer.from([verifier.type]), rawEd25519(verifier.publicKey)]);
  return `${verifier.name}+${verifier.keyId}+${material.toString('base64')}`;
}

export type VerifierKeyParse =
  { readonly ok: true; readonly value: NoteVerifier } | { readonly ok: false; readonly reason: string };

export function parseVerifierKey(text: unknown): VerifierKeyParse {
  const fail = (reason: string): VerifierKeyParse => ({ ok: false, reason });
  if (typeof text !== 'string') return fail('a verifier key must be text');
  // The base64 key may itself hold '+'; the name may not.
  const trimmed = text.trim();
  const first = trimmed.indexOf('+');
  const second = first < 0 ? -1 : trimmed.indexOf('+', first + 1);
  if (second < 0) return fail('a verifier key has the form <name>+<key ID>+<base64 key>');
  const name = trimmed.slice(0, first);
  const keyId = trimmed.slice(first + 1, second);
  const encoded = trimmed.slice(second + 1);
  if (!isKeyName(name)) return fail('the verifier key has an invalid name');
  if (!/^[0-9a-f]{8}$/.test(keyId)) return fail('the verifier key ID must be 8 lower-case hex digits');
  const material = decodeCanonicalBase64(encoded);
  if (material?.length !== 33)
    return fail('the verifier key must be one type byte and a 32-byte Ed25519 key');
  const type = material[0];
  if (type !== NOTE_ED25519 && type !== NOTE_COSIGNATURE_V1)
    return fail(`signature type 0x${type!.toString(16).padStart(2, '0')} is not supported (only 0x01, 0x04)`);
  let publicKey: KeyObject;
  try {
    publicKey = ed25519FromRaw(material.subarray(1));
  } catch {
    return fail('the verifier key is not an Ed25519 public key');
  }
  const verifier = noteVerifier(name, type, publicKey);
  if (verifier.keyId !== keyId) return fail('the verifier key ID does not match its name and key');
  return { ok: true, value: verifier };
}

/** An Ed25519 signature of `message`, or false; never throws. */
export function verifyEd25519(message: Uint8Array, publicKey: KeyObject, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

/** The signature lines of `note` made by this (name, key ID); others are ignored, as the spec says. */
export function signaturesBy(note: SignedNote, verifier: NoteVerifier): NoteSignature[] {
  return note.signatures.filter((s) => s.name === verifier.name && s.keyId === verifier.keyId);
}
