import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IdentityData, SealedIdentity } from '@nrm/shared-kernel';

export type { IdentityData };

export const KEY_BYTES = 32;

/** Seals identity data for one subject; a fresh nonce every time. */
export function sealIdentity(key: Buffer, subjectId: string, identity: IdentityData): SealedIdentity {
  if (key.length !== KEY_BYTES) throw new Error('a subject key is 32 bytes');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(subjectId, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(identity), 'utf8'), cipher.final()]);
  return {
    alg: 'A256GCM',
    keyId: subjectId,
    iv: iv.toString('base64'),
    data: data.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
}

/** Opens sealed identity data; throws when the key, the subject or the bytes do not match. */
export function openIdentity(key: Buffer, sealed: SealedIdentity): IdentityData {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(Buffer.from(sealed.keyId, 'utf8'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
  return JSON.parse(plain.toString('utf8')) as IdentityData;
}
