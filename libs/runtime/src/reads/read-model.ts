import type { EventStore } from '@nrm/event-store';
import { isPartyTo, type ReadModelStore } from '@nrm/projections';
import { unavailable } from '@nrm/shared-kernel';
import type { ReadModelIntegrity } from './read-model-integrity';

export interface ReadModelHealth {
  readonly ok: boolean;
  /** 'running', 'failed', ... for an embedded projector; 'following' for an external one. */
  readonly state: string;
  readonly positions: Readonly<Record<string, number>>;
  readonly detail?: string;
  readonly failure?: object;
}

/**
 * What queries need of the read models: their tables, and proof that they
 * have caught up. Backed by the embedded projector, or, when the projector is
 * its own process, by a follower of its checkpoints.
 */
export interface ReadModel {
  readonly store: ReadModelStore;
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
  health(): Promise<ReadModelHealth>;
  /** The read models checked against a rebuild from the events (SQLite read models only). */
  readonly integrity?: ReadModelIntegrity;
}

const CAUGHT_UP_TIMEOUT_MS = 2000;

/**
 * Queries (and the party check of commands) answer only once the read model has
 * applied everything stored before the request; otherwise 503, never a stale answer.
 * Resolves to the store position the read model covers.
 */
export async function awaitReadModel(store: EventStore, readModel: ReadModel): Promise<number> {
  const head = await store.headPosition();
  if (await readModel.waitFor(head, CAUGHT_UP_TIMEOUT_MS)) return head;
  throw unavailable(
    'READ_MODEL.BEHIND',
    'Read model behind',
    'The read model has not caught up with the latest records; try again shortly.',
    1,
  );
}

/** Whether an agency is party to a case, in any relation. */
export function isParty(readModel: ReadModel, caseId: string, agencyId: string): Promise<boolean> {
  return isPartyTo(readModel.store, caseId, agencyId);
}
