import { Module } from '@nestjs/common';
import { ConsentCommands } from '@nrm/consent';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { sealTextFor, type SubjectKeyStore } from '@nrm/privacy';
import { CaseRecords, SUBJECT_KEYS } from '@nrm/runtime';
import type { ReadModel } from '@nrm/runtime';
import { casePartyCheck } from '@nrm/runtime';
import { inContact } from '@nrm/runtime';
import { READ_MODEL } from '../projections/projections.module';
import { CONSENT_COMMANDS, ConsentController } from './consent.controller';

@Module({
  controllers: [ConsentController],
  providers: [
    {
      provide: CONSENT_COMMANDS,
      inject: [EVENT_STORE, READ_MODEL, SUBJECT_KEYS],
      useFactory: (store: EventStore, readModel: ReadModel, keys: SubjectKeyStore) =>
        new ConsentCommands(store, new CaseRecords(store), {
          partyCheck: casePartyCheck(store, readModel),
          contact: (caseId, agencyId) => inContact(readModel, caseId, agencyId),
          sealText: (subjectId, text) => sealTextFor(keys, subjectId, text),
        }),
    },
  ],
})
export class ConsentModule {}
