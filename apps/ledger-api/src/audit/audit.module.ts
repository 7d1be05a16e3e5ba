import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import {
  AuditKeys,
  CosignatureStore,
  MerkleLog,
  NOTE_COSIGNATURE_V1,
  parseVerifierKey,
  type NoteVerifier,
} from '@nrm/audit';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { join, resolve } from 'node:path';
import { AuditTrail } from '../access/audit-trail';
import type { LedgerConfig } from '../config/config';
import { AuditProofs } from './audit-proofs';
import { AUDIT_PROOFS, AuditController } from './audit.controller';
import { AUDIT_DENIALS, ProofsForOversight } from './proofs-for-oversight.guard';

export const MERKLE_LOG = Symbol('MERKLE_LOG');
export const AUDIT_KEYS = Symbol('AUDIT_KEYS');
export const AUDIT_COSIGNATURES = Symbol('AUDIT_COSIGNATURES');

/**
 * The settings of the verifiable log, as `LedgerConfig` names them. Optional
 * here so that this module also runs with a configuration that predates them
 * (the defaults below apply).
 */
export type AuditConfig = Pick<LedgerConfig, 'DATA_DIR'> & {
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

/** The log over the store, with the configured key and checkpoint schedule, logging through Nest's logger. */
export function openMerkleLog(store: EventStore, config: AuditConfig, keys: AuditKeys): MerkleLog {
  const logger = new Logger('AuditLog');
  return new MerkleLog({
    store,
    filename: auditLogFile(config),
    signer: keys,
    checkpointEvery: config.AUDIT_CHECKPOINT_EVERY ?? AUDIT_DEFAULTS.checkpointEvery,
    checkpointIntervalMs:
      (config.AUDIT_CHECKPOINT_INTERVAL_SECONDS ?? AUDIT_DEFAULTS.checkpointIntervalSeconds) * 1000,
    logger: {
      info: (obj: object, msg: string) => logger.log(obj, msg),
      error: (obj: object, msg: string) => logger.error(obj, msg),
    },
  });
}

/**
 * The verifiable log in the API process: fed from the event store by a
 * catch-up subscription (like the projector), signing checkpoints, serving
 * the key, checkpoints and proofs. Wiring only: the log is `@nrm/audit`.
 */
@Module({})
export class AuditModule implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  constructor(
    @Inject(MERKLE_LOG) private readonly log: MerkleLog,
    @Inject(AUDIT_COSIGNATURES) private readonly cosignatures: CosignatureStore,
  ) {}

  static forRoot(config: AuditConfig): DynamicModule {
    return {
      module: AuditModule,
      controllers: [AuditController],
      providers: [
        { provide: AUDIT_KEYS, useFactory: () => auditKeys(config) },
        {
          provide: MERKLE_LOG,
          inject: [EVENT_STORE, AUDIT_KEYS],
          useFactory: (store: EventStore, keys: AuditKeys) => openMerkleLog(store, config, keys),
        },
        { provide: AUDIT_COSIGNATURES, useFactory: () => openCosignatures(config) },
        {
          provide: AUDIT_PROOFS,
          inject: [MERKLE_LOG, AUDIT_KEYS, AUDIT_COSIGNATURES],
          useFactory: (log: MerkleLog, keys: AuditKeys, cosignatures: CosignatureStore) =>
            new AuditProofs(log, keys, cosignatures),
        },
        {
          provide: AUDIT_DENIALS,
          inject: [EVENT_STORE],
          useFactory: (store: EventStore) => new AuditTrail(store),
        },
        ProofsForOversight,
      ],
      exports: [MERKLE_LOG],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.log.start();
  }

  /** Stopped before any shutdown hook, so that the event store is still open while it stops. */
  async onModuleDestroy(): Promise<void> {
    await this.log.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.log.close();
    this.cosignatures.close();
  }
}
