import { consentDecider, consentStream, type ConsentEvent, type ConsentState } from '@nrm/consent';
import { FoldedStreamCache, type EventStore } from '@nrm/event-store';
import { asDomainEvent } from './commands/command-executor';

/** Cases whose consent state is kept (a state is a few hundred bytes; 10,000 cases ≈ a few MB). */
export const CONSENT_CACHE_CASES = 10_000;

/**
 * The consent state of cases as case reads need it, cached by the consent stream's revision and
 * checked against the stream on every read: each read looks for events after the cached revision
 * and folds only those, so a withdrawal acknowledged before a read counts in that read, without
 * reading and folding the whole stream again each time. Consent states hold agency ids,
 * categories, purposes and dates, no personal data.
 */
export class ConsentStateCache {
  private readonly cache: FoldedStreamCache<ConsentState>;

  constructor(store: EventStore, maxCases = CONSENT_CACHE_CASES) {
    this.cache = new FoldedStreamCache<ConsentState>(store, {
      initial: () => consentDecider.initialState(),
      evolve: (state, event) => consentDecider.evolve(state, asDomainEvent<ConsentEvent>(event)),
      maxStreams: maxCases,
    });
  }

  /** The case's consent state at the stream's latest revision. */
  consent(caseId: string): Promise<ConsentState> {
    return this.cache.state(consentStream(caseId));
  }

  get stats(): { readonly unchanged: number; readonly folded: number; readonly evicted: number } {
    return this.cache.stats;
  }
}
