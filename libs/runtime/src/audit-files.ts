import {
  AuditKeys,
  CosignatureStore,
  FileLease,
  NOTE_COSIGNATURE_V1,
  parseVerifierKey,
  PostgresSharedLog,
  type MerkleLogOptions,
  type NoteVerifier,
} from '@nrm/audit';
import { join, resolve } from 'node:path';
import type { LedgerConfig } from './config';

/*
 * Where the verifiable log's files live and how its keys and witnesses are opened: shared by the
 * API's audit module and the CLI's audit commands.
 */

/**
 * The settings of the verifiable log, as `LedgerConfig` names them. Optional
 * here so that this module also runs with a configuration that predates them
 * (the defaults below apply).
 */
export type AuditConfig = Pick<LedgerConfig, 'DATA_DIR'> & {
  /** Which store's positions the log follows: sparse on EventStoreDB (default sqlite: dense). */
  readonly EVENT_STORE?: LedgerConfig['EVENT_STORE'];
  /** 'sqlite' (default): DATA_DIR/audit.sqlite under a file lock; 'postgres': one log for every replica. */
  readonly AUDIT_LOG_STORE?: 'sqlite' | 'postgres';
  readonly AUDIT_LOG_URL?: string;
  readonly AUDIT_LOG_SCHEMA?: string;
  /** A PEM Ed25519 private key; default: DATA_DIR/audit-signing-key.pem, made on first use. */
  readonly AUDIT_SIGNING_KEY_FILE?: string;
  /** Sign a checkpoint every N events (1 to 1,000,000; default 1000). */
  readonly AUDIT_CHECKPOINT_EVERY?: number;
  /** …and at least this often while events come (1 to 86,400 s; default 60). */
  readonly AUDIT_CHECKPOINT_INTERVAL_SECONDS?: number;
  /** The log's origin (checkpoint notes' first line); default derived from the key. */
  readonly AUDIT_LOG_ORIGIN?: string;
  /** Witnesses' verifier keys (type 0x04) whose cosignatures the ledger takes. */
  readonly AUDIT_WITNESS_KEYS?: readonly string[];
  /** Head and last-event check against the log (default 5 s). */
  readonly AUDIT_INTEGRITY_CHECK_SECONDS?: number;
  /** Full re-hash rate, events per second (default 1000; 0: none). */
  readonly AUDIT_REHASH_EVENTS_PER_SECOND?: number;
  /** Pause between full re-hash passes (default 3600 s). */
  readonly AUDIT_REHASH_PAUSE_SECONDS?: number;
  /** A signed checkpoint (JSON) kept outside DATA_DIR, that the log must reach with the same root. */
  readonly AUDIT_ANCHOR_CHECKPOINT_FILE?: string;
};

export function cosignaturesFile(config: Pick<LedgerConfig, 'DATA_DIR'>): string {
  return join(resolve(config.DATA_DIR), 'audit-cosignatures.sqlite');
}

/** The configured witnesses (config validation already refused malformed keys). */
export function witnessVerifiers(config: AuditConfig): NoteVerifier[] {
  return (config.AUDIT_WITNESS_KEYS ?? []).flatMap((key) => {
    const parsed = parseVerifierKey(key);
    return parsed.ok && parsed.value.type === NOTE_COSIGNATURE_V1 ? [parsed.value] : [];
  });
}

export function openCosignatures(config: AuditConfig): CosignatureStore {
  return new CosignatureStore({ filename: cosignaturesFile(config), witnesses: witnessVerifiers(config) });
}

export const AUDIT_DEFAULTS = { checkpointEvery: 1000, checkpointIntervalSeconds: 60 } as const;

export function auditLogFile(config: Pick<LedgerConfig, 'DATA_DIR'>): string {
  return join(resolve(config.DATA_DIR), 'audit.sqlite');
}

export function auditKeys(config: AuditConfig): AuditKeys {
  return AuditKeys.load({
    dataDir: resolve(config.DATA_DIR),
    ...(config.AUDIT_SIGNING_KEY_FILE !== undefined ? { keyFile: config.AUDIT_SIGNING_KEY_FILE } : {}),
    ...(config.AUDIT_LOG_ORIGIN !== undefined ? { origin: config.AUDIT_LOG_ORIGIN } : {}),
  });
}

/** The lock file beside the embedded log: whoever holds it extends the log. */
export function auditLeaseFile(config: Pick<LedgerConfig, 'DATA_DIR'>): string {
  return join(resolve(config.DATA_DIR), 'audit.lease');
}

/**
 * Where the one log of the deployment lives and who may write it: on the embedded default the
 * SQLite file in DATA_DIR under a file lock; with AUDIT_LOG_STORE=postgres the PostgreSQL log
 * (its advisory lock the lease), DATA_DIR holding this process's checked replica.
 */
export function auditLogPlacement(
  config: AuditConfig,
): Pick<MerkleLogOptions, 'lease' | 'shared' | 'densePositions'> & { shared?: PostgresSharedLog } {
  const densePositions = (config.EVENT_STORE ?? 'sqlite') === 'sqlite';
  if (config.AUDIT_LOG_STORE === 'postgres') {
    if (config.AUDIT_LOG_URL === undefined)
      throw new Error('AUDIT_LOG_URL must be set when AUDIT_LOG_STORE=postgres');
    const shared = new PostgresSharedLog({
      connectionString: config.AUDIT_LOG_URL,
      schema: config.AUDIT_LOG_SCHEMA ?? 'nrm_audit',
    });
    return { lease: shared, shared, densePositions };
  }
  return { lease: new FileLease(auditLeaseFile(config)), densePositions };
}
