/**
 * Benchmark `relay`: events/s delivered to Kafka by the relay (read from the SQLite store from its
 * checkpoint, consent folded, routed per agency, sent with an idempotent producer and acks=all,
 * checkpoint and state committed after each acknowledged batch) against a raw kafkajs producer
 * with the same settings sending the very same messages, in the same batches, to the same broker.
 * Alternating rounds, medians. Uses the broker in KAFKA_BROKERS, or starts scripts/kafka.sh's
 * (and stops it again if it started it).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { SqliteEventStore, type RecordedEvent } from '@nrm/event-store';
import { KafkaPublisher } from '../apps/relay/src/kafka-publisher';
import { Relay } from '../apps/relay/src/relay';
import { BatchState, RelayStore } from '../apps/relay/src/relay-store';
import { route, topicNames, type OutgoingMessage, type RelayStateView } from '../apps/relay/src/routing';
import { appendPlanned, interleavedCases } from '../apps/relay/test/case-events';
import { benchDir, environment, round, writeResult } from './lib';

const SCRIPT = join(process.cwd(), 'scripts', 'kafka.sh');
const NOTHING_YET: RelayStateView = {
  caseState: () => undefined,
  referral: () => undefined,
  agencyKind: () => undefined,
};

/** A broker to measure against, and whether this run started it. */
function broker(): { brokers: string[]; started: boolean } {
  if (process.env.KAFKA_BROKERS) return { brokers: process.env.KAFKA_BROKERS.split(','), started: false };
  let running = true;
  try {
    execFileSync('bash', [SCRIPT, 'status'], { stdio: 'ignore' });
  } catch {
    running = false;
  }
  execFileSync('bash', [SCRIPT, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { brokers: [`127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`], started: !running };
}

/** The relay's batches and their messages, as one uninterrupted routing pass makes them. */
function batchesOf(events: readonly RecordedEvent[], prefix: string, batchSize: number): OutgoingMessage[][] {
  const state = new BatchState(NOTHING_YET);
  const topics = topicNames(prefix);
  const batches: OutgoingMessage[][] = [];
  for (let i = 0; i < events.length; i += batchSize) {
    const batch: OutgoingMessage[] = [];
    for (const event of events.slice(i, i + batchSize)) {
      const routing = route(event, state, topics);
      if (routing.kind === 'park') continue;
      state.apply(routing.change);
      batch.push(...routing.messages);
    }
    batches.push(batch);
  }
  return batches;
}

async function createTopics(kafka: Kafka, topics: Iterable<string>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [...new Set(topics)].map((topic) => ({ topic })),
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

/** The benchmark's topics go once it is done: the broker is shared with the tests. */
async function deleteTopics(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

async function runOurs(
  store: SqliteEventStore,
  brokers: string[],
  prefix: string,
  dir: string,
  batchSize: number,
  head: number,
): Promise<number> {
  const relayStore = new RelayStore(join(dir, `relay-${prefix}sqlite`));
  const relay = new Relay({
    store,
    relayStore,
    publisher: new KafkaPublisher({ brokers, clientId: 'bench-relay' }),
    topics: topicNames(prefix),
    batchSize,
  });
  const started = process.hrtime.bigint();
  relay.start();
  const done = await relay.waitFor(head, 300_000);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await relay.stop();
  relayStore.close();
  if (!done) throw new Error('the relay did not deliver the store within 300 s');
  return seconds;
}

async function runBaseline(kafka: Kafka, batches: readonly OutgoingMessage[][]): Promise<number> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const started = process.hrtime.bigint();
  await producer.connect();
  for (const batch of batches) {
    if (batch.length === 0) continue;
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const m of batch) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers } })),
      })),
    });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.disconnect();
  return seconds;
}

export async function runRelayBenchmark(
  options: { cases?: number; rounds?: number; batchSize?: number } = {},
) {
  const cases = options.cases ?? Number(process.env.BENCH_RELAY_CASES ?? 400);
  const rounds = options.rounds ?? 6;
  const batchSize = options.batchSize ?? 500;
  const { brokers, started } = broker();
  const kafka = new Kafka({ clientId: 'bench-relay-baseline', brokers, logLevel: logLevel.NOTHING });
  const dir = benchDir('relay');
  const run = `bench.relay.${Date.now().toString(36)}`;
  try {
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    await appendPlanned(store, interleavedCases(cases).events);
    const events: RecordedEvent[] = [];
    for await (const e of store.readAll()) events.push(e);
    const head = events[events.length - 1]?.position ?? 0;

    const ours: number[] = [];
    const baseline: number[] = [];
    let messages = 0;
    for (let i = 0; i < rounds; i++) {
      // Fresh topics per round and side, created before the clock starts for both.
      const oursPrefix = `${run}.r${i}.ours.`;
      const basePrefix = `${run}.r${i}.base.`;
      const oursBatches = batchesOf(events, oursPrefix, batchSize);
      const baseBatches = batchesOf(events, basePrefix, batchSize);
      messages = baseBatches.reduce((n, b) => n + b.length, 0);
      await createTopics(
        kafka,
        [...oursBatches.flat(), ...baseBatches.flat()].map((m) => m.topic),
      );
      // Who goes first alternates, so that a warmer broker favours neither side.
      if (i % 2 === 0) {
        ours.push(events.length / (await runOurs(store, brokers, oursPrefix, dir, batchSize, head)));
        baseline.push(events.length / (await runBaseline(kafka, baseBatches)));
      } else {
        baseline.push(events.length / (await runBaseline(kafka, baseBatches)));
        ours.push(events.length / (await runOurs(store, brokers, oursPrefix, dir, batchSize, head)));
      }
    }
    await store.close();

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const o = round(median(ours));
    const b = round(median(baseline));
    const perEvent = messages / events.length;
    const result = {
      name: 'relay',
      ...environment(),
      what: `relay from a SQLite store of ${events.length} events (${cases} cases) to Kafka: consent folded, routed per agency, idempotent producer, acks=-1, one request in flight, checkpoint+state committed (synchronous=FULL) after each acknowledged batch of ${batchSize} events; median of ${rounds}`,
      baselineWhat:
        'raw kafkajs producer, same settings (idempotent, acks=-1, maxInFlightRequests 1, Java partitioner), sending the same messages in the same batches to the same broker',
      aim: 'ratio >= 0.7',
      events: events.length,
      messages,
      oursEventsPerSec: o,
      baselineEventsPerSec: b,
      oursMessagesPerSec: round(o * perEvent),
      baselineMessagesPerSec: round(b * perEvent),
      rounds: { ours: ours.map((x) => round(x)), baseline: baseline.map((x) => round(x)) },
      ratio: round(o / b, 3),
    };
    console.log(`\nrelay benchmark: ${events.length} events -> ${messages} messages, ${rounds} rounds`);
    console.log(`  ours     ${o} events/s (${result.oursMessagesPerSec} messages/s) through the relay`);
    console.log(
      `  baseline ${b} events/s (${result.baselineMessagesPerSec} messages/s) raw kafkajs producer`,
    );
    console.log(`  ratio    ${result.ratio} (aim >= 0.7)`);
    console.log(`written ${writeResult('relay', result)}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await deleteTopics(kafka, run).catch(() => undefined);
    if (started) execFileSync('bash', [SCRIPT, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

if (require.main === module) {
  runRelayBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
