import { coveredCategories } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import { referralDecider, referralStream, type ReferralCommand, type ReferralState } from '@nrm/referral';
import { ruleBroken } from '@nrm/shared-kernel';
import { CaseRecords } from '../cases/case-records';
import { referralNotFound, type PartyCheck, type ReferralPartyCheck } from '../cases/case-parties';
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

  constructor(
    store: EventStore,
    partyCheck?: PartyCheck,
    /** Absent for the operator's console. */
    private readonly referralPartyCheck?: ReferralPartyCheck,
  ) {
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
    // The party check first, before anything of the case is read.
    await this.records.requireParty(caseId, context.actor);
    const result = await this.run(
      referralStream(referralId),
      context,
      async () => {
        await this.records.reportedCase(caseId);
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

  /**
   * The referral's party check first, before its stream (and an Idempotency-Key
   * in it) is read: an agency that neither made nor received the referral gets
   * the answer of a referral never made, whatever its state or addressee.
   */
  private async onReferral(
    referralId: string,
    context: CommandContext,
    build: () => ReferralCommand,
  ): Promise<CommandResult> {
    if (this.referralPartyCheck && context.actor) await this.referralPartyCheck(referralId, context.actor);
    return this.run(referralStream(referralId), context, (state: ReferralState) => {
      if (state.status === 'none') throw referralNotFound();
      return build();
    });
  }
}
