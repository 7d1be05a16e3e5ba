import { Module, type DynamicModule } from '@nestjs/common';
import type { LedgerConfig } from '@nrm/runtime';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '@nrm/runtime';
import { AuditTrail } from '../access/audit-trail';
import { READ_MODEL } from '../projections/projections.module';
import { CoordinatorOnly, COORDINATOR_AUDIT } from './coordinator-only.guard';
import { CoordinatorViews } from './coordinator-views';
import { statisticsColumns } from './case-statistics';
import {
  COORDINATOR_VIEWS,
  CoordinatorController,
  STATS_COLUMNS,
  STATS_MIN_CELL,
} from './coordinator.controller';

/** The national coordinator's views: the handoff board and statistics, without identity data. */
@Module({})
export class CoordinatorModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: CoordinatorModule,
      controllers: [CoordinatorController],
      providers: [
        { provide: STATS_MIN_CELL, useValue: config.STATS_MIN_CELL },
        { provide: STATS_COLUMNS, useValue: statisticsColumns(config.STATS_REGIONS) },
        {
          provide: COORDINATOR_VIEWS,
          inject: [EVENT_STORE, READ_MODEL],
          useFactory: (store: EventStore, readModel: ReadModel) => new CoordinatorViews(store, readModel),
        },
        {
          provide: COORDINATOR_AUDIT,
          inject: [EVENT_STORE],
          useFactory: (store: EventStore) => new AuditTrail(store),
        },
        CoordinatorOnly,
      ],
    };
  }
}
