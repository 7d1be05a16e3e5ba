/** Strict text forms of hashes and signatures: one spelling per value, so that no edit goes unnoticed. */

export const HASH_BYTES = 32;
const HEX_HASH = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A SHA-256 hash as 64 lower-case hex digits. */
export function isHexHash(value: unknown): value is string {
  return typeof value === 'string' && HEX_HASH.test(value);
}

export function hashFromHex(value: string): Buffer {
  if (!isHexHash(value)) throw new RangeError('a hash must be 64 lower-case hex digits');
  return Buffer.from(value, 'hex');
}

export function hashToHex(hash: Uint8Array): string {
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex');
}

/**
 * Decodes standard base64 (with padding) only when it is the one canonical
 * spelling of its bytes: Node's decoder otherwise ignores stray characters and
 * the unused low bits of the last digit.
 */
export function decodeCanonicalBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : undefined;
}
