import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { LedgerConfig } from '@nrm/runtime';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '@nrm/runtime';
import { READ_MODEL } from '../projections/projections.module';
import { APPEND_GATE, type AppendGate } from '../event-store/append-gate';
import { RATE_LIMITS } from '../access/auth.guard';
import type { RateLimits } from '../access/rate-limits';
import { LedgerMetrics } from './metrics';
import { METRICS, MetricsController } from './metrics.controller';
import { METRICS_ACCESS, MetricsAccess } from './metrics-access';

@Global()
@Module({})
export class MetricsModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        {
          provide: METRICS,
          inject: [EVENT_STORE, READ_MODEL, APPEND_GATE, RATE_LIMITS],
          useFactory: (store: EventStore, readModel: ReadModel, gate: AppendGate, limits: RateLimits) =>
            new LedgerMetrics(store, readModel, gate, limits.counts),
        },
        { provide: METRICS_ACCESS, useValue: new MetricsAccess(config.METRICS_TOKEN) },
      ],
      // METRICS_ACCESS: GET /health shows its detail to the same scraper token.
      exports: [METRICS, METRICS_ACCESS],
    };
  }
}
