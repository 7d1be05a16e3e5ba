import { Module } from '@nestjs/common';
import { ConsentCommands } from '@nrm/consent';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { CaseRecords } from '@nrm/runtime';
import type { ReadModel } from '../cases/read-model';
import { casePartyCheck } from '../cases/case-parties';
import { inContact } from '../cases/case-relations';
import { READ_MODEL } from '../projections/projections.module';
import { CONSENT_COMMANDS, ConsentController } from './consent.controller';

@Module({
  controllers: [ConsentController],
  providers: [
    {
      provide: CONSENT_COMMANDS,
      inject: [EVENT_STORE, READ_MODEL],
      useFactory: (store: EventStore, readModel: ReadModel) =>
        new ConsentCommands(store, new CaseRecords(store), {
          partyCheck: casePartyCheck(store, readModel),
          contact: (caseId, agencyId) => inContact(readModel, caseId, agencyId),
        }),
    },
  ],
})
export class ConsentModule {}
