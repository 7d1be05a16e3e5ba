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
  IntegrityWatch,
  PostgresSharedLog,
  MerkleLog,
  parseSignedCheckpoint,
  verifyCheckpointSignature,
  type SignedCheckpoint,
} from '@nrm/audit';
import { readFileSync } from 'node:fs';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { AuditTrail } from '../access/audit-trail';
import { APPEND_GATE, type AppendGate } from '../event-store/append-gate';
import {
  AUDIT_DEFAULTS,
  auditKeys,
  auditLogFile,
  auditLogPlacement,
  openCosignatures,
  type AuditConfig,
} from '@nrm/runtime';
import { AuditProofs } from './audit-proofs';
import { AUDIT_PROOFS, AuditController } from './audit.controller';
import { AUDIT_DENIALS, ProofsForOversight } from './proofs-for-oversight.guard';

export const MERKLE_LOG = Symbol('MERKLE_LOG');
export const AUDIT_KEYS = Symbol('AUDIT_KEYS');
export const AUDIT_COSIGNATURES = Symbol('AUDIT_COSIGNATURES');
export const INTEGRITY_WATCH = Symbol('INTEGRITY_WATCH');

// The verifiable log's files, keys and witnesses (AuditConfig, auditKeys, auditLogFile, ...) are
// opened by libs/runtime/src/audit-files.ts, which the CLI's audit commands share.

/** The log over the store, with the configured key and checkpoint schedule, logging through Nest's logger. */
export function openMerkleLog(store: EventStore, config: AuditConfig, keys: AuditKeys): MerkleLog {
  const logger = new Logger('AuditLog');
  return new MerkleLog({
    store,
    filename: auditLogFile(config),
    ...auditLogPlacement(config),
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

/** The anchor checkpoint: read, parsed and its signature checked at boot; a bad one stops the boot. */
export function loadAnchor(config: AuditConfig, keys: AuditKeys): SignedCheckpoint | undefined {
  const file = config.AUDIT_ANCHOR_CHECKPOINT_FILE;
  if (file === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new Error(
      `AUDIT_ANCHOR_CHECKPOINT_FILE: cannot read ${file} as JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const parsed = parseSignedCheckpoint(value);
  if (!parsed.ok) throw new Error(`AUDIT_ANCHOR_CHECKPOINT_FILE: ${parsed.reason}`);
  const signature = verifyCheckpointSignature(parsed.value, keys.publicKey);
  if (!signature.valid) throw new Error(`AUDIT_ANCHOR_CHECKPOINT_FILE: ${signature.reason}`);
  return parsed.value;
}

/** Watches the store against the log; a finding closes the API's append gate. */
export function openIntegrityWatch(
  store: EventStore,
  log: MerkleLog,
  config: AuditConfig,
  keys: AuditKeys,
  gate: AppendGate,
): IntegrityWatch {
  const logger = new Logger('AuditIntegrity');
  const anchor = loadAnchor(config, keys);
  const watch = new IntegrityWatch({
    log,
    store,
    filename: auditLogFile(config),
    headCheckMs: (config.AUDIT_INTEGRITY_CHECK_SECONDS ?? 5) * 1000,
    rehashEventsPerSecond: config.AUDIT_REHASH_EVENTS_PER_SECOND ?? 1000,
    rehashPauseMs: (config.AUDIT_REHASH_PAUSE_SECONDS ?? 3600) * 1000,
    ...(anchor ? { anchor } : {}),
    logger: {
      info: (obj: object, msg: string) => logger.log(obj, msg),
      error: (obj: object, msg: string) => logger.error(obj, msg),
    },
    onFinding: (finding) => gate.close(finding),
  });
  log.onAdded((first, last) => watch.recorded(first, last));
  gate.attach(() => watch.status());
  return watch;
}

/** Hands a cosigned note one replica took to the shared log, for the others (nothing without one). */
function shareCosigned(log: MerkleLog): ((treeSize: number, note: string) => void) | undefined {
  const shared = log.sharedLog;
  if (!(shared instanceof PostgresSharedLog)) return undefined;
  const logger = new Logger('AuditCosignatures');
  return (treeSize, note) =>
    void shared
      .addCosignedNote(treeSize, note)
      .catch((error: unknown) =>
        logger.error(
          { message: error instanceof Error ? error.message : String(error) },
          'cosignature not shared',
        ),
      );
}

/**
 * Takes into this replica's cosignature store the cosigned notes other replicas took, every
 * second: each verified again (a note for a checkpoint this replica has not read yet waits).
 */
class CosignatureFollower {
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly shared: PostgresSharedLog,
    private readonly log: MerkleLog,
    private readonly cosignatures: CosignatureStore,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.step().finally(() => {
        this.running = undefined;
      });
    }, 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async step(): Promise<void> {
    try {
      for (const row of await this.shared.cosignedNotesAfter(this.cursor)) {
        const result = this.cosignatures.submit(row.note, (size) => this.log.checkpointAt(size));
        if (!result.ok && result.code === 'AUDIT.UNKNOWN_CHECKPOINT' && this.log.treeSize < row.tree_size)
          return;
        this.cursor = row.id;
      }
    } catch {
      // The shared log unreachable now: tried again in a second.
    }
  }
}

/**
 * The verifiable log in the API process: fed from the event store by a
 * catch-up subscription (like the projector), signing checkpoints, serving
 * the key, checkpoints and proofs. Wiring only: the log is `@nrm/audit`.
 */
@Module({})
export class AuditModule implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private follower: CosignatureFollower | undefined;

  constructor(
    @Inject(MERKLE_LOG) private readonly log: MerkleLog,
    @Inject(AUDIT_COSIGNATURES) private readonly cosignatures: CosignatureStore,
    @Inject(INTEGRITY_WATCH) private readonly watch: IntegrityWatch,
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
          provide: INTEGRITY_WATCH,
          inject: [EVENT_STORE, MERKLE_LOG, AUDIT_KEYS, APPEND_GATE],
          useFactory: (store: EventStore, log: MerkleLog, keys: AuditKeys, gate: AppendGate) =>
            openIntegrityWatch(store, log, config, keys, gate),
        },
        {
          provide: AUDIT_PROOFS,
          inject: [MERKLE_LOG, AUDIT_KEYS, AUDIT_COSIGNATURES, INTEGRITY_WATCH],
          useFactory: (
            log: MerkleLog,
            keys: AuditKeys,
            cosignatures: CosignatureStore,
            watch: IntegrityWatch,
          ) => new AuditProofs(log, keys, cosignatures, watch, shareCosigned(log)),
        },
        {
          provide: AUDIT_DENIALS,
          inject: [EVENT_STORE],
          useFactory: (store: EventStore) => new AuditTrail(store),
        },
        ProofsForOversight,
      ],
      exports: [MERKLE_LOG, INTEGRITY_WATCH],
    };
  }

  /** The store is checked against the log first: with a finding standing, the log does not follow it. */
  async onModuleInit(): Promise<void> {
    // A replica of the shared log (AUDIT_LOG_STORE=postgres) reads it first.
    await this.log.sync();
    const finding = await this.watch.start();
    if (!finding) await this.log.start();
    const shared = this.log.sharedLog;
    if (shared instanceof PostgresSharedLog) {
      this.follower = new CosignatureFollower(shared, this.log, this.cosignatures);
      this.follower.start();
    }
  }

  /** Stopped before any shutdown hook, so that the event store is still open while it stops. */
  async onModuleDestroy(): Promise<void> {
    await this.follower?.stop();
    await this.watch.stop();
    await this.log.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.watch.close();
    await this.log.close();
    this.cosignatures.close();
  }
}
