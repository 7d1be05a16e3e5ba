import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { SqliteProjector } from '@nrm/projections';
import { casePartyCheck } from '../cases/case-parties';
import { PROJECTOR } from '../projections/projections.module';
import { CONSENT_COMMANDS, ConsentController } from './consent.controller';
import { ConsentCommands } from './consent-commands';

@Module({
  controllers: [ConsentController],
  providers: [
    {
      provide: CONSENT_COMMANDS,
      inject: [EVENT_STORE, PROJECTOR],
      useFactory: (store: EventStore, projector: SqliteProjector) =>
        new ConsentCommands(store, casePartyCheck(store, projector)),
    },
  ],
})
export class ConsentModule {}
