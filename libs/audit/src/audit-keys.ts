import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  AuditKeyError,
  keyIdOf,
  signCheckpoint,
  type CheckpointSigner,
  type SignedCheckpoint,
} from './checkpoint';
import { formatVerifierKey, isKeyName, NOTE_ED25519, noteVerifier, type NoteVerifier } from './signed-note';

/** The key file made under the data directory when none is configured. */
export const GENERATED_KEY_FILE = 'audit-signing-key.pem';

export interface AuditKeysOptions {
  /** A PEM (PKCS#8) Ed25519 private key; when absent, `dataDir`/audit-signing-key.pem, made on first use. */
  readonly keyFile?: string;
  readonly dataDir: string;
  /** The log's origin (checkpoint note's first line and key name); default `defaultOrigin(key)`. */
  readonly origin?: string;
}

/** The file that keeps the log's name once the key that named it by default is rotated out. */
export function originFile(keyFile: string): string {
  return `${keyFile}.origin`;
}

/** The origin kept by a rotation beside the key file, if any. */
export function keptOrigin(keyFile: string): string | undefined {
  try {
    return readFileSync(originFile(keyFile), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** An origin that names this installation's log by its key, when none is configured. */
export function defaultOrigin(publicKey: KeyObject): string {
  return `nrm-ledger.invalid/audit/${keyIdOf(publicKey).slice(0, 16)}`;
}

function refuseLooseMode(file: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0)
    throw new AuditKeyError(
      `the audit signing key ${file} can be read or written by others (mode ${mode.toString(8)}); run chmod 600 on it`,
    );
}

function privateKeyFrom(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw new AuditKeyError(
      `${file} is not an unencrypted PEM private key: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new AuditKeyError(
      `${file} holds a ${key.asymmetricKeyType ?? 'non-Ed25519'} key; the audit log signs with Ed25519`,
    );
  return key;
}

/**
 * The log's signing key. Loaded from the configured PEM file, or from the
 * one generated under DATA_DIR on first use (mode 0600; created exclusively,
 * so two processes starting at once end up with the same key). Either file must
 * be private to its owner. The key id is SHA-256 of the public key's SPKI.
 */
export class AuditKeys implements CheckpointSigner {
  readonly publicKey: KeyObject;
  /** The log's origin: the first line of every checkpoint and the key's name in its signature. */
  readonly origin: string;
  /** The note key ID of the key under the origin (8 hex digits). */
  readonly keyId: string;
  /** SHA-256 of the public key's SPKI (hex): a fingerprint for people. */
  readonly fingerprint: string;
  /** Name, key ID and key: what a verifier of checkpoints needs. */
  readonly verifier: NoteVerifier;

  private constructor(
    private readonly privateKey: KeyObject,
    /** The file the key came from, when it came from one. */
    readonly file?: string,
    origin?: string,
  ) {
    this.publicKey = createPublicKey(privateKey);
    this.fingerprint = keyIdOf(this.publicKey);
    this.origin = origin ?? defaultOrigin(this.publicKey);
    if (!isKeyName(this.origin))
      throw new AuditKeyError(
        'the log origin must be non-empty, without spaces or "+" (e.g. ledger.example/audit)',
      );
    this.verifier = noteVerifier(this.origin, NOTE_ED25519, this.publicKey);
    this.keyId = this.verifier.keyId;
  }

  /** The verifier key in C2SP text form: `<origin>+<key ID>+<base64(0x01 ‖ key)>`. */
  verifierKey(): string {
    return formatVerifierKey(this.verifier);
  }

  static load(options: AuditKeysOptions): AuditKeys {
    // A rotated key keeps the log's name that the first key gave it by default.
    const origin =
      options.origin ?? keptOrigin(resolve(options.keyFile ?? join(options.dataDir, GENERATED_KEY_FILE)));
    if (origin !== undefined && options.origin === undefined) return AuditKeys.load({ ...options, origin });
    if (options.keyFile !== undefined) {
      const file = resolve(options.keyFile);
      let pem: string;
      try {
        pem = readFileSync(file, 'utf8');
      } catch (error) {
        throw new AuditKeyError(
          `cannot read the audit signing key ${file}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      refuseLooseMode(file);
      return new AuditKeys(privateKeyFrom(pem, file), file, options.origin);
    }
    const dir = resolve(options.dataDir);
    const file = join(dir, GENERATED_KEY_FILE);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
      chmodSync(file, 0o600); // whatever the umask
      return new AuditKeys(privateKey, file, options.origin);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
    }
    refuseLooseMode(file);
    return new AuditKeys(privateKeyFrom(readFileSync(file, 'utf8'), file), file, options.origin);
  }

  /** A key held in memory only (tests, throw-away logs). */
  static generate(origin?: string): AuditKeys {
    return new AuditKeys(generateKeyPairSync('ed25519').privateKey, undefined, origin);
  }

  sign(bytes: Uint8Array): Buffer {
    return sign(null, bytes, this.privateKey);
  }

  signCheckpoint(statement: { treeSize: number; rootHash: string; time: string }): SignedCheckpoint {
    return signCheckpoint(this, statement);
  }

  publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  publicKeyJwk(): JsonWebKey {
    return this.publicKey.export({ format: 'jwk' });
  }
}
