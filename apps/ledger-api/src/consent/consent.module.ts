import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { CONSENT_COMMANDS, ConsentController } from './consent.controller';
import { ConsentCommands } from './consent-commands';

@Module({
  controllers: [ConsentController],
  providers: [
    {
      provide: CONSENT_COMMANDS,
      inject: [EVENT_STORE],
      useFactory: (store: EventStore) => new ConsentCommands(store),
    },
  ],
})
export class ConsentModule {}
