import {
  CommandExecutor,
  RequestIds,
  metadataOf,
  once,
  type CommandContext,
  type CommandOptions,
  type CommandResult,
  type EventStore,
  type PartyCheck,
} from '@nrm/runtime/commands';
import { caseNotFound, type IdentityData, type SealedIdentity } from '@nrm/shared-kernel';
import type {
  AssessIndicators,
  DecideConclusiveGrounds,
  DecideReasonableGrounds,
  DesignateCompetentAuthority,
  IdentificationCommand,
  RegisteredAgency,
  ReconsiderIdentification,
  ReportPotentialVictim,
} from '../commands';
import { identificationDecider, type IdentificationDecider, type IdentificationPolicy } from '../decider';
import type { IdentificationEvent } from '../events';
import type { IdentificationState } from '../state';
import { identificationStream } from '../streams';

/** What a designation needs to know of the registry, read from the agency's stream. The runtime's `CaseRecords` implements it. */
export interface IdentificationRecords {
  /** What the registry holds of an agency; undefined when none is registered with this id. */
  agency(agencyId: string): Promise<RegisteredAgency | undefined>;
}

/** Seals identity data under the subject's key (libs/privacy: `identitySealer`); throws a `DomainError` for an erased subject. */
export type IdentitySealer = (subjectId: string, identity: IdentityData) => Promise<SealedIdentity>;

/** What is asked: each command without what the handler makes or reads itself. */
export type ReportPotentialVictimRequest = Omit<
  ReportPotentialVictim['data'],
  'caseId' | 'subjectId' | 'identity'
> & { readonly identity?: IdentityData };
export type AssessIndicatorsRequest = AssessIndicators['data'];
export type GroundsDecisionRequest = DecideReasonableGrounds['data'] & DecideConclusiveGrounds['data'];
export type ReconsiderIdentificationRequest = ReconsiderIdentification['data'];
export type DesignateCompetentAuthorityRequest = Omit<
  DesignateCompetentAuthority['data'],
  'authority' | 'ownCountry'
>;

export interface IdentificationCommandsOptions {
  /** Whether the actor may know of the case (assessing); absent for the console. */
  readonly partyCheck?: PartyCheck;
  /** Seals identity data; without it, a report that carries identity data is refused. */
  readonly seal?: IdentitySealer;
  /** Whether the acting authority is seized of the case (deciding grounds); absent for the console. */
  readonly seizedCheck?: PartyCheck;
  /** Whether the actor may designate an authority for a case (the coordinator); absent for the console. */
  readonly designatorCheck?: PartyCheck;
}

/**
 * Identification commands, shared by the HTTP API and the CLI. Each takes a domain request and
 * the command context; the checks of who may know of the case run before its stream is read, and
 * refusals are `DomainError`s.
 */
export class IdentificationCommands {
  private readonly executor: CommandExecutor;
  private readonly decider: IdentificationDecider;

  constructor(
    store: EventStore,
    policy: IdentificationPolicy,
    private readonly records: IdentificationRecords,
    private readonly options: IdentificationCommandsOptions = {},
  ) {
    this.executor = new CommandExecutor(store);
    this.decider = identificationDecider(policy);
  }

  async report(
    request: ReportPotentialVictimRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ caseId: string; subjectId: string } & CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    const caseId = ids.entity('case');
    const subjectId = ids.entity('subject');
    const { identity, ...codes } = request;
    const data = {
      caseId,
      subjectId,
      ...codes,
      ...(identity ? { identity: await this.seal(subjectId, identity) } : {}),
    };
    const result = await this.run(
      caseId,
      context,
      ids,
      () => ({ type: 'ReportPotentialVictim', data, metadata: metadataOf(context) }),
      true,
    );
    return { caseId, subjectId, ...result };
  }

  private async seal(subjectId: string, identity: IdentityData): Promise<SealedIdentity> {
    if (!this.options.seal) throw new Error('identity data needs the key store');
    const plain: IdentityData = {
      ...(identity.fullName !== undefined ? { fullName: identity.fullName } : {}),
      ...(identity.birthDate !== undefined ? { birthDate: identity.birthDate } : {}),
      ...(identity.nationality !== undefined ? { nationality: identity.nationality } : {}),
      ...(identity.contact !== undefined ? { contact: identity.contact } : {}),
      ...(identity.notes !== undefined ? { notes: identity.notes } : {}),
    };
    return this.options.seal(subjectId, plain);
  }

  assessIndicators(request: AssessIndicatorsRequest, context: CommandContext, options: CommandOptions = {}) {
    return this.onCase(context, options, {
      type: 'AssessIndicators',
      data: request,
      metadata: metadataOf(context),
    });
  }

  decideReasonableGrounds(
    request: GroundsDecisionRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ) {
    const { caseId, outcome } = request;
    return this.onCase(context, options, {
      type: 'DecideReasonableGrounds',
      data: { caseId, outcome },
      metadata: metadataOf(context),
    });
  }

  decideConclusiveGrounds(
    request: GroundsDecisionRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ) {
    const { caseId, outcome } = request;
    return this.onCase(context, options, {
      type: 'DecideConclusiveGrounds',
      data: { caseId, outcome },
      metadata: metadataOf(context),
    });
  }

  reconsider(
    request: ReconsiderIdentificationRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ) {
    const { caseId, reason } = request;
    return this.onCase(context, options, {
      type: 'ReconsiderIdentification',
      data: { caseId, reason },
      metadata: metadataOf(context),
    });
  }

  /**
   * The national coordinator designates a competent authority for a case. Anyone else gets the
   * answer of an unknown case before anything about the case is read (the designator check runs
   * first, as the party check of other commands does). The registry's record of the authority, and
   * the coordinator's own country, are read once from their streams, when the case is found.
   */
  async designate(
    request: DesignateCompetentAuthorityRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ caseId: string; authorityId: string } & CommandResult> {
    const { caseId, authorityId, reason } = request;
    const actor = context.actor;
    if (actor && this.options.designatorCheck) await this.options.designatorCheck(caseId, actor);
    const facts = once(async () => {
      const own = actor ? await this.records.agency(actor.agencyId) : undefined;
      return { own, authority: await this.records.agency(authorityId) };
    });
    const ids = new RequestIds(context, options.idempotency);
    const result = await this.run(caseId, context, ids, async (state) => {
      if (state.status === 'none') throw caseNotFound();
      const { own, authority } = await facts();
      return {
        type: 'DesignateCompetentAuthority',
        data: {
          caseId,
          authorityId,
          ...(reason !== undefined ? { reason } : {}),
          authority,
          // No record of its own agency: no country matches, and every designation is refused.
          ownCountry: own?.country ?? '',
        },
        metadata: metadataOf(context),
      };
    });
    return { caseId, authorityId, ...result };
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
    context: CommandContext,
    options: CommandOptions,
    command: IdentificationCommand,
  ): Promise<CommandResult> {
    const actor = context.actor;
    const check = command.type === 'AssessIndicators' ? this.options.partyCheck : this.options.seizedCheck;
    if (actor && check) await check(command.data.caseId, actor);
    const ids = new RequestIds(context, options.idempotency);
    return this.run(command.data.caseId, context, ids, (state) => {
      if (state.status === 'none') throw caseNotFound();
      return command;
    });
  }

  private run(
    caseId: string,
    context: CommandContext,
    ids: RequestIds,
    command: (state: IdentificationState) => IdentificationCommand | Promise<IdentificationCommand>,
    /** The stream is named after an id this request made up (see `CommandSpec.newStream`). */
    newStream = false,
  ): Promise<CommandResult> {
    return this.executor.execute<IdentificationEvent, IdentificationState>({
      stream: identificationStream(caseId),
      evolve: (state, event) => this.decider.evolve(state, event),
      initialState: () => this.decider.initialState(),
      decide: async (state) => this.decider.decide(await command(state), state),
      context,
      ids,
      ...(newStream ? { newStream: true } : {}),
    });
  }
}
