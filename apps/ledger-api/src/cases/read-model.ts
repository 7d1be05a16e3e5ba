import type { EventStore } from '@nrm/event-store';
import type Database from 'better-sqlite3';
import { ProblemException } from '../http/problem';

/** What queries need of the projector: its tables, and proof that it has caught up. */
export interface ReadModel {
  readonly db: Database.Database;
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
}

const CAUGHT_UP_TIMEOUT_MS = 2000;

/**
 * Queries (and the party check of commands) answer only once the read model has
 * applied everything stored before the request; otherwise 503, never a stale answer.
 */
export async function awaitReadModel(store: EventStore, readModel: ReadModel): Promise<void> {
  if (await readModel.waitFor(await store.headPosition(), CAUGHT_UP_TIMEOUT_MS)) return;
  throw new ProblemException({
    status: 503,
    title: 'Read model behind',
    code: 'READ_MODEL.BEHIND',
    detail: 'The read model has not caught up with the latest records; try again shortly.',
    retryAfterSeconds: 1,
  });
}
