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
import { ruleBroken, type AgencyKind, type Purpose } from '@nrm/shared-kernel';
import type {
  CategoryCoverage,
  DeclineReferral,
  MakeReferral,
  ReferralCommand,
  WithdrawReferral,
} from '../commands';
import { referralDecider, referralNotFound } from '../decider';
import type { ReferralEvent } from '../events';
import type { ReferralState } from '../state';
import { referralStream } from '../streams';

/**
 * What a referral decision needs to know of other contexts' records, read from their streams at
 * their latest revision (never from a read model). The runtime's `CaseRecords` implements it.
 */
export interface ReferralRecords {
  /** The reported case; throws `caseNotFound()` when no case was reported with this id. */
  reportedCase(caseId: string): Promise<{ readonly minor: boolean }>;
  /** The registered kind of an agency; undefined when none is registered with this id. */
  agencyKind(agencyId: string): Promise<AgencyKind | undefined>;
  /** What the case's consents and lawful bases cover for this agency and purpose at `at`. */
  coverage(
    caseId: string,
    query: { readonly agencyId: string; readonly purpose: Purpose; readonly at: string },
  ): Promise<readonly CategoryCoverage[]>;
}

/** What is asked of a new referral: the command without what the handler makes or reads itself. */
export type MakeReferralRequest = Omit<MakeReferral['data'], 'referralId' | 'toAgencyKind' | 'coverage'>;
export type DeclineReferralRequest = DeclineReferral['data'];
export type WithdrawReferralRequest = WithdrawReferral['data'];

/** The transitions that carry nothing but the referral id. */
export type ReferralTransition = Exclude<
  ReferralCommand['type'],
  'MakeReferral' | 'DeclineReferral' | 'WithdrawReferral'
>;

/**
 * Everything a new referral is decided against, read once per command (not again on a retry: a
 * conflict can only be on the referral's own stream, which the executor reads again).
 */
export interface MakeReferralContext {
  /** The reported case (a case nobody reported answers `CASE.NOT_FOUND`). */
  readonly reported: { readonly minor: boolean };
  /** The registry's kind of the receiving agency. */
  readonly toAgencyKind: AgencyKind;
  /** What covers the receiving agency for the purpose now, category by category. */
  readonly coverage: readonly CategoryCoverage[];
}

export interface ReferralCommandsOptions {
  /** Whether the actor may know of the case (before anything of it is read); absent for the console. */
  readonly partyCheck?: PartyCheck;
  /** Whether the actor may know of the referral (sender, receiver, coordinator); absent for the console. */
  readonly referralPartyCheck?: PartyCheck;
}

/** The one answer for a referral that does not exist and for a referral the agency has no part in (the decider's). */
export { referralNotFound };

/**
 * Referral commands, shared by the HTTP API and the CLI. Each takes a domain request and the
 * command context, and goes through the same explicit steps:
 *
 * 1. the party check, before anything of the case or referral is read;
 * 2. the context the decision needs (`MakeReferralContext`), read once, and only when the
 *    decision is made (a replayed Idempotency-Key reads none of it);
 * 3. `referralDecider.decide` against the referral's folded state and that context; the executor
 *    appends with the exact expected revision and, on a conflict, reads the referral's stream again
 *    (and nothing else) and decides again.
 *
 * It returns what was recorded and throws only `DomainError`s (and the executor's
 * `IdempotencyKeyReused` / `CommandConflict`); the API maps them to problems.
 */
export class ReferralCommands {
  private readonly executor: CommandExecutor;

  constructor(
    store: EventStore,
    private readonly records: ReferralRecords,
    private readonly options: ReferralCommandsOptions = {},
  ) {
    this.executor = new CommandExecutor(store);
  }

  async make(
    request: MakeReferralRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ referralId: string; caseId: string } & CommandResult> {
    const { caseId } = request;
    const ids = new RequestIds(context, options.idempotency);
    const referralId = ids.entity('referral');
    // 1. The party check first, before anything of the case is read.
    const actor = context.actor;
    if (actor && this.options.partyCheck) await this.options.partyCheck(caseId, actor);
    // 2. The context, read once, when first needed.
    const facts = once(() => this.makeContext(request, context.now));
    // 3. Decide against the referral's state and the context.
    const result = await this.run(
      referralId,
      context,
      async () => makeCommand(referralId, request, await facts(), context),
      { ids, newStream: true },
    );
    return { referralId, caseId, ...result };
  }

  /** Reads what a new referral is decided against: the case, the receiver's kind, the coverage. */
  async makeContext(request: MakeReferralRequest, now: string): Promise<MakeReferralContext> {
    const reported = await this.records.reportedCase(request.caseId);
    const toAgencyKind = await this.records.agencyKind(request.toAgencyId);
    if (!toAgencyKind)
      throw ruleBroken(
        'AGENCY.UNKNOWN',
        `No agency is registered with id "${request.toAgencyId}".`,
        'toAgencyId',
      );
    const coverage = await this.records.coverage(request.caseId, {
      agencyId: request.toAgencyId,
      purpose: request.purpose,
      at: now,
    });
    return { reported, toAgencyKind, coverage };
  }

  transition(
    referralId: string,
    type: ReferralTransition,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    return this.onReferral(referralId, context, options, () => ({
      type,
      data: { referralId },
      metadata: metadataOf(context),
    }));
  }

  decline(
    request: DeclineReferralRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    return this.onReferral(request.referralId, context, options, () => ({
      type: 'DeclineReferral',
      data: { referralId: request.referralId, reason: request.reason },
      metadata: metadataOf(context),
    }));
  }

  withdraw(
    request: WithdrawReferralRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    return this.onReferral(request.referralId, context, options, () => ({
      type: 'WithdrawReferral',
      data: { referralId: request.referralId, reason: request.reason },
      metadata: metadataOf(context),
    }));
  }

  /**
   * The referral's party check first, before its stream (and an Idempotency-Key in it) is read:
   * an agency that neither made nor received the referral gets the answer of a referral never
   * made, whatever its state or addressee. A referral never made answers the same.
   */
  private async onReferral(
    referralId: string,
    context: CommandContext,
    options: CommandOptions,
    command: () => ReferralCommand,
  ): Promise<CommandResult> {
    const actor = context.actor;
    if (actor && this.options.referralPartyCheck) await this.options.referralPartyCheck(referralId, actor);
    return this.run(
      referralId,
      context,
      (state) => {
        if (state.status === 'none') throw referralNotFound();
        return command();
      },
      { ids: new RequestIds(context, options.idempotency) },
    );
  }

  private run(
    referralId: string,
    context: CommandContext,
    command: (state: ReferralState) => ReferralCommand | Promise<ReferralCommand>,
    options: { readonly ids: RequestIds; readonly newStream?: boolean },
  ): Promise<CommandResult> {
    return this.executor.execute<ReferralEvent, ReferralState>({
      stream: referralStream(referralId),
      evolve: (state, event) => referralDecider.evolve(state, event),
      initialState: () => referralDecider.initialState(),
      decide: async (state) => referralDecider.decide(await command(state), state),
      context,
      ids: options.ids,
      ...(options.newStream ? { newStream: true } : {}),
    });
  }
}

/** The domain command for a new referral, from the request and the context read for it. */
export function makeCommand(
  referralId: string,
  request: MakeReferralRequest,
  facts: MakeReferralContext,
  context: CommandContext,
): MakeReferral {
  return {
    type: 'MakeReferral',
    data: {
      referralId,
      caseId: request.caseId,
      toAgencyId: request.toAgencyId,
      toAgencyKind: facts.toAgencyKind,
      purpose: request.purpose,
      servicesRequested: request.servicesRequested,
      urgency: request.urgency,
      respondBy: request.respondBy,
      sharedCategories: request.sharedCategories,
      coverage: facts.coverage,
    },
    metadata: metadataOf(context),
  };
}
