import { coveredCategories } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import { referralDecider, referralStream, type ReferralCommand, type ReferralState } from '@nrm/referral';
import { notFound, ruleBroken } from '@nrm/shared-kernel';
import { CaseRecords } from '../cases/case-records';
import type { PartyCheck } from '../cases/case-parties';
import { RequestIds, type CommandContext, type CommandResult } from '../commands/command-executor';
import { deciderRunner, metadataOf } from '../commands/decider-runner';
import type { DeclineReferralDto, MakeReferralDto, WithdrawReferralDto } from './referral.dto';

type ReferralTransition = Exclude<
  ReferralCommand['type'],
  'MakeReferral' | 'DeclineReferral' | 'WithdrawReferral'
>;

/** Referral commands, shared by the HTTP API and the CLI's demo. */
export class ReferralCommands {
  private readonly run;
  private readonly records: CaseRecords;

  constructor(store: EventStore, partyCheck?: PartyCheck) {
    this.run = deciderRunner(store, referralDecider);
    this.records = new CaseRecords(store, partyCheck);
  }

  /**
   * What consent covers is read from the consent stream at its latest revision
   * when the referral is decided (and again on a retry), never from a read model.
   */
  async make(
    caseId: string,
    input: MakeReferralDto,
    context: CommandContext,
  ): Promise<{ referralId: string; caseId: string } & CommandResult> {
    const ids = new RequestIds(context);
    const referralId = ids.entity('referral');
    const result = await this.run(
      referralStream(referralId),
      context,
      async () => {
        await this.records.reportedCase(caseId, context.actor);
        const toAgencyKind = await this.records.agencyKind(input.toAgencyId);
        if (!toAgencyKind)
          throw ruleBroken(
            'AGENCY.UNKNOWN',
            `No agency is registered with id "${input.toAgencyId}".`,
            'toAgencyId',
          );
        const coverage = coveredCategories(await this.records.consent(caseId), {
          agencyId: input.toAgencyId,
          purpose: input.purpose,
          at: context.now,
        });
        return {
          type: 'MakeReferral',
          data: {
            referralId,
            caseId,
            toAgencyId: input.toAgencyId,
            toAgencyKind,
            purpose: input.purpose,
            servicesRequested: input.servicesRequested,
            urgency: input.urgency,
            respondBy: input.respondBy,
            sharedCategories: input.sharedCategories,
            coverage,
          },
          metadata: metadataOf(context),
        };
      },
      ids,
    );
    return { referralId, caseId, ...result };
  }

  transition(referralId: string, type: ReferralTransition, context: CommandContext): Promise<CommandResult> {
    return this.onReferral(referralId, context, () => ({
      type,
      data: { referralId },
      metadata: metadataOf(context),
    }));
  }

  decline(referralId: string, input: DeclineReferralDto, context: CommandContext): Promise<CommandResult> {
    return this.onReferral(referralId, context, () => ({
      type: 'DeclineReferral',
      data: { referralId, reason: input.reason },
      metadata: metadataOf(context),
    }));
  }

  withdraw(referralId: string, input: WithdrawReferralDto, context: CommandContext): Promise<CommandResult> {
    return this.onReferral(referralId, context, () => ({
      type: 'WithdrawReferral',
      data: { referralId, reason: input.reason },
      metadata: metadataOf(context),
    }));
  }

  private onReferral(
    referralId: string,
    context: CommandContext,
    build: () => ReferralCommand,
  ): Promise<CommandResult> {
    return this.run(referralStream(referralId), context, (state: ReferralState) => {
      if (state.status === 'none')
        throw notFound('REFERRAL.NOT_FOUND', 'No referral has been made with this id.', 'referralId');
      return build();
    });
  }
}
