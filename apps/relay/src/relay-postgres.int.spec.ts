import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropSchema,
  openPostgresStore,
  TEST_POSTGRES_URL,
  uniqueSchema,
} from '../../../libs/event-store/test/postgres';
import { AGENCIES, appendPlanned, interleavedCases } from '../test/case-events';
import { afterWithdrawal, compare, expectedDeliveries, storedEvents } from '../test/delivery';
import {
  consumeAll,
  deleteTopics,
  kafkaBrokers,
  killed,
  relayHealthUrl,
  spawnRelay,
  uniquePrefix,
} from '../test/kafka';
import { topicNames } from './routing';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('the relay process on a PostgreSQL event store (EVENT_STORE=postgres)', () => {
  const schema = uniqueSchema('relay');
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-relay-pg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => dropSchema(schema));

  it('publishes every event appended before and while it runs, in order, once', async () => {
    const brokers = kafkaBrokers();
    const prefix = uniquePrefix('pgstore');
    const topics = topicNames(prefix);
    const store = openPostgresStore(schema);
    const { events, withdrawals } = interleavedCases(40);
    let child: ChildProcess | undefined;
    try {
      const revisions = new Map<string, number>();
      const first = Math.floor(events.length / 2);
      await appendPlanned(store, events.slice(0, first), revisions);
      child = await spawnRelay({
        KAFKA_BROKERS: brokers.join(','),
        DATA_DIR: dir,
        RELAY_TOPIC_PREFIX: prefix,
        RELAY_BATCH_SIZE: '25',
        EVENT_STORE: 'postgres',
        EVENT_STORE_URL: TEST_POSTGRES_URL,
        EVENT_STORE_SCHEMA: schema,
        SQLITE_SYNCHRONOUS: 'NORMAL',
      });
      // The rest while it follows the store live.
      for (let i = first; i < events.length; i += 10) {
        await appendPlanned(store, events.slice(i, i + 10), revisions);
        await sleep(20);
      }
      const head = await store.headPosition();
      const running = child;
      const checkpointNow = async (): Promise<number> =>
        ((await (await fetch(relayHealthUrl(running))).json()) as { checkpoint: number }).checkpoint;
      const deadline = Date.now() + 60_000;
      while ((await checkpointNow()) < head && Date.now() < deadline) await sleep(100);
      expect(await checkpointNow()).toBe(head);
      await killed(child, 'SIGTERM');

      const stored = await storedEvents(store);
      const positions = new Map(stored.map((e) => [e.id, e.position]));
      const received = await consumeAll(brokers, prefix);
      const figures = compare(expectedDeliveries(stored, prefix), received, positions);
      const byCase = new Map<string, number>();
      for (const { event } of events)
        if (withdrawals.has(event.id) && typeof event.data.caseId === 'string')
          byCase.set(event.data.caseId, positions.get(event.id)!);
      const leaked = afterWithdrawal(received, topics.agency(AGENCIES.shelter), byCase, positions);
      console.log(
        `relay on postgres: ${stored.length} events, ${figures.expected} expected, ${figures.missing} missing, ` +
          `${figures.duplicates} duplicates, ${figures.keysOutOfOrder} keys out of order, ${leaked.length} after withdrawal`,
      );
      expect(figures).toMatchObject({ missing: 0, unexpected: 0, duplicates: 0, keysOutOfOrder: 0 });
      expect(leaked).toEqual([]);
    } finally {
      if (child) await killed(child);
      await store.close();
      await deleteTopics(brokers, prefix);
    }
  }, 120_000);
});
