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
import type { SupportCommand } from '../commands';
import { supportDecider } from '../decider';
import type { SupportEvent } from '../events';
import type { SupportState } from '../state';
import { supportStream } from '../streams';

/**
 * What a support decision needs to know of the identification record, read from its stream at its
 * latest revision. The runtime's `CaseRecords` implements it.
 */
export interface SupportRecords {
  /** The reported case; throws `caseNotFound()` when no case was reported with this id. */
  reportedCase(caseId: string): Promise<unknown>;
  /** As `reportedCase`, with whether a positive reasonable-grounds decision stands and when it was decided. */
  supportEntitlement(
    caseId: string,
  ): Promise<{ readonly reasonableGroundsPositive: boolean; readonly decidedAt?: string }>;
}

type Data<T extends SupportCommand['type']> = Extract<SupportCommand, { type: T }>['data'];

/** What is asked: each command without what the handler makes or reads itself. */
export type StartReflectionPeriodRequest = Omit<
  Data<'StartReflectionPeriod'>,
  'reasonableGroundsPositive' | 'entitledSince'
>;
export type ExtendReflectionPeriodRequest = Data<'ExtendReflectionPeriod'>;
export type EndReflectionPeriodRequest = Data<'EndReflectionPeriod'>;
export type AgreeSupportPlanRequest = Omit<Data<'AgreeSupportPlan'>, 'planId'>;
export type RecordServiceProvidedRequest = Data<'RecordServiceProvided'>;
export type CloseSupportCaseRequest = Data<'CloseSupportCase'>;

export interface SupportCommandsOptions {
  /** Whether the actor may know of the case (before anything of it is read); absent for the console. */
  readonly partyCheck?: PartyCheck;
}

/**
 * Support commands, shared by the HTTP API and the CLI. None depends on cooperation with an
 * investigation. Each runs the party check, then decides against the support stream's state and
 * the identification record read once (a retry reads only the support stream again).
 */
export class SupportCommands {
  private readonly executor: CommandExecutor;

  constructor(
    store: EventStore,
    private readonly records: SupportRecords,
    private readonly options: SupportCommandsOptions = {},
  ) {
    this.executor = new CommandExecutor(store);
  }

  startReflectionPeriod(
    request: StartReflectionPeriodRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ) {
    const { caseId, startsOn, days } = request;
    // Entitlement, and the day it began, come from the identification record at its latest revision.
    return this.onCase(
      caseId,
      'StartReflectionPeriod',
      context,
      new RequestIds(context, options.idempotency),
      async () => {
        const entitlement = await this.records.supportEntitlement(caseId);
        return {
          startsOn,
          days,
          reasonableGroundsPositive: entitlement.reasonableGroundsPositive,
          ...(entitlement.decidedAt !== undefined
            ? { entitledSince: entitlement.decidedAt.slice(0, 10) }
            : {}),
        };
      },
    );
  }

  extendReflectionPeriod(
    request: ExtendReflectionPeriodRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ) {
    return this.onCase(
      request.caseId,
      'ExtendReflectionPeriod',
      context,
      new RequestIds(context, options.idempotency),
      async () => ({
        additionalDays: request.additionalDays,
      }),
    );
  }

  endReflectionPeriod(
    request: EndReflectionPeriodRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ) {
    return this.onCase(
      request.caseId,
      'EndReflectionPeriod',
      context,
      new RequestIds(context, options.idempotency),
      async () => ({
        reason: request.reason,
      }),
    );
  }

  async agreePlan(
    request: AgreeSupportPlanRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ planId: string } & CommandResult> {
    const ids = new RequestIds(context, options.idempotency);
    const planId = ids.entity('plan');
    const result = await this.onCase(request.caseId, 'AgreeSupportPlan', context, ids, async () => ({
      planId,
      services: request.services,
      reviewOn: request.reviewOn,
    }));
    return { planId, ...result };
  }

  recordService(
    request: RecordServiceProvidedRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ) {
    return this.onCase(
      request.caseId,
      'RecordServiceProvided',
      context,
      new RequestIds(context, options.idempotency),
      async () => ({
        serviceType: request.serviceType,
        providedOn: request.providedOn,
      }),
    );
  }

  close(request: CloseSupportCaseRequest, context: CommandContext, options: CommandOptions = {}) {
    return this.onCase(
      request.caseId,
      'CloseSupportCase',
      context,
      new RequestIds(context, options.idempotency),
      async () => ({
        outcome: request.outcome,
      }),
    );
  }

  /**
   * The party check first, before the support stream (and an Idempotency-Key in it) is read; then
   * the command's context (`read`: the reported case, or more), once; then the decision.
   */
  private async onCase<T extends SupportCommand['type']>(
    caseId: string,
    type: T,
    context: CommandContext,
    ids: RequestIds,
    read: () => Promise<Omit<Data<T>, 'caseId'>>,
  ): Promise<CommandResult> {
    const actor = context.actor;
    if (actor && this.options.partyCheck) await this.options.partyCheck(caseId, actor);
    const facts = once(async () => {
      // A command on a case nobody reported is a 404; the start of a reflection period reads the
      // identification record once for both (its entitlement read answers the 404 too).
      if (type !== 'StartReflectionPeriod') await this.records.reportedCase(caseId);
      return read();
    });
    return this.executor.execute<SupportEvent, SupportState>({
      stream: supportStream(caseId),
      evolve: (state, event) => supportDecider.evolve(state, event),
      initialState: () => supportDecider.initialState(),
      decide: async (state) =>
        supportDecider.decide(
          {
            type,
            data: { caseId, ...(await facts()) },
            metadata: metadataOf(context),
          } as unknown as SupportCommand,
          state,
        ),
      context,
      ids,
    });
  }
}
