import { consentDecider, consentStream, type ConsentEvent, type ConsentState } from '@nrm/consent';
import type { EventStore } from '@nrm/event-store';
import {
  identificationStream,
  initialIdentificationState,
  evolveIdentification,
  isReported,
  type IdentificationEvent,
  type IdentificationState,
  type ReportedCase,
} from '@nrm/identification';
import { agencyStream, evolveAgency, type AgencyEvent, type AgencyState } from '@nrm/access';
import type { RegisteredAgency } from '@nrm/identification';
import { ruleBroken, type Actor, type AgencyKind } from '@nrm/shared-kernel';
import { caseNotFound, type PartyCheck } from './case-parties';
import { asDomainEvent } from '../commands/command-executor';
import type { ConsentStateCache } from './consent-state-cache';

/**
 * Reads other contexts' records that a command needs as context (is the case
 * reported, is the person a minor, what does consent cover). Always folded from
 * the stream at its latest revision: never from a read model that may trail.
 */
export class CaseRecords {
  constructor(
    private readonly store: EventStore,
    /** Absent for the operator's console. */
    private readonly partyCheck?: PartyCheck,
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
   * agency is no party to: commands run `requireParty` before anything else).
   */
  async reportedCase(caseId: string): Promise<ReportedCase> {
    const state = await this.identification(caseId);
    if (!isReported(state)) throw caseNotFound();
    return state;
  }

  /** The party check alone (before a command's stream is read); nothing for the console. */
  async requireParty(caseId: string, actor?: Actor): Promise<void> {
    if (actor && this.partyCheck) await this.partyCheck(caseId, actor);
  }

  /** The kind of a registered agency, read from its own stream (works in the CLI, which has no registry view). */
  async agencyKind(agencyId: string): Promise<AgencyKind | undefined> {
    for await (const e of this.store.readStream(agencyStream(agencyId), { maxCount: 1 })) {
      if (e.type === 'AgencyRegistered') return e.data.kind as AgencyKind;
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
}
