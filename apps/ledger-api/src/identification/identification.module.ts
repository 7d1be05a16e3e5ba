import { Module, type DynamicModule } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { IdentificationCommands } from '@nrm/identification';
import { identitySealer, type SubjectKeyStore } from '@nrm/privacy';
import type { ReadModel } from '@nrm/runtime';
import { casePartyCheck, designatorCheck } from '@nrm/runtime';
import { isSeized } from '@nrm/runtime';
import { READ_MODEL } from '../projections/projections.module';
import { CaseRecords, type LedgerConfig, SUBJECT_KEYS } from '@nrm/runtime';
import { IDENTIFICATION_COMMANDS, IdentificationController } from './identification.controller';

@Module({})
export class IdentificationModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: IdentificationModule,
      controllers: [IdentificationController],
      providers: [
        {
          provide: IDENTIFICATION_COMMANDS,
          inject: [EVENT_STORE, READ_MODEL, SUBJECT_KEYS],
          useFactory: (store: EventStore, readModel: ReadModel, keys: SubjectKeyStore) =>
            new IdentificationCommands(
              store,
              { competentKinds: config.COMPETENT_AGENCY_KINDS },
              new CaseRecords(store),
              {
                partyCheck: casePartyCheck(store, readModel),
                seal: identitySealer(keys),
                seizedCheck: casePartyCheck(store, readModel, isSeized),
                designatorCheck: designatorCheck(store, readModel),
              },
            ),
        },
      ],
    };
  }
}
