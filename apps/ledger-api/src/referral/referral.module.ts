import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { ReadModel } from '../cases/read-model';
import { casePartyCheck, referralPartyCheck } from '../cases/case-parties';
import { READ_MODEL } from '../projections/projections.module';
import { REFERRAL_COMMANDS, ReferralController } from './referral.controller';
import { ReferralCommands } from './referral-commands';

@Module({
  controllers: [ReferralController],
  providers: [
    {
      provide: REFERRAL_COMMANDS,
      inject: [EVENT_STORE, READ_MODEL],
      useFactory: (store: EventStore, readModel: ReadModel) =>
        new ReferralCommands(store, casePartyCheck(store, readModel), referralPartyCheck(store, readModel)),
    },
  ],
})
export class ReferralModule {}
