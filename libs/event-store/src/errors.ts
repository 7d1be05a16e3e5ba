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
 * time. Worth retrying later. For an append the outcome is unknown: it may have been
 * stored. Retry it with the same event ids (and expectation); the store recognises
 * the retry and stores nothing twice.
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
