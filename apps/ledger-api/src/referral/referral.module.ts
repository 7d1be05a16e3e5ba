import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { REFERRAL_COMMANDS, ReferralController } from './referral.controller';
import { ReferralCommands } from './referral-commands';

@Module({
  controllers: [ReferralController],
  providers: [
    {
      provide: REFERRAL_COMMANDS,
      inject: [EVENT_STORE],
      useFactory: (store: EventStore) => new ReferralCommands(store),
    },
  ],
})
export class ReferralModule {}
