import {
  consentDecider,
  consentStream,
  coveredCategories,
  type CategoriesQuery,
  type ConsentEvent,
  type ConsentState,
  type CoveredCategory,
} from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import {
  identificationStream,
  initialIdentificationState,
  evolveIdentification,
  isReported,
  reasonableGroundsPositive,
  type IdentificationEvent,
  type IdentificationState,
  type ReportedCase,
} from '@nrm/identification';
import { agencyStream, evolveAgency, principalStream, type AgencyEvent, type AgencyState } from '@nrm/access';
import type { RegisteredAgency } from '@nrm/identification';
import { caseNotFound, ruleBroken, type AgencyKind } from '@nrm/shared-kernel';
import { asDomainEvent } from './commands/command-executor';
import type { ConsentStateCache } from './consent-state-cache';

/**
 * Reads other contexts' records that a command needs as context (is the case
 * reported, is the person a minor, what does consent cover, what kind is an
 * agency). Always folded from the stream at its latest revision: never from a
 * read model that may trail. Each context's application layer names the part
 * it needs as a port (e.g. `ReferralRecords`); this class implements them all,
 * and the API and the CLI pass it in.
 */
export class CaseRecords {
  constructor(
    private readonly store: EventStore,
    /** Where given, consent is folded incrementally from a cache checked against the stream's revision. */
    private readonly consentCache?: ConsentStateCache,
  ) {}

  async identification(caseId: string): Promise<IdentificationState> {
    let state = initialIdentificationState();
    for await (const e of this.store.readStream(identificationStream(caseId))) {
      state = evolveIdentification(state, asDomainEvent<IdentificationEvent>(e));
    }
    return state;
  }

  /**
   * The reported case, or a 404 naming the case id (the answer for a case the
   * agency is no party to: commands run their party check before anything else).
   */
  async reportedCase(caseId: string): Promise<ReportedCase> {
    const state = await this.identification(caseId);
    if (!isReported(state)) throw caseNotFound();
    return state;
  }

  /**
   * The reported case's standing for support (or a 404, as `reportedCase`): whether a positive
   * reasonable-grounds decision stands, and when it was decided.
   */
  async supportEntitlement(
    caseId: string,
  ): Promise<{ readonly reasonableGroundsPositive: boolean; readonly decidedAt?: string }> {
    const state = await this.reportedCase(caseId);
    const positive = reasonableGroundsPositive(state);
    const decidedAt =
      positive && 'reasonableGroundsDecidedAt' in state ? state.reasonableGroundsDecidedAt : undefined;
    return { reasonableGroundsPositive: positive, ...(typeof decidedAt === 'string' ? { decidedAt } : {}) };
  }

  /** The kind of a registered agency, read from its own stream (works in the CLI, which has no registry view). */
  async agencyKind(agencyId: string): Promise<AgencyKind | undefined> {
    for await (const e of this.store.readStream(agencyStream(agencyId), { maxCount: 1 })) {
      if (e.type === 'AgencyRegistered') return e.data.kind as AgencyKind;
    }
    return undefined;
  }

  /**
   * The agency a registered principal acts for, read from the principal's own stream (its first
   * event registers it); undefined when no principal is registered with this id.
   */
  async principalAgency(principalId: string): Promise<string | undefined> {
    for await (const e of this.store.readStream(principalStream(principalId), { maxCount: 1 })) {
      if (e.type === 'PrincipalRegistered' && typeof e.data.agencyId === 'string') return e.data.agencyId;
    }
    return undefined;
  }

  /**
   * What the registry holds of an agency (kind, country, switched off or not), folded from its own
   * stream at its latest revision; undefined when no agency is registered with this id.
   */
  async agency(agencyId: string): Promise<RegisteredAgency | undefined> {
    let state: AgencyState = { status: 'none' };
    let country: string | undefined;
    for await (const e of this.store.readStream(agencyStream(agencyId))) {
      const event = asDomainEvent<AgencyEvent>(e);
      if (event.type === 'AgencyRegistered') country = event.data.country;
      state = evolveAgency(state, event);
    }
    if (state.status !== 'registered' || country === undefined) return undefined;
    return { kind: state.kind, country, disabled: state.disabled };
  }

  /** Every listed agency must be registered; an unknown one is a 422 naming its position. */
  async requireAgencies(agencyIds: readonly string[], field: string): Promise<void> {
    for (const [i, agencyId] of agencyIds.entries()) {
      if ((await this.agencyKind(agencyId)) === undefined)
        throw ruleBroken(
          'AGENCY.UNKNOWN',
          `No agency is registered with id "${agencyId}".`,
          `${field}[${i}]`,
        );
    }
  }

  async consent(caseId: string): Promise<ConsentState> {
    if (this.consentCache) return this.consentCache.consent(caseId);
    let state = consentDecider.initialState();
    for await (const e of this.store.readStream(consentStream(caseId))) {
      state = consentDecider.evolve(state, asDomainEvent<ConsentEvent>(e));
    }
    return state;
  }

  /** What consent and lawful bases of a case cover for an agency and purpose at an instant, by category. */
  async coverage(caseId: string, query: CategoriesQuery): Promise<CoveredCategory[]> {
    return coveredCategories(await this.consent(caseId), query);
  }
}
