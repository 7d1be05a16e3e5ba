import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '../cases/read-model';
import { casePartyCheck } from '../cases/case-parties';
import { READ_MODEL } from '../projections/projections.module';
import { SUPPORT_COMMANDS, SupportController } from './support.controller';
import { SupportCommands } from './support-commands';

@Module({
  controllers: [SupportController],
  providers: [
    {
      provide: SUPPORT_COMMANDS,
      inject: [EVENT_STORE, READ_MODEL],
      useFactory: (store: EventStore, readModel: ReadModel) =>
        new SupportCommands(store, casePartyCheck(store, readModel)),
    },
  ],
})
export class SupportModule {}
