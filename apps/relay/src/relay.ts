import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import type { EventStore, RecordedEvent, Subscription } from '@nrm/event-store';
import type { Publisher } from './kafka-publisher';
import { BatchState, type RelayStore } from './relay-store';
import { route, type OutgoingMessage, type TopicNames } from './routing';

/** The calls the relay makes; a pino logger fits as is. Never given a payload or a field value. */
export interface RelayLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RelayOptions {
  readonly store: EventStore;
  readonly relayStore: RelayStore;
  readonly publisher: Publisher;
  readonly topics: TopicNames;
  /** Most events routed and sent as one Kafka batch. Default 500. */
  readonly batchSize?: number;
  /** Waits after a failed batch: doubling from `firstMs` to `maxMs`, then staying there. */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
  readonly logger?: RelayLogger;
}

/** `failed`: it refused to resume (see `RelayResumeRefused`) and waits for a person. */
export type RelayState = 'stopped' | 'connecting' | 'running' | 'retrying' | 'failed' | 'closed';

/**
 * The relay's checkpoint does not name a place in this event store: beyond its last event (the
 * store was restored from an older copy, or replaced), or not the start of an event (the
 * checkpoint was kept from another store). The relay stops rather than guess: resuming from the
 * start would publish everything again to every partner, resuming from the end would never
 * publish what lies between. A person decides, and resets the checkpoint.
 */
export class RelayResumeRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelayResumeRefused';
  }
}

export interface RelayHealth {
  /** True while it delivers or waits for new events; false while Kafka or the store is failing. */
  readonly ok: boolean;
  readonly state: RelayState;
  /** Position of the last event whose messages Kafka acknowledged. */
  readonly checkpoint: number;
  /** Since this process started. */
  readonly eventsRouted: number;
  readonly messagesDelivered: number;
  readonly withheld: number;
  /** Events in the parked table (all time): unmappable, never published, waiting for a person. */
  readonly parked: number;
  /** Failed deliveries since this process started, each retried from the checkpoint. */
  readonly retries: number;
  readonly lastError?: string;
}

export const DEFAULT_RETRY = { firstMs: 200, maxMs: 30_000 } as const;

interface RoutedBatch {
  readonly events: number;
  /** Position of the batch's last event: the checkpoint once it is acknowledged. */
  readonly last: number;
  readonly messages: readonly OutgoingMessage[];
  readonly withheld: number;
  readonly state: BatchState;
  /** One publish span per event that became messages; ended once Kafka answered (see `tracedMessages`). */
  readonly spans: readonly Span[];
}

const SILENT: RelayLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Publishes the event store to Kafka, at least once: it reads the store from its checkpoint, routes
 * each event (see `route`), sends a batch's messages and waits for Kafka to acknowledge all of
 * them, and only then stores the batch's state and the new checkpoint in one transaction. If the
 * process dies or Kafka fails between the send and the commit, the batch is routed again from the
 * committed state and sent again: consumers see duplicates (same event-id header), never a gap.
 * Events that cannot be mapped are parked with their position and reason, and the relay goes on.
 */
export class Relay {
  private readonly store: EventStore;
  private readonly relayStore: RelayStore;
  private readonly publisher: Publisher;
  private readonly topics: TopicNames;
  private readonly batchSize: number;
  private readonly retry: { readonly firstMs: number; readonly maxMs: number };
  private readonly logger: RelayLogger;

  private state: RelayState = 'stopped';
  private loop: Promise<void> | undefined;
  private subscription: Subscription | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private checkpoint = 0;
  private counters = { eventsRouted: 0, messagesDelivered: 0, withheld: 0, retries: 0 };
  private lastError: string | undefined;
  private readonly waiters = new Set<{ position: number; settle: (reached: boolean) => void }>();

  constructor(options: RelayOptions) {
    const batchSize = options.batchSize ?? 500;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1)
      throw new Error('batchSize must be an integer >= 1');
    this.store = options.store;
    this.relayStore = options.relayStore;
    this.publisher = options.publisher;
    this.topics = options.topics;
    this.batchSize = batchSize;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.logger = options.logger ?? SILENT;
  }

  /** Starts delivering in the background from the stored checkpoint; failures are retried, see `health()`. */
  start(): void {
    if (this.state === 'closed') throw new Error('the relay is closed');
    if (this.loop) return;
    this.stopping = false;
    this.checkpoint = this.relayStore.checkpoint();
    this.loop = this.run();
  }

  /** Stops after the batch in flight (committed if Kafka acknowledged it) and disconnects from Kafka. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.wake?.();
    await this.subscription?.close();
    await this.loop;
    this.loop = undefined;
    this.state = 'stopped';
    for (const waiter of [...this.waiters]) waiter.settle(false);
  }

  health(): RelayHealth {
    return {
      ok: this.state === 'running',
      state: this.state,
      checkpoint: this.checkpoint,
      ...this.counters,
      parked: this.relayStore.parkedCount(),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Resolves true once every event up to `position` is delivered (or parked), false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.checkpoint >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        position,
        settle: (reached: boolean) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), Math.max(0, timeoutMs));
      this.waiters.add(waiter);
    });
  }

  private async run(): Promise<void> {
    let backoff = this.retry.firstMs;
    while (!this.stopping) {
      try {
        this.state = 'connecting';
        await this.publisher.connect();
        if (this.stopping) break;
        const from = this.relayStore.checkpoint();
        this.checkpoint = from;
        await this.checkResume(from);
        await this.refold();
        if (this.stopping) break;
        const subscription = this.store.subscribe({ fromPosition: from === 0 ? 'start' : { after: from } });
        this.subscription = subscription;
        this.state = 'running';
        this.logger.info(
          { fromPosition: from, retries: this.counters.retries },
          this.counters.retries === 0 ? 'relay started' : 'relay resumed from its checkpoint',
        );
        // Pipelined: the next batch is routed while the previous one waits for Kafka's acknowledgement,
        // on top of that batch's not yet committed state; it is sent only once the previous one is
        // acknowledged and committed, so commits (and checkpoints) stay in order.
        let previous: BatchState | undefined;
        let inFlight: Promise<void> = Promise.resolve();
        for await (const batch of inBatches(subscription, this.batchSize)) {
          if (this.stopping) break;
          // The batch before `previous` is committed by now: its state lives in the relay store.
          previous?.rebase(this.relayStore);
          const routed = this.routeBatch(batch, new BatchState(previous ?? this.relayStore));
          await inFlight;
          previous = routed.state;
          inFlight = this.send(routed).then(
            () => {
              backoff = this.retry.firstMs;
            },
            (error: unknown) => {
              // Ends the loop even while it waits for new events; the error is rethrown below.
              void subscription.close();
              throw error;
            },
          );
          inFlight.catch(() => undefined); // awaited before the next send, or after the loop
        }
        await inFlight;
      } catch (error) {
        if (this.stopping) break;
        if (error instanceof RelayResumeRefused) {
          this.lastError = error.message;
          this.state = 'failed';
          this.logger.error({ checkpoint: this.checkpoint }, `relay stopped: ${error.message}`);
          await this.publisher.disconnect();
          for (const waiter of [...this.waiters]) waiter.settle(false);
          return;
        }
        this.counters.retries++;
        this.lastError = messageOf(error);
        this.state = 'retrying';
        this.logger.warn(
          { err: this.lastError, checkpoint: this.checkpoint, retryInMs: backoff },
          'delivery failed: resuming from the checkpoint after a back-off',
        );
        await this.subscription?.close().catch(() => undefined);
        await this.publisher.disconnect();
        await this.pause(backoff);
        backoff = Math.min(backoff * 2, this.retry.maxMs);
      }
    }
    await this.subscription?.close().catch(() => undefined);
    this.subscription = undefined;
    await this.publisher.disconnect();
  }

  /** Refuses to resume from a checkpoint that does not name a place in this store (see `RelayResumeRefused`). */
  private async checkResume(from: number): Promise<void> {
    if (from === 0) return;
    const head = await this.store.headPosition();
    if (head < from)
      throw new RelayResumeRefused(
        `its checkpoint ${from} lies beyond the event store's last event (${head}): the store was restored from an older copy or replaced since the relay last ran. Nothing is published until a person resets the checkpoint.`,
      );
    if (this.store.isRecordStart !== undefined && !(await this.store.isRecordStart(from)))
      throw new RelayResumeRefused(
        `no event of the event store starts at its checkpoint ${from}: the checkpoint was kept from another store (a migration or a restore). Nothing is published until a person resets the checkpoint.`,
      );
  }

  /**
   * Folds the state again from the event store's start up to the checkpoint, publishing nothing,
   * when the relay's file was migrated from an older state shape (see `RelayStore.refoldUpTo`):
   * the same `route` as delivery, so the state is the one a relay rebuilt from scratch holds. A
   * refold cut short starts again from an empty state at the next start.
   */
  private async refold(): Promise<void> {
    const upTo = this.relayStore.refoldUpTo();
    if (upTo === undefined) return;
    this.logger.info({ upTo }, 'relay state folded again from the event store (new state shape)');
    this.relayStore.beginRefold();
    let state = new BatchState(this.relayStore);
    let events = 0;
    for await (const event of this.store.readAll({ fromPosition: 'start' })) {
      if (event.position > upTo) break;
      const routing = route(event, state, this.topics);
      if (routing.kind === 'publish') state.apply(routing.change);
      if (++events % this.batchSize === 0) {
        this.relayStore.commit(state.commitOf(upTo));
        state = new BatchState(this.relayStore);
      }
    }
    this.relayStore.commit(state.commitOf(upTo));
    this.relayStore.endRefold();
  }

  /** Routes one batch on `state`: the messages to send, and the state to commit once they are acknowledged. */
  private routeBatch(batch: readonly RecordedEvent[], state: BatchState): RoutedBatch {
    const messages: OutgoingMessage[] = [];
    const spans: Span[] = [];
    let withheld = 0;
    for (const event of batch) {
      const routing = route(event, state, this.topics);
      if (routing.kind === 'park') {
        state.park({ position: event.position, eventId: event.id, type: event.type, reason: routing.reason });
        this.logger.warn(
          { position: event.position, type: event.type, reason: routing.reason },
          'event parked: it cannot be mapped to a contract and is not published',
        );
        continue;
      }
      state.apply(routing.change);
      messages.push(...tracedMessages(event, routing.messages, spans));
      withheld += routing.withheld;
    }
    return {
      events: batch.length,
      last: batch[batch.length - 1]?.position ?? this.checkpoint,
      messages,
      withheld,
      state,
      spans,
    };
  }

  /** Sends a routed batch and commits its state and checkpoint once Kafka acknowledged all of it. */
  private async send(batch: RoutedBatch): Promise<void> {
    try {
      await this.publisher.publish(batch.messages);
    } catch (error) {
      for (const span of batch.spans) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.name : 'error',
        });
        span.end();
      }
      throw error;
    }
    for (const span of batch.spans) span.end();
    this.relayStore.commit(batch.state.commitOf(batch.last));
    this.checkpoint = batch.last;
    this.counters.eventsRouted += batch.events;
    this.counters.messagesDelivered += batch.messages.length;
    this.counters.withheld += batch.withheld;
    this.lastError = undefined;
    this.logger.debug(
      {
        events: batch.events,
        messages: batch.messages.length,
        withheld: batch.withheld,
        checkpoint: batch.last,
      },
      'batch delivered',
    );
    for (const waiter of [...this.waiters]) if (waiter.position <= this.checkpoint) waiter.settle(true);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

const WAITING = Symbol('waiting');

/** Lets timers and I/O run: catch-up reads from SQLite resolve within microtasks only. */
function nextTurn(): Promise<typeof WAITING> {
  return new Promise((resolve) => setImmediate(() => resolve(WAITING)));
}

/**
 * Groups a subscription's events into batches: everything already read (the catch-up, or a burst
 * of appends) up to `max`, and whatever has arrived once the subscription has to wait for the store.
 * Ending the batches (a failed batch, a stop) closes the subscription: the read-ahead may be
 * waiting for appends that never come, and only closing ends that wait.
 */
export async function* inBatches<T>(
  source: AsyncIterable<T> & { close(): Promise<void> },
  max: number,
): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    let next = iterator.next();
    for (;;) {
      const first = await next;
      if (first.done) return;
      const batch = [first.value];
      next = iterator.next();
      let ended = false;
      // One turn for the whole batch: what arrives before it (within microtasks) was ready already.
      const turn = nextTurn();
      while (batch.length < max) {
        const ready = await Promise.race([next, turn]);
        if (ready === WAITING) break;
        if (ready.done) {
          ended = true;
          break;
        }
        batch.push(ready.value);
        next = iterator.next();
      }
      yield batch;
      if (ended) return;
    }
  } finally {
    await source.close();
    await iterator.return?.();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Starts a publish span for one event's messages, a child of the span that appended the event (the
 * W3C context stored in its metadata), and puts that span's `traceparent` in every message's
 * headers, so that an agency's consumer can continue the trace. The span names the event type, its
 * position and the topics; never a key (case ids) or a payload. Without tracing the messages are
 * returned unchanged: the no-op propagator writes no header.
 */
function tracedMessages(
  event: RecordedEvent,
  messages: readonly OutgoingMessage[],
  spans: Span[],
): readonly OutgoingMessage[] {
  if (messages.length === 0) return messages;
  // The traceparent only: a tracestate stored by an older version is a caller's text, never published.
  const { traceparent } = event.metadata;
  const parent = propagation.extract(ROOT_CONTEXT, typeof traceparent === 'string' ? { traceparent } : {});
  const span = trace.getTracer('nrm-ledger').startSpan(
    `publish ${event.type}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'publish',
        'messaging.destination.name': [...new Set(messages.map((m) => m.topic))].join(','),
        'messaging.batch.message_count': messages.length,
        'nrm.event.type': event.type,
        'nrm.event.position': event.position,
      },
    },
    parent,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  if (!span.isRecording() && Object.keys(carrier).length === 0) return messages;
  spans.push(span);
  return messages.map((m) => ({ ...m, headers: { ...m.headers, ...carrier } }));
}
