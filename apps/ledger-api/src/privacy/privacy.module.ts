import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { isKnownSubject } from '@nrm/projections';
import { ErasureCommands, finishErasures, type SubjectKeyStore } from '@nrm/privacy';
import { awaitReadModel, type ReadModel } from '@nrm/runtime';
import { type LedgerConfig, openSubjectKeys, SUBJECT_KEYS } from '@nrm/runtime';
import { READ_MODEL } from '../projections/projections.module';
import { ERASURE_COMMANDS, ErasureController } from './erasure.controller';

/** The subjects' key store (sealing identity data) and erasure by crypto-shredding. */
@Global()
@Module({})
export class PrivacyModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Privacy');

  constructor(
    @Inject(SUBJECT_KEYS) private readonly keys: SubjectKeyStore,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /** An erasure recorded but not carried out (the key store failed in between) is finished at start. */
  async onApplicationBootstrap(): Promise<void> {
    try {
      const finished = await finishErasures(this.store, this.keys);
      if (finished.length > 0)
        this.logger.warn({ subjects: finished.length }, 'unfinished erasures completed');
    } catch (error) {
      this.logger.error(
        { err: error instanceof Error ? error.message : String(error) },
        'could not check for unfinished erasures; they are finished at the next start',
      );
    }
  }

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
              return isKnownSubject(readModel.store, subjectId);
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
