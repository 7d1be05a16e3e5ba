import type { EventStore } from '@nrm/event-store';
import { caseDirectory, isPartyTo, type Projection, type ReadModelStore } from '@nrm/projections';
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
  /** True once every projection (every one named, when names are given) covers `position`. */
  waitFor(position: number, timeoutMs: number, projections?: readonly string[]): Promise<boolean>;
  health(): Promise<ReadModelHealth>;
  /** The read models checked against a rebuild from the events (SQLite read models only). */
  readonly integrity?: ReadModelIntegrity;
}

const CAUGHT_UP_TIMEOUT_MS = 2000;

/** The projections a query reads: by name, and the event types each follows (absent: every type). */
export type ReadModelsUsed = readonly Pick<Projection, 'name' | 'eventTypes'>[];

/** What the case reads, and the party checks of commands, use: the case directory alone. */
export const CASE_DIRECTORY_USED: ReadModelsUsed = [caseDirectory];

/** Per list of projections: the names and the union of their types (undefined: every type). */
const usedCache = new WeakMap<ReadModelsUsed, { names: string[]; types: string[] | undefined }>();

function describeUsed(used: ReadModelsUsed): { names: string[]; types: string[] | undefined } {
  let described = usedCache.get(used);
  if (described === undefined) {
    const types = new Set<string>();
    let every = false;
    for (const p of used) {
      if (p.eventTypes === undefined) every = true;
      else for (const type of p.eventTypes) types.add(type);
    }
    described = { names: used.map((p) => p.name), types: every ? undefined : [...types].sort() };
    usedCache.set(used, described);
  }
  return described;
}

/**
 * Queries (and the party check of commands) answer only once the read models they use have
 * applied every event of theirs stored before the request; otherwise 503, never a stale answer.
 * With `used`, a query waits only for those projections, and only up to the last stored event of
 * the types they follow: events of other types after it (the audit events earlier reads appended,
 * which the case projections ignore) do not hold it up. Without, it waits for every projection to
 * reach the store's head. Resolves to the store position the read models used cover.
 */
export async function awaitReadModel(
  store: EventStore,
  readModel: ReadModel,
  used?: ReadModelsUsed,
): Promise<number> {
  let target: number;
  let names: string[] | undefined;
  if (used === undefined) {
    target = await store.headPosition();
  } else {
    const described = describeUsed(used);
    names = described.names;
    target =
      described.types !== undefined && store.lastPositionOf
        ? await store.lastPositionOf(described.types)
        : await store.headPosition();
  }
  if (await readModel.waitFor(target, CAUGHT_UP_TIMEOUT_MS, names)) return target;
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
