import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { SubjectKeyStore } from '@nrm/privacy';
import { awaitReadModel, type ReadModel } from '../cases/read-model';
import type { LedgerConfig } from '../config/config';
import { READ_MODEL } from '../projections/projections.module';
import { ErasureCommands } from './erasure-commands';
import { ERASURE_COMMANDS, ErasureController } from './erasure.controller';
import { openSubjectKeys, SUBJECT_KEYS } from './subject-keys';

/** The subjects' key store (sealing identity data) and erasure by crypto-shredding. */
@Global()
@Module({})
export class PrivacyModule implements OnApplicationShutdown {
  constructor(@Inject(SUBJECT_KEYS) private readonly keys: SubjectKeyStore) {}

  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: PrivacyModule,
      controllers: [ErasureController],
      providers: [
        { provide: SUBJECT_KEYS, useFactory: () => openSubjectKeys(config) },
        {
          provide: ERASURE_COMMANDS,
          inject: [EVENT_STORE, SUBJECT_KEYS, READ_MODEL],
          useFactory: (store: EventStore, keys: SubjectKeyStore, readModel: ReadModel) =>
            new ErasureCommands(store, keys, async (subjectId) => {
              await awaitReadModel(store, readModel);
              const row = await readModel.store.get(
                'SELECT 1 AS known FROM case_docs WHERE subject_id = ? LIMIT 1',
                [subjectId],
              );
              return row !== undefined;
            }),
        },
      ],
      exports: [SUBJECT_KEYS],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.keys.close();
  }
}
