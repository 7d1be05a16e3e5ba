import type { ExpectedRevision } from './event-store';

/** Base of every error the event store raises on purpose; `code` is stable. */
export abstract class EventStoreError extends Error {
  abstract readonly code: string;

  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The stream's actual revision differs from what the caller expected. */
export class WrongExpectedRevision extends EventStoreError {
  readonly code = 'EVENT_STORE.WRONG_EXPECTED_REVISION';

  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** Revision of the stream's last event, or 'no-stream'. */
    readonly actual: number | 'no-stream',
  ) {
    super(
      `stream ${JSON.stringify(stream)}: expected revision ${String(expected)}, actual ${String(actual)}`,
    );
  }
}

/** An event id that is already stored at another place (another stream or revision). */
export class DuplicateEventId extends EventStoreError {
  readonly code = 'EVENT_STORE.DUPLICATE_EVENT_ID';

  constructor(
    readonly eventId: string,
    readonly existingStream: string,
    readonly existingRevision: number,
  ) {
    super(`event id ${eventId} is already stored in another place`);
  }
}

/** The append (or read) request itself is malformed; nothing was stored. */
export class InvalidEventStoreInput extends EventStoreError {
  readonly code = 'EVENT_STORE.INVALID_INPUT';

  constructor(
    /** Where the fault is, e.g. `stream`, `events[2].data.address.city`. */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export class EventStoreClosed extends EventStoreError {
  readonly code = 'EVENT_STORE.CLOSED';

  constructor() {
    super('the event store is closed');
  }
}

/**
 * The store's server cannot be reached, refused this client, or did not answer in
 * time. Worth retrying later. An append answered so was not stored (where the
 * adapter cannot tell, it answers `EventStoreOutcomeUnknown` instead).
 */
export class EventStoreUnavailable extends EventStoreError {
  readonly code = 'EVENT_STORE.UNAVAILABLE';

  constructor(
    /** Why, for logs and health; never contains credentials. */
    readonly reason: string,
  ) {
    super(`the event store is unavailable: ${reason}`);
  }
}

/** The stored data cannot be opened by this version of the code. */
export class EventStoreSchemaError extends EventStoreError {
  readonly code = 'EVENT_STORE.SCHEMA';

  constructor(message: string) {
    super(message);
  }
}

/**
 * An append was sent, and no answer came that says whether it was stored: the
 * connection dropped, the deadline passed, the request was cancelled, or the
 * server's replication did not confirm the write in time (it may still commit it
 * later). The adapter has looked for the events on the leader and found neither
 * them nor a later write that rules them out.
 *
 * Sending the same append again, with the same event ids and the same
 * expectation, is safe: the store answers it as a retry if the first one landed
 * (now or later), and stores it otherwise. Sending the facts again under new ids
 * may record them twice.
 */
export class EventStoreOutcomeUnknown extends EventStoreError {
  readonly code = 'EVENT_STORE.OUTCOME_UNKNOWN';

  constructor(
    readonly stream: string,
    /** What went wrong with the answer, for logs; never contains credentials or event data. */
    readonly reason: string,
  ) {
    super(`the outcome of an append to ${JSON.stringify(stream)} is unknown: ${reason}`);
  }
}
