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
import { conflict } from '@nrm/shared-kernel';
import { RequestIds, type CommandContext, type CommandResult } from '@nrm/runtime/commands';
import { deciderRunner, metadataOf } from '@nrm/runtime/commands';
import {
  sealIdentity,
  SubjectErasedError,
  type IdentityData,
  type SealedIdentity,
  type SubjectKeyStore,
} from '@nrm/privacy';
import type {
  AssessIndicatorsDto,
  DesignateCompetentAuthorityDto,
  IdentityDto,
  ReportPotentialVictimDto,
} from './identification.dto';
import { caseNotFound, type PartyCheck } from '../cases/case-parties';
import { CaseRecords } from '@nrm/runtime';

/** Identification commands, shared by the HTTP API and the CLI's demo. */
export class IdentificationCommands {
  private readonly run;
  private readonly records: CaseRecords;

  constructor(
    store: EventStore,
    policy: IdentificationPolicy,
    /** Absent for the operator's console. */
    private readonly partyCheck?: PartyCheck,
    /** Seals identity data; without it, a report that carries identity data is refused. */
    private readonly keys?: SubjectKeyStore,
    /** Whether the acting authority is seized of the case; absent for the operator's console. */
    private readonly seizedCheck?: PartyCheck,
    /** Whether the actor may designate an authority for a case (the coordinator); absent for the console. */
    private readonly designatorCheck?: PartyCheck,
  ) {
    this.run = deciderRunner(store, identificationDecider(policy));
    this.records = new CaseRecords(store);
  }

  async report(
    input: ReportPotentialVictimDto,
    context: CommandContext,
  ): Promise<{ caseId: string; subjectId: string } & CommandResult> {
    const ids = new RequestIds(context);
    const caseId = ids.entity('case');
    const subjectId = ids.entity('subject');
    const { identity, ...codes } = input;
    const data = {
      caseId,
      subjectId,
      ...codes,
      ...(identity ? { identity: await this.seal(subjectId, identity) } : {}),
    };
    const result = await this.run(
      identificationStream(caseId),
      context,
      () => ({ type: 'ReportPotentialVictim', data, metadata: metadataOf(context) }),
      ids,
    );
    return { caseId, subjectId, ...result };
  }

  private async seal(subjectId: string, identity: IdentityDto): Promise<SealedIdentity> {
    if (!this.keys) throw new Error('identity data needs the key store');
    const plain: IdentityData = {
      ...(identity.fullName !== undefined ? { fullName: identity.fullName } : {}),
      ...(identity.birthDate !== undefined ? { birthDate: identity.birthDate } : {}),
      ...(identity.nationality !== undefined ? { nationality: identity.nationality } : {}),
      ...(identity.contact !== undefined ? { contact: identity.contact } : {}),
      ...(identity.notes !== undefined ? { notes: identity.notes } : {}),
    };
    try {
      return sealIdentity(await this.keys.keyFor(subjectId), subjectId, plain);
    } catch (error) {
      // A retry, after the erasure, of the report that created this subject: nothing is recorded again.
      if (error instanceof SubjectErasedError)
        throw conflict(
          'SUBJECT.ERASED',
          'This person has been erased: no identity data can be recorded for them.',
        );
      throw error;
    }
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
   * The national coordinator designates a competent authority for a case. Anyone else gets the
   * answer of an unknown case before anything about the case is read (the designator check runs
   * first, as the party check of other commands does). The registry's record of the authority, and
   * the coordinator's own country, are read fresh from their streams on every attempt.
   */
  async designate(
    caseId: string,
    input: DesignateCompetentAuthorityDto,
    context: CommandContext,
  ): Promise<{ caseId: string; authorityId: string } & CommandResult> {
    const actor = context.actor;
    if (actor && this.designatorCheck) await this.designatorCheck(caseId, actor);
    const result = await this.run(
      identificationStream(caseId),
      context,
      async (state: IdentificationState) => {
        if (state.status === 'none') throw caseNotFound();
        const own = actor ? await this.records.agency(actor.agencyId) : undefined;
        return {
          type: 'DesignateCompetentAuthority',
          data: {
            caseId,
            authorityId: input.authorityId,
            ...(input.reason !== undefined ? { reason: input.reason } : {}),
            authority: await this.records.agency(input.authorityId),
            // No record of its own agency: no country matches, and every designation is refused.
            ownCountry: own?.country ?? '',
          },
          metadata: metadataOf(context),
        };
      },
    );
    return { caseId, authorityId: input.authorityId, ...result };
  }

  /**
   * Commands on an existing case: a case nobody reported is a 404, not a rule
   * violation. Assessing needs the agency to be party to the case. Deciding grounds
   * (and reconsidering) is for a competent authority (the decider checks its kind and
   * role) seized of the case: the case was referred to it, the national coordinator
   * designated it, or it reported it. Any other
   * agency gets the non-party answer, so that posting a decision never makes an agency
   * party to a case it had no part in, nor tells it the case exists.
   */
  private async onCase(
    caseId: string,
    context: CommandContext,
    command: IdentificationCommand,
  ): Promise<CommandResult> {
    const actor = context.actor;
    const check = command.type === 'AssessIndicators' ? this.partyCheck : this.seizedCheck;
    if (actor && check) await check(caseId, actor);
    return this.run(identificationStream(caseId), context, (state: IdentificationState) => {
      if (state.status === 'none') throw caseNotFound();
      return command;
    });
  }
}
