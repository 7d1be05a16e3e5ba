import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ErasedMark, SealedText } from '@nrm/shared-kernel';
import { KEY_BYTES } from './sealed-identity';
import { SubjectErasedError, type SubjectKeyStore } from './subject-key-store';

/**
 * Free text recorded on a subject's case (a break-glass justification, a lawful basis's
 * justification) is sealed under the subject's key, as identity is: the API asks that it not
 * describe the person, but nothing can enforce that, so the erasure must reach it too. The
 * associated data binds it to the subject and to its use as text: a sealed identity cannot be
 * passed off as sealed text, nor the other way round.
 */

export const ERASED: ErasedMark = Object.freeze({ erased: true as const });

const aad = (subjectId: string) => Buffer.from(`${subjectId}#text`, 'utf8');

/** Seals one text for one subject; a fresh nonce every time. */
export function sealText(key: Buffer, subjectId: string, text: string): SealedText {
  if (key.length !== KEY_BYTES) throw new Error('a subject key is 32 bytes');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(subjectId));
  const data = Buffer.concat([cipher.update(JSON.stringify(text), 'utf8'), cipher.final()]);
  return {
    alg: 'A256GCM',
    keyId: subjectId,
    iv: iv.toString('base64'),
    data: data.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** Opens a sealed text; throws when the key, the subject or the bytes do not match. */
export function openText(key: Buffer, sealed: SealedText): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(aad(sealed.keyId));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
  const text: unknown = JSON.parse(plain.toString('utf8'));
  if (typeof text !== 'string') throw new Error('sealed text does not hold a text');
  return text;
}

/**
 * Seals a text under the subject's key, made on first use. `null` when the subject has already
 * been erased: the text is then not kept at all (no key could ever open it again), and readers
 * are shown the erased mark in its place.
 */
export async function sealTextFor(
  keys: SubjectKeyStore,
  subjectId: string,
  text: string,
): Promise<SealedText | null> {
  try {
    // The key is read first: making one (a write, fsynced) is needed only for a subject reported without identity.
    const key = (await keys.existingKey(subjectId)) ?? (await keys.keyFor(subjectId));
    return sealText(key, subjectId, text);
  } catch (error) {
    if (error instanceof SubjectErasedError) return null;
    throw error;
  }
}

/**
 * A recorded text as a reader sees it: kept in clear (events written before texts were sealed)
 * as it is; sealed, opened with the subject's key, or the erased mark once the key is destroyed
 * (or when the text was recorded after the erasure, `null`).
 */
export async function openTextFor(
  keys: Pick<SubjectKeyStore, 'existingKey'>,
  recorded: string | SealedText | null,
): Promise<string | ErasedMark> {
  if (typeof recorded === 'string') return recorded;
  if (recorded === null) return ERASED;
  const key = await keys.existingKey(recorded.keyId);
  return key === undefined ? ERASED : openText(key, recorded);
}
