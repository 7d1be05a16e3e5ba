import { Global, Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '../cases/read-model';
import { READ_MODEL } from '../projections/projections.module';
import { LedgerMetrics } from './metrics';
import { METRICS, MetricsController } from './metrics.controller';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: METRICS,
      inject: [EVENT_STORE, READ_MODEL],
      useFactory: (store: EventStore, readModel: ReadModel) => new LedgerMetrics(store, readModel),
    },
  ],
  exports: [METRICS],
})
export class MetricsModule {}
