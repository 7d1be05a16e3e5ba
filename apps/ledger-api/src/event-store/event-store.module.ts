import { Inject, Logger, Module, type OnApplicationShutdown, type DynamicModule } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { openEventStore, type LedgerConfig } from '@nrm/runtime';
import { APPEND_GATE, AppendGate, gatedEventStore } from './append-gate';

const foreignLog = new Logger('EventStore');

/** Opens the configured event-store adapter and closes it when the app stops. */
@Module({})
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: EventStoreModule,
      global: true,
      providers: [
        { provide: APPEND_GATE, useFactory: () => new AppendGate() },
        {
          provide: EVENT_STORE,
          inject: [APPEND_GATE],
          useFactory: (gate: AppendGate): EventStore =>
            gatedEventStore(openEventStore(config, foreignLog), gate),
        },
      ],
      exports: [EVENT_STORE, APPEND_GATE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
