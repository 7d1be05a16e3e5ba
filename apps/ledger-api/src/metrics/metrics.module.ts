import { Global, Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '@nrm/runtime';
import { READ_MODEL } from '../projections/projections.module';
import { APPEND_GATE, type AppendGate } from '../event-store/append-gate';
import { RATE_LIMITS } from '../access/auth.guard';
import type { RateLimits } from '../access/rate-limits';
import { LedgerMetrics } from './metrics';
import { METRICS, MetricsController } from './metrics.controller';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    {
      provide: METRICS,
      inject: [EVENT_STORE, READ_MODEL, APPEND_GATE, RATE_LIMITS],
      useFactory: (store: EventStore, readModel: ReadModel, gate: AppendGate, limits: RateLimits) =>
        new LedgerMetrics(store, readModel, gate, limits.counts),
    },
  ],
  exports: [METRICS],
})
export class MetricsModule {}
