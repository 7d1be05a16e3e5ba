import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { SqliteProjector } from '@nrm/projections';
import { casePartyCheck } from '../cases/case-parties';
import { PROJECTOR } from '../projections/projections.module';
import { REFERRAL_COMMANDS, ReferralController } from './referral.controller';
import { ReferralCommands } from './referral-commands';

@Module({
  controllers: [ReferralController],
  providers: [
    {
      provide: REFERRAL_COMMANDS,
      inject: [EVENT_STORE, PROJECTOR],
      useFactory: (store: EventStore, projector: SqliteProjector) =>
        new ReferralCommands(store, casePartyCheck(store, projector)),
    },
  ],
})
export class ReferralModule {}
