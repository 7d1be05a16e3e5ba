/**
 * What a consumer should have received, and how what it did receive compares: the figures the
 * relay's delivery tests print and assert (missing, duplicates, order per key, withdrawal).
 */
import type { EventStore, RecordedEvent } from '@nrm/event-store';
import { BatchState } from '../src/relay-store';
import { route, topicNames, type RelayStateView } from '../src/routing';
import type { Received } from './kafka';

const NOTHING_YET: RelayStateView = {
  caseState: () => undefined,
  referral: () => undefined,
  agencyKind: () => undefined,
};

export interface Expected {
  readonly topic: string;
  readonly key: string;
  readonly eventId: string;
  readonly position: number;
}

export async function storedEvents(store: EventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
}

/** One uninterrupted routing pass over the whole store, in memory: what must reach Kafka. */
export function expectedDeliveries(events: readonly RecordedEvent[], prefix: string): Expected[] {
  const topics = topicNames(prefix);
  const state = new BatchState(NOTHING_YET);
  const expected: Expected[] = [];
  for (const event of events) {
    const routing = route(event, state, topics);
    if (routing.kind === 'park') continue;
    state.apply(routing.change);
    for (const m of routing.messages)
      expected.push({ topic: m.topic, key: m.key, eventId: event.id, position: event.position });
  }
  return expected;
}

export interface DeliveryFigures {
  readonly expected: number;
  readonly received: number;
  /** Expected (topic, event id) pairs that never arrived. */
  readonly missing: number;
  /** Arrivals of a (topic, event id) pair already received: allowed (at least once), counted. */
  readonly duplicates: number;
  /** Arrivals that no routing pass would have sent. */
  readonly unexpected: number;
  /** Keys whose first arrivals are not in store order. */
  readonly keysOutOfOrder: number;
}

export function compare(
  expected: readonly Expected[],
  received: readonly Received[],
  positions: ReadonlyMap<string, number>,
): DeliveryFigures {
  const wanted = new Set(expected.map((e) => `${e.topic}|${e.eventId}`));
  const seen = new Set<string>();
  let duplicates = 0;
  let unexpected = 0;
  const lastByKey = new Map<string, number>();
  const outOfOrder = new Set<string>();
  for (const r of received) {
    const id = `${r.topic}|${r.eventId}`;
    if (!wanted.has(id)) unexpected++;
    if (seen.has(id)) {
      duplicates++;
      continue;
    }
    seen.add(id);
    // Per key (a case, or a referral on the coordinator's topic), first arrivals follow the store's order.
    const key = `${r.topic}|${r.key}`;
    const position = positions.get(r.eventId) ?? -1;
    if (position < (lastByKey.get(key) ?? 0)) outOfOrder.add(key);
    lastByKey.set(key, position);
  }
  let missing = 0;
  for (const id of wanted) if (!seen.has(id)) missing++;
  return {
    expected: wanted.size,
    received: received.length,
    missing,
    duplicates,
    unexpected,
    keysOutOfOrder: outOfOrder.size,
  };
}

/** Messages to an agency about a case after the case's withdrawal of that agency's consent. */
export function afterWithdrawal(
  received: readonly Received[],
  agencyTopic: string,
  withdrawalPositionByCase: ReadonlyMap<string, number>,
  positions: ReadonlyMap<string, number>,
): Received[] {
  return received.filter((r) => {
    if (r.topic !== agencyTopic) return false;
    const withdrawnAt = withdrawalPositionByCase.get(r.key);
    return withdrawnAt !== undefined && (positions.get(r.eventId) ?? 0) > withdrawnAt;
  });
}
