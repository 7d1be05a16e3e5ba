import { consentDecider, consentStream, type ConsentCommand } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import { ruleBroken, type AgencyKind, type SealedText } from '@nrm/shared-kernel';
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

/** Whether an agency is in direct contact with the person of a case (rule 7). */
export type ContactCheck = (caseId: string, agencyId: string) => Promise<boolean>;

/**
 * Seals a free text under the subject's key (libs/privacy: `sealTextFor`); null once the subject
 * is erased (the text is then not kept).
 */
export type TextSealer = (subjectId: string, text: string) => Promise<SealedText | null>;

/** Consent commands, shared by the HTTP API and the CLI's demo. */
export class ConsentCommands {
  private readonly run;
  private readonly records: CaseRecords;

  constructor(
    store: EventStore,
    partyCheck?: PartyCheck,
    /** Absent for the operator's console, which acts for no agency and is not checked. */
    private readonly contact?: ContactCheck,
    /** Seals a lawful basis's justification; absent for the CLI's demo, which records none. */
    private readonly sealText?: TextSealer,
  ) {
    this.run = deciderRunner(store, consentDecider);
    this.records = new CaseRecords(store, partyCheck);
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
        const recorderInContact = await this.inContact(caseId, context);
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
        data: {
          caseId,
          consentId,
          recorderInContact: await this.inContact(caseId, context),
          ...plain(input),
        },
        metadata: metadataOf(context),
      };
    });
  }

  refuse(caseId: string, input: RefuseConsentDto, context: CommandContext): Promise<CommandResult> {
    return this.onCase(caseId, context, async () => {
      await this.records.reportedCase(caseId);
      if (input.agencyIds) await this.records.requireAgencies(input.agencyIds, 'agencyIds');
      const recorderInContact = await this.inContact(caseId, context);
      return {
        type: 'RefuseConsent',
        data: { caseId, recorderInContact, ...plain(input) },
        metadata: metadataOf(context),
      };
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
        const { subjectId } = await this.records.reportedCase(caseId);
        const agencyKinds = await this.agencyKinds(input.agencyIds, 'agencyIds');
        if (!this.sealText) throw new Error('recording a lawful basis needs a text sealer');
        // Sealed under the subject's key, so that the subject's erasure shreds the text too.
        const sealedJustification = await this.sealText(subjectId, String(input.justification).trim());
        return {
          type: 'RecordLawfulBasis',
          data: { caseId, lawfulBasisId, agencyKinds, ...plain(input), sealedJustification },
          metadata: metadataOf(context),
        };
      },
      ids,
    );
    return { lawfulBasisId, ...result };
  }

  /** Whether the acting agency is in direct contact with the person; the operator's console always is. */
  private async inContact(caseId: string, context: CommandContext): Promise<boolean> {
    return !this.contact || !context.actor || this.contact(caseId, context.actor.agencyId);
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
