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
  caseDirectory,
  COORDINATOR_PROJECTIONS,
  OVERSIGHT_PROJECTIONS,
  SqliteProjector,
} from '@nrm/projections';
import { join, resolve } from 'node:path';
import { CASE_READS, CaseReadsController, ReferralReadsController } from '../cases/case-reads.controller';
import { CaseReads } from '../cases/case-reads';
import type { LedgerConfig } from '../config/config';

export const PROJECTOR = Symbol('PROJECTOR');

/** Every projection the ledger maintains. */
export const PROJECTIONS = [caseDirectory, ...COORDINATOR_PROJECTIONS, ...OVERSIGHT_PROJECTIONS];

export function readModelFile(config: LedgerConfig): string {
  return join(resolve(config.DATA_DIR), 'read-models.sqlite');
}

/**
 * The embedded default runs the projector inside the API process, on its own
 * SQLite file beside the event store; queries read its tables.
 */
@Global()
@Module({})
export class ProjectionsModule implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  constructor(@Inject(PROJECTOR) private readonly projector: SqliteProjector) {}

  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: ProjectionsModule,
      controllers: [CaseReadsController, ReferralReadsController],
      providers: [
        {
          provide: PROJECTOR,
          inject: [EVENT_STORE],
          useFactory: (store: EventStore) => {
            const logger = new Logger('Projector');
            return new SqliteProjector({
              store,
              filename: readModelFile(config),
              projections: PROJECTIONS,
              logger: {
                info: (obj: object, msg: string) => logger.log(obj, msg),
                error: (obj: object, msg: string) => logger.error(obj, msg),
              },
            });
          },
        },
        {
          provide: CASE_READS,
          inject: [EVENT_STORE, PROJECTOR],
          useFactory: (store: EventStore, projector: SqliteProjector) => new CaseReads(store, projector),
        },
      ],
      exports: [PROJECTOR, CASE_READS],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.projector.start();
  }

  /** Stopped before any module's shutdown hook, so the event store is still open while it stops. */
  async onModuleDestroy(): Promise<void> {
    await this.projector.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.projector.close();
  }
}
