import { Global, Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '../cases/read-model';
import { READ_MODEL } from '../projections/projections.module';
import { APPEND_GATE, type AppendGate } from '../event-store/append-gate';
import { LedgerMetrics } from './metrics';
import { METRICS, MetricsController } from './metrics.controller';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: METRICS,
      inject: [EVENT_STORE, READ_MODEL, APPEND_GATE],
      useFactory: (store: EventStore, readModel: ReadModel, gate: AppendGate) =>
        new LedgerMetrics(store, readModel, gate),
    },
  ],
  exports: [METRICS],
})
export class MetricsModule {}
