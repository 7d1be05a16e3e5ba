import { Module, type DynamicModule } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '../cases/read-model';
import { casePartyCheck, designatorCheck } from '../cases/case-parties';
import { isSeized } from '../cases/case-relations';
import { READ_MODEL } from '../projections/projections.module';
import { type LedgerConfig, SUBJECT_KEYS } from '@nrm/runtime';
import { IDENTIFICATION_COMMANDS, IdentificationController } from './identification.controller';
import { IdentificationCommands } from './identification-commands';
import type { SubjectKeyStore } from '@nrm/privacy';

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
              casePartyCheck(store, readModel),
              keys,
              casePartyCheck(store, readModel, isSeized),
              designatorCheck(store, readModel),
            ),
        },
      ],
    };
  }
}
