/**
 * The shape of identity data as events carry it: sealed (libs/privacy does the
 * sealing). Deciders check the shape; they never see the plaintext.
 */

/**
 * What identifies a person. It never enters an event, a read model, a log or a
 * Kafka message in the clear: it is sealed with the subject's own data key, and
 * erasing the subject destroys that key.
 */
export interface IdentityData {
  readonly fullName?: string;
  /** YYYY-MM-DD. */
  readonly birthDate?: string;
  /** ISO 3166-1 alpha-2 or alpha-3. */
  readonly nationality?: string;
  /** Phone, address or another way to reach the person. Its own data category (`contact`). */
  readonly contact?: string;
  readonly notes?: string;
}

/** Identity data sealed with AES-256-GCM under the subject's key, as stored in events. */
export interface SealedIdentity {
  readonly alg: 'A256GCM';
  /** The subject id: the key that opens it, and the associated data it is bound to. */
  readonly keyId: string;
  /** Base64: 12-byte nonce, ciphertext, 16-byte tag. */
  readonly iv: string;
  readonly data: string;
  readonly tag: string;
}

/** Whether a JSON value has the shape of sealed identity data (the content stays opaque). */
export function isSealedIdentity(value: unknown): value is SealedIdentity {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const b64 = (x: unknown): boolean => typeof x === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(x);
  return (
    v.alg === 'A256GCM' &&
    typeof v.keyId === 'string' &&
    v.keyId.length > 0 &&
    b64(v.iv) &&
    b64(v.data) &&
    b64(v.tag) &&
    Object.keys(v).length === 5
  );
}

/**
 * Free text recorded on a subject's case (a break-glass justification, a lawful basis's
 * justification), sealed under the subject's key as identity is, so that the subject's erasure
 * shreds it too. The same envelope as `SealedIdentity`; its plaintext is one JSON string.
 */
export type SealedText = SealedIdentity;

/** What a reader is shown in place of sealed data whose subject has been erased. */
export interface ErasedMark {
  readonly erased: true;
}
