import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '@nrm/runtime';
import { RegistryService } from '../access/registry.service';
import { READ_MODEL } from '../projections/projections.module';
import { SUBJECT_KEYS } from '@nrm/runtime';
import type { SubjectKeyStore } from '@nrm/privacy';
import { AccessReports } from './access-reports';
import { BreakGlassReads } from './break-glass-reads';
import {
  ACCESS_REPORTS,
  AccessReportController,
  BREAK_GLASS_READS,
  BreakGlassController,
  OVERSIGHT_READS,
  OversightController,
} from './oversight.controller';
import { OversightReads } from './oversight-reads';

/**
 * The oversight body's views and reviews, break-glass reads and the subject
 * access report. Wiring only: the rules live in `authorization.ts` and the services.
 */
@Module({
  controllers: [OversightController, BreakGlassController, AccessReportController],
  providers: [
    {
      provide: OVERSIGHT_READS,
      inject: [EVENT_STORE, READ_MODEL, SUBJECT_KEYS],
      useFactory: (store: EventStore, readModel: ReadModel, keys: SubjectKeyStore) =>
        new OversightReads(store, readModel, keys),
    },
    {
      provide: BREAK_GLASS_READS,
      inject: [EVENT_STORE, READ_MODEL, SUBJECT_KEYS],
      useFactory: (store: EventStore, readModel: ReadModel, keys: SubjectKeyStore) =>
        new BreakGlassReads(store, readModel, keys),
    },
    {
      provide: ACCESS_REPORTS,
      inject: [EVENT_STORE, READ_MODEL, RegistryService, SUBJECT_KEYS],
      useFactory: (
        store: EventStore,
        readModel: ReadModel,
        registry: RegistryService,
        keys: SubjectKeyStore,
      ) =>
        new AccessReports(
          store,
          readModel,
          {
            refresh: () => registry.refresh(),
            names: (agencyId) => registry.view.agency(agencyId),
          },
          keys,
        ),
    },
  ],
})
export class OversightModule {}
