import type { EventStore } from '@nrm/event-store';
import {
  identificationDecider,
  identificationStream,
  type GroundsOutcome,
  type IdentificationCommand,
  type IdentificationPolicy,
  type IdentificationState,
  type ReconsiderationReason,
} from '@nrm/identification';
import { notFound } from '@nrm/shared-kernel';
import { RequestIds, type CommandContext, type CommandResult } from '../commands/command-executor';
import { deciderRunner, metadataOf } from '../commands/decider-runner';
import type { AssessIndicatorsDto, ReportPotentialVictimDto } from './identification.dto';
import type { PartyCheck } from '../cases/case-parties';

/** Identification commands, shared by the HTTP API and the CLI's demo. */
export class IdentificationCommands {
  private readonly run;

  constructor(
    store: EventStore,
    policy: IdentificationPolicy,
    /** Absent for the operator's console. */
    private readonly partyCheck?: PartyCheck,
  ) {
    this.run = deciderRunner(store, identificationDecider(policy));
  }

  async report(
    input: ReportPotentialVictimDto,
    context: CommandContext,
  ): Promise<{ caseId: string; subjectId: string } & CommandResult> {
    const ids = new RequestIds(context);
    const caseId = ids.entity('case');
    const subjectId = ids.entity('subject');
    const data = { caseId, subjectId, ...input };
    const result = await this.run(
      identificationStream(caseId),
      context,
      () => ({ type: 'ReportPotentialVictim', data, metadata: metadataOf(context) }),
      ids,
    );
    return { caseId, subjectId, ...result };
  }

  assessIndicators(caseId: string, input: AssessIndicatorsDto, context: CommandContext) {
    return this.onCase(caseId, context, {
      type: 'AssessIndicators',
      data: { caseId, ...input },
      metadata: metadataOf(context),
    });
  }

  decideReasonableGrounds(caseId: string, outcome: GroundsOutcome, context: CommandContext) {
    return this.onCase(caseId, context, {
      type: 'DecideReasonableGrounds',
      data: { caseId, outcome },
      metadata: metadataOf(context),
    });
  }

  decideConclusiveGrounds(caseId: string, outcome: GroundsOutcome, context: CommandContext) {
    return this.onCase(caseId, context, {
      type: 'DecideConclusiveGrounds',
      data: { caseId, outcome },
      metadata: metadataOf(context),
    });
  }

  reconsider(caseId: string, reason: ReconsiderationReason, context: CommandContext) {
    return this.onCase(caseId, context, {
      type: 'ReconsiderIdentification',
      data: { caseId, reason },
      metadata: metadataOf(context),
    });
  }

  /**
   * Commands on an existing case: a case nobody reported is a 404, not a rule
   * violation. Assessing needs the agency to be party to the case; deciding grounds
   * is for the competent authorities of the whole mechanism (the decider checks
   * their kind and role), which may meet a case first when asked to decide.
   */
  private onCase(
    caseId: string,
    context: CommandContext,
    command: IdentificationCommand,
  ): Promise<CommandResult> {
    return this.run(identificationStream(caseId), context, async (state: IdentificationState) => {
      if (state.status === 'none')
        throw notFound('CASE.NOT_FOUND', 'No case has been reported with this id.', 'caseId');
      if (command.type === 'AssessIndicators' && this.partyCheck && context.actor)
        await this.partyCheck(caseId, context.actor);
      return command;
    });
  }
}
