import { consentDecider, consentStream, type ConsentCommand } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import { RequestIds, type CommandContext, type CommandResult } from '../commands/command-executor';
import { deciderRunner, metadataOf } from '../commands/decider-runner';
import { CaseRecords } from '../cases/case-records';
import type { PartyCheck } from '../cases/case-parties';
import type {
  GrantConsentDto,
  RecordLawfulBasisDto,
  RefuseConsentDto,
  WithdrawConsentDto,
} from './consent.dto';

function plain<T extends object>(dto: T): T {
  return JSON.parse(JSON.stringify(dto)) as T; // class instances and undefined keys out: events hold plain JSON
}

/** Consent commands, shared by the HTTP API and the CLI's demo. */
export class ConsentCommands {
  private readonly run;
  private readonly records: CaseRecords;

  constructor(store: EventStore, partyCheck?: PartyCheck) {
    this.run = deciderRunner(store, consentDecider);
    this.records = new CaseRecords(store, partyCheck);
  }

  async grant(
    caseId: string,
    input: GrantConsentDto,
    context: CommandContext,
  ): Promise<{ consentId: string } & CommandResult> {
    const ids = new RequestIds(context);
    const consentId = ids.entity('consent');
    const result = await this.onCase(
      caseId,
      context,
      async () => {
        const identification = await this.records.reportedCase(caseId, context.actor);
        await this.records.requireAgencies(input.agencyIds, 'agencyIds');
        return {
          type: 'GrantConsent',
          data: { caseId, consentId, subjectIsMinor: identification.minor, ...plain(input) },
          metadata: metadataOf(context),
        };
      },
      ids,
    );
    return { consentId, ...result };
  }

  withdraw(
    caseId: string,
    consentId: string,
    input: WithdrawConsentDto,
    context: CommandContext,
  ): Promise<CommandResult> {
    return this.onCase(caseId, context, async () => {
      await this.records.reportedCase(caseId, context.actor);
      return {
        type: 'WithdrawConsent',
        data: { caseId, consentId, ...plain(input) },
        metadata: metadataOf(context),
      };
    });
  }

  refuse(caseId: string, input: RefuseConsentDto, context: CommandContext): Promise<CommandResult> {
    return this.onCase(caseId, context, async () => {
      await this.records.reportedCase(caseId, context.actor);
      return { type: 'RefuseConsent', data: { caseId, ...plain(input) }, metadata: metadataOf(context) };
    });
  }

  async recordLawfulBasis(
    caseId: string,
    input: RecordLawfulBasisDto,
    context: CommandContext,
  ): Promise<{ lawfulBasisId: string } & CommandResult> {
    const ids = new RequestIds(context);
    const lawfulBasisId = ids.entity('lawful-basis');
    const result = await this.onCase(
      caseId,
      context,
      async () => {
        await this.records.reportedCase(caseId, context.actor);
        await this.records.requireAgencies(input.agencyIds, 'agencyIds');
        return {
          type: 'RecordLawfulBasis',
          data: { caseId, lawfulBasisId, ...plain(input) },
          metadata: metadataOf(context),
        };
      },
      ids,
    );
    return { lawfulBasisId, ...result };
  }

  /** The party check first, before the consent stream (and an Idempotency-Key in it) is read. */
  private async onCase(
    caseId: string,
    context: CommandContext,
    build: () => Promise<ConsentCommand>,
    ids?: RequestIds,
  ) {
    await this.records.requireParty(caseId, context.actor);
    return this.run(consentStream(caseId), context, build, ids);
  }
}
