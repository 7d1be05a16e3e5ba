import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@nrm/event-store';
import { appendPlanned, interleavedCases } from '../test/case-events';
import { compare, expectedDeliveries, storedEvents } from '../test/delivery';
import { consumeAll, kafkaScript, uniquePrefix } from '../test/kafka';
import { KafkaPublisher } from './kafka-publisher';
import { Relay } from './relay';
import { RelayStore } from './relay-store';
import { topicNames } from './routing';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Stopping the broker mid-stream must not disturb other tests: this suite starts a broker of its
 * own, on other ports and in another directory, with scripts/kafka.sh, and stops it after.
 */
const PORT = Number(process.env.RELAY_RESTART_KAFKA_PORT ?? 19192);
const brokerDir = mkdtempSync(join(tmpdir(), 'nrm-kafka-restart-'));
const brokerEnv = { KAFKA_PORT: String(PORT), NRM_KAFKA_DIR: brokerDir };
const brokers = [`127.0.0.1:${PORT}`];

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

describe('the relay when the Kafka broker stops and comes back', () => {
  beforeAll(async () => {
    await kafkaScript('start', brokerEnv);
  }, 300_000);

  afterAll(async () => {
    await kafkaScript('stop', brokerEnv).catch(() => undefined);
    rmSync(brokerDir, { recursive: true, force: true });
  }, 60_000);

  it('retries with a bounded back-off and resumes from its checkpoint: nothing lost, order kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nrm-relay-restart-'));
    const prefix = uniquePrefix('restart');
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    const relayStore = new RelayStore(join(dir, 'relay.sqlite'), { synchronous: 'NORMAL' });
    const relay = new Relay({
      store,
      relayStore,
      publisher: new KafkaPublisher({ brokers, clientId: 'relay-restart-test' }),
      topics: topicNames(prefix),
      batchSize: 25,
      retry: { firstMs: 100, maxMs: 1000 },
    });
    try {
      const { events } = interleavedCases(Number(process.env.RELAY_RESTART_CASES ?? 60));
      const revisions = new Map<string, number>();
      const third = Math.floor(events.length / 3);
      await appendPlanned(store, events.slice(0, third), revisions);
      relay.start();
      expect(await relay.waitFor(Math.floor(third / 2), 30_000)).toBe(true);

      // The broker goes away while events keep being appended.
      const stopped = Date.now();
      const stopping = kafkaScript('stop', brokerEnv);
      await appendPlanned(store, events.slice(third, 2 * third), revisions);
      await stopping;
      expect(await until(() => relay.health().state === 'retrying', 30_000)).toBe(true);
      await appendPlanned(store, events.slice(2 * third), revisions);
      await sleep(1500); // a few retries against the absent broker
      const whileDown = relay.health();
      expect(whileDown.ok).toBe(false);
      expect(whileDown.checkpoint).toBeLessThan(await store.headPosition());

      await kafkaScript('start', brokerEnv);
      const downSeconds = (Date.now() - stopped) / 1000;
      const head = await store.headPosition();
      expect(await relay.waitFor(head, 60_000)).toBe(true);
      expect(relay.health()).toMatchObject({ ok: true, state: 'running', checkpoint: head });

      const stored = await storedEvents(store);
      const received = await consumeAll(brokers, prefix);
      const figures = compare(
        expectedDeliveries(stored, prefix),
        received,
        new Map(stored.map((e) => [e.id, e.position])),
      );
      process.stdout.write(
        `relay broker-restart test: broker down ${downSeconds.toFixed(1)} s, ${relay.health().retries} retries, ` +
          `${stored.length} events, ${figures.expected} expected, ${figures.missing} missing, ` +
          `${figures.duplicates} duplicates, ${figures.keysOutOfOrder} keys out of order\n`,
      );
      expect(figures).toMatchObject({ missing: 0, unexpected: 0, keysOutOfOrder: 0 });
      expect(relay.health().retries).toBeGreaterThan(0);
    } finally {
      await relay.stop();
      relayStore.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
