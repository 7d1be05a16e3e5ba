import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The secret that ids derived from an Idempotency-Key are keyed with, so that
 * nobody can compute a case id from a principal id and a key. From
 * ID_DERIVATION_SECRET (required when several processes share an event store
 * without sharing a data directory, i.e. with EventStoreDB), else made once
 * into DATA_DIR/id-derivation.secret (0600), which processes sharing the
 * embedded store share too.
 */
export function idDerivationSecret(config: {
  readonly DATA_DIR: string;
  readonly ID_DERIVATION_SECRET?: string | undefined;
}): Buffer {
  if (config.ID_DERIVATION_SECRET !== undefined) return Buffer.from(config.ID_DERIVATION_SECRET, 'utf8');
  const file = join(resolve(config.DATA_DIR), 'id-derivation.secret');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Written whole under another name, then linked into place: a process starting at the same
    // moment sees either no file or the complete one, never an empty one.
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, randomBytes(32).toString('base64'), { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      // Another process made it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      unlinkSync(draft);
    }
    chmodSync(file, 0o600);
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new Error(`${file} holds no usable secret (fewer than 32 characters)`);
  return Buffer.from(secret, 'utf8');
}

/** A UUID (version 5 layout) keyed by the secret: the same inputs give the same id, others cannot compute it. */
export function keyedUuid(secret: Buffer, input: string): string {
  const bytes = createHmac('sha256', secret).update(input, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * What an event records of a client's Idempotency-Key: a digest keyed by the id secret, never the
 * key as sent. A key is the client's choice and may be made of personal data (a reference built
 * from a name and a birth date); events are immutable and outlive the erasure of the person, so
 * the key as sent must not reach them. `scope` is the principal (as for the derived ids): one key
 * used by two principals records two unrelated digests. A retry computes the same digest.
 */
export function storedIdempotencyKey(secret: Buffer, scope: string, key: string): string {
  const digest = createHmac('sha256', secret)
    .update(`idempotency-key\u0000${scope}\u0000${key}`, 'utf8')
    .digest('base64url');
  return `hmac:${digest}`;
}
