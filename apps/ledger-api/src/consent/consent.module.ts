import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { sealTextFor, type SubjectKeyStore } from '@nrm/privacy';
import { SUBJECT_KEYS } from '@nrm/runtime';
import type { ReadModel } from '../cases/read-model';
import { casePartyCheck } from '../cases/case-parties';
import { inContact } from '../cases/case-relations';
import { READ_MODEL } from '../projections/projections.module';
import { CONSENT_COMMANDS, ConsentController } from './consent.controller';
import { ConsentCommands } from './consent-commands';

@Module({
  controllers: [ConsentController],
  providers: [
    {
      provide: CONSENT_COMMANDS,
      inject: [EVENT_STORE, READ_MODEL, SUBJECT_KEYS],
      useFactory: (store: EventStore, readModel: ReadModel, keys: SubjectKeyStore) =>
        new ConsentCommands(
          store,
          casePartyCheck(store, readModel),
          (caseId, agencyId) => inContact(readModel, caseId, agencyId),
          (subjectId, text) => sealTextFor(keys, subjectId, text),
        ),
    },
  ],
})
export class ConsentModule {}
