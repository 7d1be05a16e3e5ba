import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { SqliteProjector } from '@nrm/projections';
import { casePartyCheck } from '../cases/case-parties';
import { PROJECTOR } from '../projections/projections.module';
import { SUPPORT_COMMANDS, SupportController } from './support.controller';
import { SupportCommands } from './support-commands';

@Module({
  controllers: [SupportController],
  providers: [
    {
      provide: SUPPORT_COMMANDS,
      inject: [EVENT_STORE, PROJECTOR],
      useFactory: (store: EventStore, projector: SqliteProjector) =>
        new SupportCommands(store, casePartyCheck(store, projector)),
    },
  ],
})
export class SupportModule {}
