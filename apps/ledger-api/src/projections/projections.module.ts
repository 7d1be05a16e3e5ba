import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import {
  CheckpointFollower,
  Projector,
  SqliteReadModelStore,
  verifyReadModels,
  type ReadModelStore,
} from '@nrm/projections';
import { CASE_READS, CaseReadsController, ReferralReadsController } from '../cases/case-reads.controller';
import { CaseReads } from '@nrm/runtime';
import type { ReadModel } from '@nrm/runtime';
import {
  type LedgerConfig,
  SUBJECT_KEYS,
  openReadModelStore,
  PROJECTIONS,
  readModelFile,
} from '@nrm/runtime';
import type { SubjectKeyStore } from '@nrm/privacy';
import { ReadModelWatch } from './read-model-watch';
import { ProjectorThread } from './projector-thread-client';

/** The read models, as queries see them (`ReadModel`). */
export const READ_MODEL = Symbol('READ_MODEL');

/** A projector maintaining every projection, logging through Nest's logger. */
export function ledgerProjector(store: EventStore, readModels: ReadModelStore): Projector {
  const logger = new Logger('Projector');
  return new Projector({
    store,
    readModels,
    projections: PROJECTIONS,
    logger: {
      info: (obj: object, msg: string) => logger.log(obj, msg),
      error: (obj: object, msg: string) => logger.error(obj, msg),
    },
  });
}

/** How the API runs the read side: the projector inside it, or following an external one. */
interface ReadSide extends ReadModel {
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
  /**
   * Resolves once the foreign-write counter the watch reads (`foreignWrites`) reflects every write
   * made before the call; absent where that counter is read synchronously on this thread.
   */
  confirmWrites?(): Promise<void>;
}

/**
 * The read side, checked against a rebuild from the events (SQLite read models): the check runs
 * once the projector has started and before the ledger serves, then every READ_MODEL_CHECK_SECONDS.
 * While a divergence stands, no query is answered from the read models: `waitFor` says they have
 * not caught up, so every query answers 503 READ_MODEL.BEHIND, and /health is 503.
 */
function watched(side: ReadSide, watch: ReadModelWatch): ReadSide {
  return {
    ...side,
    integrity: watch,
    waitFor: async (position, timeoutMs, projections) => {
      if (side.confirmWrites) await side.confirmWrites();
      return watch.finding || watch.writtenSinceVouched()
        ? false
        : side.waitFor(position, timeoutMs, projections);
    },
    start: async () => {
      await side.start();
      await watch.start();
    },
    stop: async () => {
      await watch.stop();
      await side.stop();
    },
  };
}

function embedded(projector: Projector): ReadSide {
  const store = projector.readModelStore;
  return {
    store,
    waitFor: (position, timeoutMs, projections) => projector.waitFor(position, timeoutMs, projections),
    health: () => {
      const h = projector.health();
      return Promise.resolve({
        ok: h.ok,
        state: h.state,
        positions: h.positions,
        ...(h.failure ? { failure: { ...h.failure } } : {}),
      });
    },
    start: () => projector.start(),
    stop: () => projector.stop(),
    close: async () => {
      await projector.close();
      await store.close();
    },
  };
}

/**
 * The embedded projector in a worker thread (PROJECTOR_THREAD=on): queries read the read models
 * through this thread's own connection and wait on the checkpoints the thread reports.
 */
function threaded(thread: ProjectorThread, store: ReadModelStore): ReadSide {
  // SQLite's data_version on this side's (never writing) connection: it moves with every commit of
  // the projector's and of anyone else. When it has moved, the thread reads its own counter (which
  // moves only with someone else's) before the read gate trusts it.
  const fileVersion = store instanceof SqliteReadModelStore ? () => store.foreignWriteCounter() : undefined;
  let confirmedVersion: number | undefined;
  return {
    store,
    waitFor: (position, timeoutMs, projections) => thread.waitFor(position, timeoutMs, projections),
    health: () => {
      const h = thread.health();
      return Promise.resolve({
        ok: h.ok,
        state: h.state,
        positions: h.positions,
        ...(h.failure ? { failure: { ...h.failure } } : {}),
      });
    },
    start: () => thread.start(),
    stop: () => thread.stop(),
    close: async () => {
      await thread.close();
      await store.close();
    },
    ...(fileVersion
      ? {
          confirmWrites: async () => {
            let now: number;
            try {
              now = fileVersion();
            } catch {
              return; // closing
            }
            if (now === confirmedVersion) return;
            await thread.probe();
            confirmedVersion = now;
          },
        }
      : {}),
  };
}

function following(follower: CheckpointFollower): ReadSide {
  const store = follower.readModelStore;
  return {
    store,
    waitFor: (position, timeoutMs, projections) => follower.waitFor(position, timeoutMs, projections),
    health: async () => {
      const h = await follower.health();
      return {
        ok: h.ok,
        state: 'following',
        positions: h.positions,
        ...(h.detail ? { detail: h.detail } : {}),
      };
    },
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    close: () => store.close(),
  };
}

/**
 * The read side. In the embedded default the projector runs inside the API
 * process; with PROJECTOR=external it runs as its own process (apps/projector)
 * and the API reads the same store, waiting on the projector's checkpoints.
 */
@Global()
@Module({})
export class ProjectionsModule implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  constructor(@Inject(READ_MODEL) private readonly readSide: ReadSide) {}

  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: ProjectionsModule,
      controllers: [CaseReadsController, ReferralReadsController],
      providers: [
        {
          provide: READ_MODEL,
          inject: [EVENT_STORE],
          useFactory: (store: EventStore): ReadSide => {
            const readModels = openReadModelStore(config);
            const thread =
              config.PROJECTOR === 'embedded' && config.PROJECTOR_THREAD === 'on'
                ? new ProjectorThread(config, new Logger('Projector'))
                : undefined;
            const side =
              config.PROJECTOR === 'external'
                ? following(new CheckpointFollower({ readModels, projections: PROJECTIONS }))
                : thread
                  ? threaded(thread, readModels)
                  : embedded(ledgerProjector(store, readModels));
            if (config.READ_MODEL_STORE !== 'sqlite' || config.READ_MODEL_CHECK === 'off') return side;
            const verify = () =>
              verifyReadModels({
                store,
                readModelFile: readModelFile(config),
                projections: PROJECTIONS,
                // Small batches: the periodic check shares the event loop with requests.
                batchSize: 128,
              });
            // The embedded projector is the file's only writer: a write by anyone else is noticed at once
            // (in its thread, by the counter of the projector's connection, read before the query).
            const foreignWrites =
              config.PROJECTOR === 'embedded' && readModels instanceof SqliteReadModelStore
                ? thread
                  ? () => thread.foreignWrites()
                  : () => readModels.foreignWriteCounter()
                : undefined;
            return watched(
              side,
              new ReadModelWatch(
                verify,
                config.READ_MODEL_CHECK_SECONDS * 1000,
                new Logger('ReadModelCheck'),
                foreignWrites,
              ),
            );
          },
        },
        {
          provide: CASE_READS,
          inject: [EVENT_STORE, READ_MODEL, SUBJECT_KEYS],
          useFactory: (store: EventStore, readModel: ReadModel, keys: SubjectKeyStore) =>
            new CaseReads(store, readModel, keys),
        },
      ],
      exports: [READ_MODEL, CASE_READS],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.readSide.start();
  }

  /** Stopped before any module's shutdown hook, so the event store is still open while it stops. */
  async onModuleDestroy(): Promise<void> {
    await this.readSide.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.readSide.close();
  }
}
