import type { EventStore } from '@nrm/event-store';
import { reasonableGroundsPositive } from '@nrm/identification';
import { supportDecider, supportStream, type SupportCommand } from '@nrm/support';
import { CaseRecords } from '@nrm/runtime';
import type { PartyCheck } from '../cases/case-parties';
import { RequestIds, type CommandContext, type CommandResult } from '@nrm/runtime/commands';
import { deciderRunner, metadataOf } from '@nrm/runtime/commands';
import type {
  AgreeSupportPlanDto,
  CloseSupportCaseDto,
  EndReflectionPeriodDto,
  ExtendReflectionPeriodDto,
  RecordServiceProvidedDto,
  StartReflectionPeriodDto,
} from './support.dto';

type Data<T extends SupportCommand['type']> = Omit<Extract<SupportCommand, { type: T }>['data'], 'caseId'>;

/** Support commands, shared by the HTTP API and the CLI's demo. None depends on cooperation with an investigation. */
export class SupportCommands {
  private readonly run;
  private readonly records: CaseRecords;

  constructor(
    store: EventStore,
    private readonly partyCheck?: PartyCheck,
  ) {
    this.run = deciderRunner(store, supportDecider);
    this.records = new CaseRecords(store);
  }

  startReflectionPeriod(caseId: string, input: StartReflectionPeriodDto, context: CommandContext) {
    return this.onCase(caseId, 'StartReflectionPeriod', context, async () => {
      // Entitlement, and the day it began, come from the identification record at its latest revision.
      const identification = await this.records.identification(caseId);
      const entitled = reasonableGroundsPositive(identification);
      const decidedAt =
        entitled && 'reasonableGroundsDecidedAt' in identification
          ? identification.reasonableGroundsDecidedAt
          : undefined;
      return {
        startsOn: input.startsOn,
        days: input.days,
        reasonableGroundsPositive: entitled,
        ...(typeof decidedAt === 'string' ? { entitledSince: decidedAt.slice(0, 10) } : {}),
      };
    });
  }

  extendReflectionPeriod(caseId: string, input: ExtendReflectionPeriodDto, context: CommandContext) {
    return this.onCase(caseId, 'ExtendReflectionPeriod', context, async () => ({
      additionalDays: input.additionalDays,
    }));
  }

  endReflectionPeriod(caseId: string, input: EndReflectionPeriodDto, context: CommandContext) {
    return this.onCase(caseId, 'EndReflectionPeriod', context, async () => ({ reason: input.reason }));
  }

  async agreePlan(
    caseId: string,
    input: AgreeSupportPlanDto,
    context: CommandContext,
  ): Promise<{ planId: string } & CommandResult> {
    const ids = new RequestIds(context);
    const planId = ids.entity('plan');
    const result = await this.onCase(
      caseId,
      'AgreeSupportPlan',
      context,
      async () => ({ planId, services: input.services, reviewOn: input.reviewOn }),
      ids,
    );
    return { planId, ...result };
  }

  recordService(caseId: string, input: RecordServiceProvidedDto, context: CommandContext) {
    return this.onCase(caseId, 'RecordServiceProvided', context, async () => ({
      serviceType: input.serviceType,
      providedOn: input.providedOn,
    }));
  }

  close(caseId: string, input: CloseSupportCaseDto, context: CommandContext) {
    return this.onCase(caseId, 'CloseSupportCase', context, async () => ({ outcome: input.outcome }));
  }

  private async onCase<T extends SupportCommand['type']>(
    caseId: string,
    type: T,
    context: CommandContext,
    data: () => Promise<Data<T>>,
    ids?: RequestIds,
  ): Promise<CommandResult> {
    // The party check first, before the support stream (and an Idempotency-Key in it) is read.
    if (context.actor && this.partyCheck) await this.partyCheck(caseId, context.actor);
    return this.run(
      supportStream(caseId),
      context,
      async () => {
        await this.records.reportedCase(caseId);
        return {
          type,
          data: { caseId, ...(await data()) },
          metadata: metadataOf(context),
        } as unknown as SupportCommand;
      },
      ids,
    );
  }
}
