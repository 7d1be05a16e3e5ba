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
import { ruleBroken, type AgencyKind, type SealedText } from '@nrm/shared-kernel';
import type {
  ConsentCommand,
  GrantConsent,
  RecordLawfulBasis,
  RefuseConsent,
  WithdrawConsent,
} from '../commands';
import { consentDecider } from '../decider';
import type { ConsentEvent } from '../events';
import type { ConsentState } from '../state';
import { consentStream } from '../streams';

/**
 * What a consent decision needs to know of other contexts' records, read from their streams at
 * their latest revision. The runtime's `CaseRecords` implements it.
 */
export interface ConsentRecords {
  /** The reported case; throws `caseNotFound()` when no case was reported with this id. */
  reportedCase(caseId: string): Promise<{ readonly minor: boolean; readonly subjectId: string }>;
  /** The registered kind of an agency; undefined when none is registered with this id. */
  agencyKind(agencyId: string): Promise<AgencyKind | undefined>;
  /** The agency a principal is registered for; undefined when none is registered with this id. */
  principalAgency(principalId: string): Promise<string | undefined>;
}

/** Whether an agency is in direct contact with the person of a case (rule 7). */
export type ContactCheck = (caseId: string, agencyId: string) => Promise<boolean>;

/** What is asked: each command without what the handler makes or reads itself. */
export type GrantConsentRequest = Omit<
  GrantConsent['data'],
  | 'consentId'
  | 'subjectIsMinor'
  | 'recorderInContact'
  | 'agencyKinds'
  | 'witnessAgencyId'
  | 'sealedGuardianReference'
>;
export type WithdrawConsentRequest = Omit<WithdrawConsent['data'], 'recorderInContact'>;
export type RefuseConsentRequest = Omit<RefuseConsent['data'], 'recorderInContact'>;
export type RecordLawfulBasisRequest = Omit<
  RecordLawfulBasis['data'],
  'lawfulBasisId' | 'agencyKinds' | 'sealedJustification'
>;

/**
 * Seals a free text under the subject's key (libs/privacy: `sealTextFor`); null once the subject
 * is erased (the text is then not kept).
 */
export type TextSealer = (subjectId: string, text: string) => Promise<SealedText | null>;

export interface ConsentCommandsOptions {
  /**
   * Seals a lawful basis's justification and a guardian's reference; absent for the CLI's demo,
   * which records neither.
   */
  readonly sealText?: TextSealer;
  /** Whether the actor may know of the case (before anything of it is read); absent for the console. */
  readonly partyCheck?: PartyCheck;
  /** Whether the recording agency is in contact with the person; absent for the console (not checked). */
  readonly contact?: ContactCheck;
}

/** A text field as the decider reads it: trimmed, undefined when absent or blank. */
function trimmed(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value.trim() : '';
  return text === '' ? undefined : text;
}

function plain<T extends object>(request: T): T {
  return JSON.parse(JSON.stringify(request)) as T; // class instances and undefined keys out: events hold plain JSON
}

/**
 * Consent commands, shared by the HTTP API and the CLI. Each runs the party check first, then
 * decides against the consent stream's state and a context read once (the reported case, the
 * registered kinds of the named agencies, the recorder's contact with the person): a retry after
 * a conflict reads the consent stream again, and nothing else. Refusals are `DomainError`s.
 */
export class ConsentCommands {
  private readonly executor: CommandExecutor;

  constructor(
    store: EventStore,
    private readonly records: ConsentRecords,
    private readonly options: ConsentCommandsOptions = {},
  ) {
    this.executor = new CommandExecutor(store);
  }

  async grant(
    request: GrantConsentRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ consentId: string } & CommandResult> {
    const { caseId, ...scope } = request;
    const ids = new RequestIds(context, options.idempotency);
    const consentId = ids.entity('consent');
    const facts = once(async () => {
      const identification = await this.records.reportedCase(caseId);
      const agencyKinds = await this.agencyKinds(scope.agencyIds, 'agencyIds');
      const recorderInContact = await this.inContact(caseId, context);
      const capture = plain(scope).capture as Partial<GrantConsentRequest['capture']> | undefined;
      const witness = trimmed(capture?.witnessPrincipalId);
      const guardian = trimmed(capture?.guardianReference);
      // Both keys always set, so that nothing of the same name in the request stands in for them.
      return {
        subjectIsMinor: identification.minor,
        agencyKinds,
        recorderInContact,
        // Who the witness is registered for, checked by the decider against the recording agency.
        witnessAgencyId: witness !== undefined ? await this.records.principalAgency(witness) : undefined,
        // Sealed under the subject's key, so that the subject's erasure shreds the reference too.
        sealedGuardianReference:
          guardian !== undefined
            ? await this.sealed(identification.subjectId, guardian, 'guardian reference')
            : undefined,
      };
    });
    const result = await this.onCase(caseId, context, ids, async () => ({
      type: 'GrantConsent',
      data: { caseId, consentId, ...plain(scope), ...(await facts()) },
      metadata: metadataOf(context),
    }));
    return { consentId, ...result };
  }

  withdraw(
    request: WithdrawConsentRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const { caseId, consentId, ...scope } = request;
    const facts = once(async () => {
      await this.records.reportedCase(caseId);
      return this.inContact(caseId, context);
    });
    return this.onCase(caseId, context, new RequestIds(context, options.idempotency), async () => {
      const recorderInContact = await facts();
      return {
        type: 'WithdrawConsent',
        data: { caseId, consentId, recorderInContact, ...plain(scope) },
        metadata: metadataOf(context),
      };
    });
  }

  refuse(
    request: RefuseConsentRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    const { caseId, ...scope } = request;
    const facts = once(async () => {
      await this.records.reportedCase(caseId);
      if (scope.agencyIds) await this.agencyKinds(scope.agencyIds, 'agencyIds');
      return this.inContact(caseId, context);
    });
    return this.onCase(caseId, context, new RequestIds(context, options.idempotency), async () => {
      const recorderInContact = await facts();
      return {
        type: 'RefuseConsent',
        data: { caseId, recorderInContact, ...plain(scope) },
        metadata: metadataOf(context),
      };
    });
  }

  async recordLawfulBasis(
    request: RecordLawfulBasisRequest,
    context: CommandContext,
    options: CommandOptions = {},
  ): Promise<{ lawfulBasisId: string } & CommandResult> {
    const { caseId, ...scope } = request;
    const ids = new RequestIds(context, options.idempotency);
    const lawfulBasisId = ids.entity('lawful-basis');
    const facts = once(async () => {
      const { subjectId } = await this.records.reportedCase(caseId);
      const agencyKinds = await this.agencyKinds(scope.agencyIds, 'agencyIds');
      // Sealed under the subject's key, so that the subject's erasure shreds the text too.
      const sealedJustification = await this.sealed(
        subjectId,
        String(scope.justification).trim(),
        'lawful basis',
      );
      return { agencyKinds, sealedJustification };
    });
    const result = await this.onCase(caseId, context, ids, async () => ({
      type: 'RecordLawfulBasis',
      data: { caseId, lawfulBasisId, ...plain(scope), ...(await facts()) },
      metadata: metadataOf(context),
    }));
    return { lawfulBasisId, ...result };
  }

  /** A free text sealed under the subject's key (null once the subject is erased). */
  private async sealed(subjectId: string, text: string, what: string): Promise<SealedText | null> {
    const sealText = this.options.sealText;
    if (!sealText) throw new Error(`recording a ${what} needs a text sealer`);
    return sealText(subjectId, text);
  }

  /**
   * Whether the acting agency is in direct contact with the person: the standing for recording
   * their consent, its withdrawal and a refusal alike. The operator's console always is.
   */
  private async inContact(caseId: string, context: CommandContext): Promise<boolean> {
    const contact = this.options.contact;
    return !contact || !context.actor || contact(caseId, context.actor.agencyId);
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

  /** The party check first, before the consent stream (and an Idempotency-Key in it) is read. */
  private async onCase(
    caseId: string,
    context: CommandContext,
    ids: RequestIds,
    command: () => Promise<ConsentCommand>,
  ): Promise<CommandResult> {
    const actor = context.actor;
    if (actor && this.options.partyCheck) await this.options.partyCheck(caseId, actor);
    return this.executor.execute<ConsentEvent, ConsentState>({
      stream: consentStream(caseId),
      evolve: (state, event) => consentDecider.evolve(state, event),
      initialState: () => consentDecider.initialState(),
      decide: async (state) => consentDecider.decide(await command(), state),
      context,
      ids,
    });
  }
}
