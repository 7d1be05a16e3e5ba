import {
  DuplicateEventId,
  EventStoreOutcomeUnknown,
  WrongExpectedRevision,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type JsonObject,
  type NewEvent,
  type RecordedEvent,
} from '@nrm/event-store';
import type { Actor, DomainEvent } from '@nrm/shared-kernel';
import { context as otelContext, propagation } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { keyedUuid, storedIdempotencyKey } from './id-secret';

/** Who asks, when, and what: the context every command is decided in. */
export interface CommandContext {
  /** Absent only for the operator at the console (CLI). */
  readonly actor?: Actor;
  readonly now: string;
  readonly requestId: string;
  /**
   * A digest of what was asked (route and body), stored with the events: a request sent again
   * with the same Idempotency-Key and another digest is refused.
   */
  readonly fingerprint: string;
}

/**
 * How to recognise a retry of the same request: the client's Idempotency-Key, and the secret the
 * ids derived from it are keyed with (see id-secret.ts). Both or neither.
 */
export interface Idempotency {
  readonly key: string;
  readonly idSecret: Buffer;
}

/**
 * What a caller may ask of a command handler beyond the command and its context. The API passes
 * `idempotency` when the client sent an Idempotency-Key; the CLI and other callers run the same
 * handlers without it (each call is then a new request, with random ids).
 */
export interface CommandOptions {
  readonly idempotency?: Idempotency;
}

export interface CommandResult {
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
  readonly eventIds: readonly string[];
  /** True when this answers a retry of a request already recorded. */
  readonly replayed: boolean;
}

/** The same Idempotency-Key was used for a different request. */
export class IdempotencyKeyReused extends Error {
  readonly code = 'IDEMPOTENCY.KEY_REUSED';
  constructor() {
    super('This Idempotency-Key was already used for a different request. Use a new key for a new request.');
  }
}

/** Every attempt lost the race against other writers to the same record. */
export class CommandConflict extends Error {
  readonly code = 'COMMAND.CONFLICT';
  constructor(readonly attempts: number) {
    super('The record kept changing while this request was being recorded. Try again in a moment.');
  }
}

/**
 * Ids for one request. With an Idempotency-Key they are derived from the
 * principal and the key, so that a retry produces the same case, referral and
 * event ids, and the event store recognises the retry. Event ids are derived
 * with the stream too: the event store leaves uniqueness across streams to its
 * callers (EventStoreDB does not check it), and a key reused for a request on
 * another record must not give two events one id.
 */
export class RequestIds {
  constructor(
    private readonly context: CommandContext,
    /** The request's idempotency, when the caller asked for it: ids are then derived from its key. */
    readonly idempotency?: Idempotency,
  ) {}

  /** A stable id for the entity this request creates (`purpose` names it: 'case', 'referral', ...). */
  entity(purpose: string): string {
    return this.derive(`entity:${purpose}`);
  }

  event(index: number, stream: string): string {
    return this.derive(`event:${stream}\u0000${index}`);
  }

  private derive(what: string): string {
    if (this.idempotency === undefined) return randomUUID();
    const { key, idSecret } = this.idempotency;
    const scope = this.context.actor?.principalId ?? 'console';
    return keyedUuid(idSecret, `${scope}\u0000${key}\u0000${what}`);
  }
}

export interface CommandSpec<E extends DomainEvent, S> {
  readonly stream: string;
  readonly evolve: (state: S, event: E) => S;
  readonly initialState: () => S;
  /**
   * Builds the command from the folded state and decides it. It runs again on
   * every retry, so context read from other streams (consent, registry) is fresh.
   */
  readonly decide: (state: S) => readonly E[] | Promise<readonly E[]>;
  readonly context: CommandContext;
  /** The request's ids, and its idempotency (`ids.idempotency`) when the handler was given one. */
  readonly ids: RequestIds;
  /**
   * The stream is named after an id this request made up (e.g. a new referral's): without an
   * Idempotency-Key that id is random, nothing can be stored under it yet, and the first attempt
   * appends (expecting no stream) without reading it. With a key the id is derived, an earlier
   * attempt may have stored it, and the stream is read as always.
   */
  readonly newStream?: boolean;
}

export interface CommandExecutorOptions {
  readonly maxAttempts?: number;
}

/**
 * Commands on one stream from this process run one after another: they would
 * only conflict and retry. Writers in other processes are still caught by the
 * expected revision and retried.
 */
const streamQueues = new WeakMap<EventStore, Map<string, Promise<unknown>>>();

/** A stored event as its context's domain event type (payload unchanged: stored events are plain JSON). */
export function asDomainEvent<E extends DomainEvent>(event: RecordedEvent): E {
  return { type: event.type, schemaVersion: event.schemaVersion, data: event.data } as unknown as E;
}

/**
 * Load the stream, fold, decide, append with the exact expected revision;
 * on a concurrent change, start again from the new state (bounded).
 */
export class CommandExecutor {
  private readonly maxAttempts: number;

  constructor(
    private readonly store: EventStore,
    options: CommandExecutorOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
  }

  execute<E extends DomainEvent, S>(spec: CommandSpec<E, S>): Promise<CommandResult> {
    let queues = streamQueues.get(this.store);
    if (!queues) streamQueues.set(this.store, (queues = new Map<string, Promise<unknown>>()));
    const previous = queues.get(spec.stream) ?? Promise.resolve();
    const run = previous.then(
      () => this.attempt(spec),
      () => this.attempt(spec),
    );
    const tail = run.catch(() => undefined);
    queues.set(spec.stream, tail);
    void tail.then(() => {
      if (queues.get(spec.stream) === tail) queues.delete(spec.stream);
    });
    return run;
  }

  private async attempt<E extends DomainEvent, S>(spec: CommandSpec<E, S>): Promise<CommandResult> {
    const { context, ids } = spec;
    const key = ids.idempotency?.key;
    const firstId = key === undefined ? undefined : ids.event(0, spec.stream);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let state = spec.initialState();
      let expectedRevision: ExpectedRevision = 'no-stream';
      const earlier: RecordedEvent[] = [];
      const unread = attempt === 1 && spec.newStream === true && key === undefined;
      for await (const recorded of unread ? [] : this.store.readStream(spec.stream)) {
        if (firstId !== undefined && (recorded.id === firstId || earlier.length > 0)) {
          if (
            recordedUnderKey(recorded, context, ids.idempotency!) &&
            recorded.metadata.principalId === context.actor?.principalId
          )
            earlier.push(recorded);
        }
        state = spec.evolve(state, asDomainEvent<E>(recorded));
        expectedRevision = recorded.revision;
      }
      if (earlier.length > 0) return this.replay(spec.stream, earlier, context);

      const decided = await spec.decide(state);
      if (decided.length === 0) {
        return {
          stream: spec.stream,
          revision: typeof expectedRevision === 'number' ? expectedRevision : -1,
          position: 0,
          eventIds: [],
          replayed: false,
        };
      }
      const events: NewEvent[] = decided.map((event, i) => ({
        id: ids.event(i, spec.stream),
        type: event.type,
        schemaVersion: event.schemaVersion,
        data: event.data as JsonObject,
        metadata: this.metadata(context, ids),
      }));
      try {
        const result = await this.appendResolving(spec.stream, events, expectedRevision);
        const eventIds = events.map((e) => e.id);
        if (firstId !== undefined) {
          // The store answers an append of ids it already holds, in the same place, as a retry of
          // that append. With a derived id, another process may have stored them for a request
          // with the same key: then they are that request's events, not this one's.
          const stored = await this.eventAt(spec.stream, result.revision - events.length + 1);
          if (stored?.metadata.requestFingerprint !== context.fingerprint) throw new IdempotencyKeyReused();
          const ours =
            stored.metadata.correlationId === context.requestId && stored.metadata.occurredAt === context.now;
          return { stream: spec.stream, ...result, eventIds, replayed: !ours };
        }
        return { stream: spec.stream, ...result, eventIds, replayed: false };
      } catch (error) {
        if (error instanceof WrongExpectedRevision) {
          // Jittered exponential back-off (at most ~0.6 s in all) against writers in other processes.
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(160, 5 * 2 ** attempt)));
          continue;
        }
        if (error instanceof DuplicateEventId) {
          // Our derived id is stored already: in this stream it is a concurrent retry (the next
          // attempt replays it); anywhere else the key was used for another request.
          if (error.existingStream !== spec.stream) throw new IdempotencyKeyReused();
          continue;
        }
        throw error;
      }
    }
    throw new CommandConflict(this.maxAttempts);
  }

  /**
   * Appends; when the store cannot tell whether the append landed, sends it once more exactly as
   * it was (same ids, same expectation), which the store answers as a retry if the first landed.
   * Still unknown after that: `EventStoreOutcomeUnknown` reaches the caller, whose retry with the
   * same Idempotency-Key derives the same ids and is recognised the same way.
   */
  private async appendResolving(
    stream: string,
    events: readonly NewEvent[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> {
    try {
      return await this.store.append(stream, events, { expectedRevision });
    } catch (error) {
      if (!(error instanceof EventStoreOutcomeUnknown)) throw error;
      return await this.store.append(stream, events, { expectedRevision });
    }
  }

  private async eventAt(stream: string, revision: number): Promise<RecordedEvent | undefined> {
    for await (const event of this.store.readStream(stream, { from: revision, maxCount: 1 })) return event;
    return undefined;
  }

  private replay(stream: string, earlier: readonly RecordedEvent[], context: CommandContext): CommandResult {
    if (earlier[0]!.metadata.requestFingerprint !== context.fingerprint) throw new IdempotencyKeyReused();
    const last = earlier[earlier.length - 1]!;
    return {
      stream,
      revision: last.revision,
      position: last.position,
      eventIds: earlier.map((e) => e.id),
      replayed: true,
    };
  }

  private metadata(context: CommandContext, ids: RequestIds): EventMetadata {
    return {
      correlationId: context.requestId,
      causationId: ids.entity('command'),
      occurredAt: context.now,
      ...(context.actor ? { principalId: context.actor.principalId, agencyId: context.actor.agencyId } : {}),
      ...(ids.idempotency !== undefined ? { idempotencyKey: keyAsStored(context, ids.idempotency) } : {}),
      requestFingerprint: context.fingerprint,
      ...traceContext(),
    };
  }
}

/** What the events of a request record of its Idempotency-Key: a keyed digest (id-secret.ts). */
function keyAsStored(context: CommandContext, idempotency: Idempotency): string {
  return storedIdempotencyKey(idempotency.idSecret, context.actor?.principalId ?? 'console', idempotency.key);
}

/**
 * Whether a stored event was recorded under this request's Idempotency-Key: as its digest, or as
 * the key itself in events recorded before keys were digested (those stay as written: the store
 * is immutable; a retry of such a request is still recognised).
 */
function recordedUnderKey(
  recorded: RecordedEvent,
  context: CommandContext,
  idempotency: Idempotency,
): boolean {
  const stored = recorded.metadata.idempotencyKey;
  return stored !== undefined && (stored === keyAsStored(context, idempotency) || stored === idempotency.key);
}

/**
 * The W3C `traceparent` of the request being served (the ids of the ledger's own span), stored in
 * the event's metadata so that the projector and the relay continue its trace. Never a
 * `tracestate`: that is a caller's free text, and the store is immutable (the erasure could not
 * reach it). Empty when tracing is off: the no-op propagator writes nothing.
 */
function traceContext(): { traceparent?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(otelContext.active(), carrier);
  const { traceparent } = carrier;
  return traceparent !== undefined ? { traceparent } : {};
}
