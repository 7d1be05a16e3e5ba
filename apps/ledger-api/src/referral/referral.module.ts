import { Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { ReferralCommands } from '@nrm/referral';
import { CaseRecords } from '@nrm/runtime';
import type { ReadModel } from '@nrm/runtime';
import { casePartyCheck, referralPartyCheck } from '@nrm/runtime';
import { READ_MODEL } from '../projections/projections.module';
import { REFERRAL_COMMANDS, ReferralController } from './referral.controller';

@Module({
  controllers: [ReferralController],
  providers: [
    {
      provide: REFERRAL_COMMANDS,
      inject: [EVENT_STORE, READ_MODEL],
      useFactory: (store: EventStore, readModel: ReadModel) =>
        new ReferralCommands(store, new CaseRecords(store), {
          partyCheck: casePartyCheck(store, readModel),
          referralPartyCheck: referralPartyCheck(store, readModel),
        }),
    },
  ],
})
export class ReferralModule {}
