import type Database from 'better-sqlite3';
import { DuplicateEventId, WrongExpectedRevision } from '../errors';
import type { AppendResult, ExpectedRevision } from '../event-store';
import type { Serialised } from '../validation';

/**
 * What the writer needs of one append: everything already checked and serialised by the caller,
 * and plain data only, so that it crosses to the writer thread by structured clone.
 */
export interface WriteRequest {
  readonly stream: string;
  readonly events: readonly { readonly id: string; readonly type: string; readonly schemaVersion: number }[];
  readonly bodies: readonly Serialised[];
  readonly expected: ExpectedRevision;
  /** When the store commits it (ISO-8601, UTC): taken from the store's clock by the caller. */
  readonly recordedAt: string;
}

export type WriteOutcome = { readonly ok: AppendResult } | { readonly error: unknown };

interface IdRow {
  event_id: string;
  stream: string;
  revision: number;
  position: number;
}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/**
 * The write side of the SQLite store on one connection: a group of appends committed in one
 * IMMEDIATE transaction (one fsync with FULL), each in its own savepoint so that one append's
 * conflict rolls back only that append. The same code runs on the store's own connection
 * (inline) or on the writer thread's (see sqlite-writer-thread.ts).
 */
export class SqliteWriter {
  private readonly lastRevision: Database.Statement<[string], { revision: number }>;
  private readonly insert: Database.Statement<
    [string, string, number, string, number, string, string, string]
  >;
  private readonly byId: Database.Statement<[string], IdRow>;
  private readonly commitGroup: (batch: readonly WriteRequest[]) => WriteOutcome[];

  constructor(db: Database.Database) {
    this.lastRevision = db.prepare(
      'SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
    );
    this.insert = db.prepare(
      // The next position is above every position ever handed out (migration 3), not only above
      // the rows left: a deleted tail is never handed out again.
      `INSERT INTO events (position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at)
       VALUES (max(coalesce((SELECT position FROM positions_handed_out WHERE id = 1), 0),
                   coalesce((SELECT max(position) FROM events), 0)) + 1,
               ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.byId = db.prepare('SELECT event_id, stream, revision, position FROM events WHERE event_id = ?');

    const appendOne = db.transaction((p: WriteRequest) => this.appendInTransaction(p));
    const appendAll = db.transaction((batch: readonly WriteRequest[]) =>
      batch.map((p): WriteOutcome => {
        try {
          return { ok: appendOne(p) };
        } catch (error) {
          return { error };
        }
      }),
    );
    // IMMEDIATE takes the write lock before reading revisions, so no other connection can slip in between.
    // A group of one (the common case without concurrency) needs no savepoint.
    this.commitGroup = (batch) => {
      if (batch.length !== 1) return appendAll.immediate(batch);
      try {
        return [{ ok: appendOne.immediate(batch[0]!) }];
      } catch (error) {
        if (error instanceof WrongExpectedRevision || isUniqueViolation(error)) return [{ error }];
        throw error;
      }
    };
  }

  /**
   * Commits the group and answers each append. Throws when the transaction as a whole failed
   * (nothing of the group was stored).
   */
  commit(batch: readonly WriteRequest[]): WriteOutcome[] {
    const outcomes = this.commitGroup(batch);
    return outcomes.map((outcome, i) => {
      if ('ok' in outcome || !isUniqueViolation(outcome.error)) return outcome;
      // Only an event id can collide ((stream, revision) was checked in the transaction),
      // and this append's savepoint rolled back whole. Stored events never change, so
      // this look-up after the commit is as good as one inside it.
      const p = batch[i]!;
      try {
        const retry = this.idempotentRetry(p);
        return retry ? { ok: retry } : outcome;
      } catch (error) {
        return { error };
      }
    });
  }

  private appendInTransaction(p: WriteRequest): AppendResult {
    const { stream, events, bodies, expected } = p;
    const actual = this.lastRevision.get(stream)?.revision ?? -1;
    const matches =
      expected === 'no-stream'
        ? actual === -1
        : expected === 'stream-exists'
          ? actual >= 0
          : actual === expected;
    if (!matches) {
      const retry = this.idempotentRetry(p);
      if (retry) return retry;
      throw new WrongExpectedRevision(stream, expected, actual === -1 ? 'no-stream' : actual);
    }
    let position = 0;
    events.forEach((event, i) => {
      const body = bodies[i]!;
      const info = this.insert.run(
        event.id.toLowerCase(),
        stream,
        actual + 1 + i,
        event.type,
        event.schemaVersion,
        body.data,
        body.metadata,
        p.recordedAt,
      );
      position = Number(info.lastInsertRowid);
    });
    return { revision: actual + events.length, position };
  }

  /**
   * An append whose event ids are already stored: the same append retried
   * (every id in this stream, in order, where the expectation put them) gives
   * the first result; any other placement is a `DuplicateEventId`.
   */
  private idempotentRetry(p: WriteRequest): AppendResult | undefined {
    const { stream, events, expected } = p;
    const rows = events.map((e) => this.byId.get(e.id.toLowerCase()));
    const found = rows.findIndex((r) => r !== undefined);
    if (found === -1) return undefined;
    const first = rows[0];
    const start = first?.revision ?? -1;
    const sameAppend =
      first !== undefined &&
      rows.every((r, i) => r !== undefined && r.stream === stream && r.revision === start + i) &&
      (expected === 'no-stream' ? start === 0 : expected === 'stream-exists' ? true : start === expected + 1);
    if (!sameAppend) {
      const clash = rows[found]!;
      throw new DuplicateEventId(clash.event_id, clash.stream, clash.revision);
    }
    const last = rows[rows.length - 1]!;
    return { revision: last.revision, position: last.position };
  }
}

/** An error as it crosses from the writer thread: the port's errors keep their class. */
export type EncodedError =
  | {
      readonly kind: 'wrong-expected-revision';
      readonly stream: string;
      readonly expected: ExpectedRevision;
      readonly actual: number | 'no-stream';
    }
  | {
      readonly kind: 'duplicate-event-id';
      readonly eventId: string;
      readonly existingStream: string;
      readonly existingRevision: number;
    }
  | { readonly kind: 'other'; readonly name: string; readonly message: string; readonly code?: string };

export function encodeError(error: unknown): EncodedError {
  if (error instanceof WrongExpectedRevision)
    return {
      kind: 'wrong-expected-revision',
      stream: error.stream,
      expected: error.expected,
      actual: error.actual,
    };
  if (error instanceof DuplicateEventId)
    return {
      kind: 'duplicate-event-id',
      eventId: error.eventId,
      existingStream: error.existingStream,
      existingRevision: error.existingRevision,
    };
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return { kind: 'other', name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
}

export function decodeError(encoded: EncodedError): Error {
  if (encoded.kind === 'wrong-expected-revision')
    return new WrongExpectedRevision(encoded.stream, encoded.expected, encoded.actual);
  if (encoded.kind === 'duplicate-event-id')
    return new DuplicateEventId(encoded.eventId, encoded.existingStream, encoded.existingRevision);
  const error = new Error(encoded.message) as Error & { code?: string };
  error.name = encoded.name;
  if (encoded.code !== undefined) error.code = encoded.code;
  return error;
}

/**
 * A group as it crosses to the writer thread: one flat array of strings and numbers, not an array
 * of nested objects, so that the structured clone on each side walks no property names. Per append:
 * stream, expected revision, recordedAt, the number of events, then per event its id, type,
 * schema version, data and metadata.
 */
export type EncodedGroup = (string | number)[];

export function encodeGroup(requests: readonly WriteRequest[]): EncodedGroup {
  const flat: EncodedGroup = [];
  for (const r of requests) {
    flat.push(r.stream, r.expected, r.recordedAt, r.events.length);
    r.events.forEach((e, i) => {
      const body = r.bodies[i]!;
      flat.push(e.id, e.type, e.schemaVersion, body.data, body.metadata);
    });
  }
  return flat;
}

export function decodeGroup(flat: EncodedGroup): WriteRequest[] {
  const requests: WriteRequest[] = [];
  let at = 0;
  while (at < flat.length) {
    const stream = flat[at++] as string;
    const expected = flat[at++] as WriteRequest['expected'];
    const recordedAt = flat[at++] as string;
    const count = flat[at++] as number;
    const events: WriteRequest['events'][number][] = [];
    const bodies: Serialised[] = [];
    for (let i = 0; i < count; i++) {
      events.push({
        id: flat[at] as string,
        type: flat[at + 1] as string,
        schemaVersion: flat[at + 2] as number,
      });
      bodies.push({ data: flat[at + 3] as string, metadata: flat[at + 4] as string });
      at += 5;
    }
    requests.push({ stream, events, bodies, expected, recordedAt });
  }
  return requests;
}

/**
 * A group's outcomes as they cross back: per append, its revision and position when stored (two
 * numbers), or -1 and the error's index in `errors` (rare: a conflict or a duplicate).
 */
export interface EncodedAnswer {
  readonly results: number[];
  readonly errors?: EncodedError[];
}

export function encodeAnswer(outcomes: readonly WriteOutcome[]): EncodedAnswer {
  const results: number[] = [];
  let errors: EncodedError[] | undefined;
  for (const o of outcomes) {
    if ('ok' in o) results.push(o.ok.revision, o.ok.position);
    else {
      errors ??= [];
      results.push(-1, errors.length);
      errors.push(encodeError(o.error));
    }
  }
  return errors ? { results, errors } : { results };
}

export function decodeAnswer(answer: EncodedAnswer): WriteOutcome[] {
  const outcomes: WriteOutcome[] = [];
  const { results, errors } = answer;
  for (let i = 0; i < results.length; i += 2) {
    const revision = results[i]!;
    outcomes.push(
      revision === -1
        ? { error: decodeError(errors![results[i + 1]!]!) }
        : { ok: { revision, position: results[i + 1]! } },
    );
  }
  return outcomes;
}
