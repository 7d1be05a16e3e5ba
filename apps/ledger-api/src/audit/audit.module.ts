import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import type { AuditKeys, CosignatureStore, IntegrityWatch, MerkleLog, MerkleLogLogger } from '@nrm/audit';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { AuditTrail } from '../access/audit-trail';
import { APPEND_GATE, type AppendGate } from '../event-store/append-gate';
import { auditKeys, openCosignatures, type AuditConfig, type LedgerConfig } from '@nrm/runtime';
import { AuditProofs } from './audit-proofs';
import { AuditLogThread } from './audit-log-thread-client';
import { AuditLogRun, openMerkleLog as openLog, openWatch, shareCosigned } from './audit-wiring';
import { AUDIT_PROOFS, AuditController } from './audit.controller';
import { AUDIT_DENIALS, ProofsForOversight } from './proofs-for-oversight.guard';

export { loadAnchor } from './audit-wiring';

/** The log on the API's event loop (AUDIT_LOG_THREAD=off); absent when it runs in its thread. */
export const MERKLE_LOG = Symbol('MERKLE_LOG');
export const AUDIT_KEYS = Symbol('AUDIT_KEYS');
export const AUDIT_COSIGNATURES = Symbol('AUDIT_COSIGNATURES');
/** The integrity watch on the API's event loop (AUDIT_LOG_THREAD=off); absent when it runs in its thread. */
export const INTEGRITY_WATCH = Symbol('INTEGRITY_WATCH');
/** The log's thread client (AUDIT_LOG_THREAD=on, the default); absent when the log runs on the loop. */
export const AUDIT_LOG_THREAD = Symbol('AUDIT_LOG_THREAD');
/** What starts and stops the log, its watch and the cosignatures, wherever they run. */
const AUDIT_LOG_RUN = Symbol('AUDIT_LOG_RUN');

interface AuditLifecycle {
  start(): Promise<unknown>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

// The verifiable log's files, keys and witnesses (AuditConfig, auditKeys, auditLogFile, ...) are
// opened by libs/runtime/src/audit-files.ts, which the CLI's audit commands share.

function nestLogger(context: string): MerkleLogLogger {
  const logger = new Logger(context);
  return {
    info: (obj: object, msg: string) => logger.log(obj, msg),
    error: (obj: object, msg: string) => logger.error(obj, msg),
  };
}

/** The log over the store, with the configured key and checkpoint schedule, logging through Nest's logger. */
export function openMerkleLog(store: EventStore, config: AuditConfig, keys: AuditKeys): MerkleLog {
  return openLog(store, config, keys, nestLogger('AuditLog'));
}

/** Watches the store against the log; a finding closes the API's append gate. */
export function openIntegrityWatch(
  store: EventStore,
  log: MerkleLog,
  config: AuditConfig,
  keys: AuditKeys,
  gate: AppendGate,
): IntegrityWatch {
  const watch = openWatch(store, log, config, keys, nestLogger('AuditIntegrity'), (finding) =>
    gate.close(finding),
  );
  gate.attach(
    () => watch.status(),
    () => log.health(),
  );
  return watch;
}

/**
 * The log on the API's event loop (AUDIT_LOG_THREAD=off, or a configuration the thread does not
 * take): the log, its watch and the cosignatures opened here, on the API's store.
 */
function onLoopProviders(config: AuditConfig): Provider[] {
  return [
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
      useFactory: (log: MerkleLog, keys: AuditKeys, cosignatures: CosignatureStore, watch: IntegrityWatch) =>
        new AuditProofs(log, keys, cosignatures, watch, shareCosigned(log, nestLogger('AuditCosignatures'))),
    },
    {
      provide: AUDIT_LOG_RUN,
      inject: [MERKLE_LOG, INTEGRITY_WATCH, AUDIT_COSIGNATURES],
      useFactory: (log: MerkleLog, watch: IntegrityWatch, cosignatures: CosignatureStore): AuditLifecycle =>
        new AuditLogRun(log, watch, cosignatures),
    },
  ];
}

/** The log in its worker thread (AUDIT_LOG_THREAD=on): only the client on the API's event loop. */
function threadProviders(config: LedgerConfig): Provider[] {
  return [
    {
      provide: AUDIT_LOG_THREAD,
      inject: [APPEND_GATE],
      useFactory: (gate: AppendGate) => {
        const thread = new AuditLogThread(config, gate, new Logger('AuditLog'));
        gate.attach(
          () => thread.integrity(),
          () => thread.health(),
        );
        return thread;
      },
    },
    { provide: AUDIT_PROOFS, useExisting: AUDIT_LOG_THREAD },
    { provide: AUDIT_LOG_RUN, useExisting: AUDIT_LOG_THREAD },
  ];
}

/**
 * The verifiable log in the API process: fed from the event store by a catch-up subscription
 * (like the projector), signing checkpoints, serving the key, checkpoints and proofs. By default
 * all of it runs in a worker thread on its own connections (AUDIT_LOG_THREAD=on), so that hashing
 * the audit event each read appends never runs on the event loop that serves requests. Wiring
 * only: the log is `@nrm/audit`.
 */
@Module({})
export class AuditModule implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  constructor(@Inject(AUDIT_LOG_RUN) private readonly run: AuditLifecycle) {}

  static forRoot(config: LedgerConfig): DynamicModule {
    const threaded = config.AUDIT_LOG_THREAD === 'on';
    return {
      module: AuditModule,
      controllers: [AuditController],
      providers: [
        ...(threaded ? threadProviders(config) : onLoopProviders(config)),
        {
          provide: AUDIT_DENIALS,
          inject: [EVENT_STORE],
          useFactory: (store: EventStore) => new AuditTrail(store),
        },
        ProofsForOversight,
      ],
      exports: threaded ? [AUDIT_LOG_THREAD] : [MERKLE_LOG, INTEGRITY_WATCH],
    };
  }

  /** The store is checked against the log first: with a finding standing, the log does not follow it. */
  async onModuleInit(): Promise<void> {
    await this.run.start();
  }

  /** Stopped before any shutdown hook, so that the event store is still open while it stops. */
  async onModuleDestroy(): Promise<void> {
    await this.run.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.run.close();
  }
}
