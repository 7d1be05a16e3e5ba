import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { SUPPORT_COMMANDS, SupportController } from './support.controller';
import { SupportCommands } from './support-commands';

@Module({
  controllers: [SupportController],
  providers: [
    {
      provide: SUPPORT_COMMANDS,
      inject: [EVENT_STORE],
      useFactory: (store: EventStore) => new SupportCommands(store),
    },
  ],
})
export class SupportModule {}
