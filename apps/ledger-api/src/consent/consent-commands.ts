import { consentDecider, consentStream, type ConsentCommand } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import { ruleBroken, type AgencyKind } from '@nrm/shared-kernel';
import { RequestIds, type CommandContext, type CommandResult } from '@nrm/runtime/commands';
import { deciderRunner, metadataOf } from '@nrm/runtime/commands';
import { CaseRecords } from '@nrm/runtime';
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

/** Whether an agency is in direct contact with the person of a case (rule 7). */
export type ContactCheck = (caseId: string, agencyId: string) => Promise<boolean>;

/** Consent commands, shared by the HTTP API and the CLI's demo. */
export class ConsentCommands {
  private readonly run;
  private readonly records: CaseRecords;

  constructor(
    store: EventStore,
    private readonly partyCheck?: PartyCheck,
    /** Absent for the operator's console, which acts for no agency and is not checked. */
    private readonly contact?: ContactCheck,
  ) {
    this.run = deciderRunner(store, consentDecider);
    this.records = new CaseRecords(store);
  }

  /** The registered kind of each named agency; an unknown one is a 422 naming its position. */
  private async agencyKinds(agencyIds: readonly string[], field: string) {
    const kinds: Record<string, AgencyKind> = {};
    for (const [i, agencyId] of agencyIds.entries()) {
      const kind = await this.records.agencyKind(agencyId);
      if (kind === undefined)
        throw ruleBroken(
          'AGENCY.UNKNOWN',
          `No agency is registered with id "${agencyId}".`,
          `${field}[${i}]`,
        );
      kinds[agencyId] = kind;
    }
    return kinds;
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
        const identification = await this.records.reportedCase(caseId);
        const agencyKinds = await this.agencyKinds(input.agencyIds, 'agencyIds');
        const recorderInContact =
          !this.contact || !context.actor || (await this.contact(caseId, context.actor.agencyId));
        return {
          type: 'GrantConsent',
          data: {
            caseId,
            consentId,
            subjectIsMinor: identification.minor,
            recorderInContact,
            agencyKinds,
            ...plain(input),
          },
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
      await this.records.reportedCase(caseId);
      return {
        type: 'WithdrawConsent',
        data: { caseId, consentId, ...plain(input) },
        metadata: metadataOf(context),
      };
    });
  }

  refuse(caseId: string, input: RefuseConsentDto, context: CommandContext): Promise<CommandResult> {
    return this.onCase(caseId, context, async () => {
      await this.records.reportedCase(caseId);
      if (input.agencyIds) await this.records.requireAgencies(input.agencyIds, 'agencyIds');
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
        await this.records.reportedCase(caseId);
        const agencyKinds = await this.agencyKinds(input.agencyIds, 'agencyIds');
        return {
          type: 'RecordLawfulBasis',
          data: { caseId, lawfulBasisId, agencyKinds, ...plain(input) },
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
    if (context.actor && this.partyCheck) await this.partyCheck(caseId, context.actor);
    return this.run(consentStream(caseId), context, build, ids);
  }
}
