import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { CaseRecords } from '@nrm/runtime';
import { SupportCommands } from '@nrm/support';
import type { ReadModel } from '@nrm/runtime';
import { casePartyCheck } from '@nrm/runtime';
import { READ_MODEL } from '../projections/projections.module';
import { SUPPORT_COMMANDS, SupportController } from './support.controller';

@Module({
  controllers: [SupportController],
  providers: [
    {
      provide: SUPPORT_COMMANDS,
      inject: [EVENT_STORE, READ_MODEL],
      useFactory: (store: EventStore, readModel: ReadModel) =>
        new SupportCommands(store, new CaseRecords(store), { partyCheck: casePartyCheck(store, readModel) }),
    },
  ],
})
export class SupportModule {}
