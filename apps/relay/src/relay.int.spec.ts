import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AgencyIntegrationEvent, CoordinatorIntegrationEvent } from '@nrm/contracts';
import { SqliteEventStore } from '@nrm/event-store';
import { AGENCIES, appendPlanned, interleavedCases, type PlannedEvent } from '../test/case-events';
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
import { relayStoreFile } from './relay-process';
import { KafkaPublisher } from './kafka-publisher';
import { Relay } from './relay';
import { RelayStore } from './relay-store';
import { topicNames } from './routing';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Where each case's consent for the shelter was withdrawn, by case id (the agency topics' key). */
function withdrawalPositions(
  events: readonly PlannedEvent[],
  withdrawals: ReadonlySet<string>,
  positions: ReadonlyMap<string, number>,
) {
  const byCase = new Map<string, number>();
  for (const { event } of events) {
    const caseId = event.data.caseId;
    if (!withdrawals.has(event.id) || typeof caseId !== 'string') continue;
    byCase.set(caseId, positions.get(event.id)!);
  }
  return byCase;
}

describe('the relay on a real Kafka broker', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-relay-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('attack: a receiver whose referral was declined or withdrawn in error gets nothing more of the case', async () => {
    const brokers = kafkaBrokers();
    const prefix = uniquePrefix('standing');
    const topics = topicNames(prefix);
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    const relayStore = new RelayStore(join(dir, 'relay.sqlite'), { synchronous: 'NORMAL' });
    const relay = new Relay({
      store,
      relayStore,
      publisher: new KafkaPublisher({ brokers, clientId: 'relay-standing-test' }),
      topics,
      batchSize: 3,
    });
    const AT = '2026-10-05T08:00:00.000Z';
    const sender = 'police-standing';
    let n = 0;
    const planned = (stream: string, type: string, data: object): PlannedEvent => ({
      stream,
      event: {
        id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
        type,
        schemaVersion: 1,
        data: data as never,
        metadata: { correlationId: `c-${n}`, occurredAt: AT },
      },
    });
    /** One case whose referral to `receiver` ends by `end`, then two events consent covers for it. */
    const history = (caseId: string, receiver: string, end: 'declined' | 'withdrawn') => {
      const ref = `${caseId}-ref`;
      const ended =
        end === 'declined'
          ? planned(`referral-${ref}`, 'ReferralDeclined', {
              referralId: ref,
              caseId,
              byAgencyId: receiver,
              reason: 'no-capacity',
              declinedAt: AT,
            })
          : planned(`referral-${ref}`, 'ReferralWithdrawn', {
              referralId: ref,
              caseId,
              byAgencyId: sender,
              reason: 'sent-in-error',
              withdrawnAt: AT,
            });
      return {
        ended,
        events: [
          planned(`case-${caseId}`, 'PotentialVictimReported', {
            caseId,
            subjectId: `${caseId}-subject`,
            reportedByAgencyId: sender,
            reportedByAgencyKind: 'law-enforcement',
            reportedAt: AT,
            region: 'north',
            minor: false,
            indicators: ['deception'],
            exploitationForms: ['labour'],
          }),
          planned(`consent-${caseId}`, 'ConsentGranted', {
            caseId,
            consentId: `${caseId}-consent`,
            recordedByAgencyId: 'clinic-standing',
            recordedByPrincipalId: 'p',
            agencyIds: [receiver],
            categories: ['case-status', 'exploitation'],
            purposes: ['assistance'],
            expiresAt: '2030-01-01T00:00:00Z',
            capture: { method: 'written', language: 'ro', interpreterUsed: false },
            grantedAt: AT,
          }),
          planned(`referral-${ref}`, 'ReferralMade', {
            referralId: ref,
            caseId,
            fromAgencyId: sender,
            fromAgencyKind: 'law-enforcement',
            toAgencyId: receiver,
            toAgencyKind: 'ngo',
            transnational: false,
            purpose: 'assistance',
            servicesRequested: ['accommodation'],
            urgency: 'routine',
            respondBy: AT,
            sharedCategories: ['case-status'],
            madeByPrincipalId: 'p',
            madeAt: AT,
          }),
          ended,
          planned(`identification-${caseId}`, 'IndicatorsAssessed', {
            caseId,
            outcome: 'indicators-present',
            indicatorsConfirmed: ['deception'],
            exploitationForms: ['labour'],
            assessedByAgencyId: sender,
            assessedAt: AT,
          }),
          planned(`support-${caseId}`, 'ReflectionPeriodStarted', {
            caseId,
            startsOn: '2026-10-05',
            endsOn: '2026-11-04',
            days: 30,
            startedByAgencyId: sender,
            startedAt: AT,
          }),
        ],
      };
    };
    const declined = history('case-standing-1', 'ngo-declines', 'declined');
    const withdrawn = history('case-standing-2', 'ngo-in-error', 'withdrawn');
    try {
      const head = await appendPlanned(store, [...declined.events, ...withdrawn.events]);
      relay.start();
      expect(await relay.waitFor(head, 30_000)).toBe(true);
      const stored = await storedEvents(store);
      const positions = new Map(stored.map((e) => [e.id, e.position]));
      const received = await consumeAll(brokers, prefix);
      const after = (receiver: string, end: PlannedEvent) =>
        received.filter(
          (r) =>
            r.topic === topics.agency(receiver) && positions.get(r.eventId)! >= positions.get(end.event.id)!,
        ).length;
      const before = (receiver: string) => received.filter((r) => r.topic === topics.agency(receiver)).length;
      const counts = {
        declinedBefore: before('ngo-declines'),
        declinedAfter: after('ngo-declines', declined.ended),
        withdrawnBefore: before('ngo-in-error'),
        withdrawnAfter: after('ngo-in-error', withdrawn.ended),
      };
      process.stdout.write(`relay standing attack: ${JSON.stringify(counts)}\n`);
      // Consent covered them: each got its referral; nothing from the end of it on.
      expect(counts).toEqual({ declinedBefore: 1, declinedAfter: 0, withdrawnBefore: 1, withdrawnAfter: 0 });
    } finally {
      await relay.stop();
      relayStore.close();
      await store.close();
      await deleteTopics(brokers, prefix);
    }
  }, 60_000);

  it('delivers a scenario to each party, cut to its consent, and the handoffs to the coordinator; parks what it cannot map', async () => {
    const brokers = kafkaBrokers();
    const prefix = uniquePrefix('scenario');
    const topics = topicNames(prefix);
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    const relayStore = new RelayStore(join(dir, 'relay.sqlite'), { synchronous: 'NORMAL' });
    const relay = new Relay({
      store,
      relayStore,
      publisher: new KafkaPublisher({ brokers, clientId: 'relay-scenario-test' }),
      topics,
      batchSize: 7,
    });
    try {
      const { events, withdrawals } = interleavedCases(3);
      const half = Math.floor(events.length / 2);
      const revisions = new Map<string, number>();
      await appendPlanned(store, events.slice(0, half), revisions);
      relay.start();
      // Live appends too, and one event of a case stream that no contract knows: parked, not published.
      await appendPlanned(store, events.slice(half), revisions);
      const odd = await store.append(
        'support-unknown-case',
        [
          {
            id: '6f1e0a52-3c4b-4d7e-9a51-0b2c8d9e7f10',
            type: 'SupportPaused',
            schemaVersion: 1,
            data: { caseId: 'unknown-case' },
            metadata: { correlationId: 'c-odd', occurredAt: '2026-10-05T12:00:00.000Z' },
          },
        ],
        { expectedRevision: 'no-stream' },
      );
      expect(await relay.waitFor(odd.position, 30_000)).toBe(true);

      const stored = await storedEvents(store);
      const positions = new Map(stored.map((e) => [e.id, e.position]));
      const received = await consumeAll(brokers, prefix);
      const figures = compare(expectedDeliveries(stored, prefix), received, positions);
      expect(figures).toMatchObject({ missing: 0, duplicates: 0, unexpected: 0, keysOutOfOrder: 0 });

      // The shelter hears nothing of a case after its consent there was withdrawn.
      const byCase = withdrawalPositions(events, withdrawals, positions);
      expect(byCase.size).toBe(3);
      expect(afterWithdrawal(received, topics.agency(AGENCIES.shelter), byCase, positions)).toEqual([]);
      const shelterNotices = received.filter(
        (r) => r.topic === topics.agency(AGENCIES.shelter) && r.type === 'nrm.consent.withdrawn.v1',
      );
      expect(shelterNotices).toHaveLength(3);

      // Each party gets its own contracts; nothing identifying reaches the coordinator.
      const ngoContracts = new Set(
        received.filter((r) => r.topic === topics.agency(AGENCIES.ngo)).map((r) => r.type),
      );
      expect([...ngoContracts].sort()).toEqual([
        'nrm.referral.received.v1',
        'nrm.referral.status-changed.v1',
        'nrm.support.updated.v1',
      ]);
      const caseIds = new Set(received.filter((r) => r.topic !== topics.coordinator).map((r) => r.key));
      for (const r of received.filter((m) => m.topic === topics.coordinator)) {
        const handoff = JSON.parse(r.value) as CoordinatorIntegrationEvent;
        expect(handoff.contract).toBe('nrm.coordinator.handoff.v1');
        for (const caseId of caseIds) expect(r.value).not.toContain(caseId);
      }
      for (const r of received.filter((m) => m.topic !== topics.coordinator)) {
        const message = JSON.parse(r.value) as AgencyIntegrationEvent;
        expect(message.eventId).toBe(r.eventId);
        expect(message.contract).toBe(r.type);
      }

      expect(relayStore.parked()).toEqual([
        {
          position: odd.position,
          eventId: '6f1e0a52-3c4b-4d7e-9a51-0b2c8d9e7f10',
          type: 'SupportPaused',
          reason: 'unknown event type SupportPaused in a case stream',
          parkedAt: expect.any(String),
        },
      ]);
      const health = relay.health();
      expect(health).toMatchObject({ ok: true, state: 'running', checkpoint: odd.position, parked: 1 });
      expect(health.messagesDelivered).toBe(received.length);
      process.stdout.write(
        `relay scenario test: ${stored.length} events, ${received.length} messages, ${health.withheld} withheld, ` +
          `${figures.missing} missing, ${figures.duplicates} duplicates, 1 parked\n`,
      );
    } finally {
      await relay.stop();
      relayStore.close();
      await store.close();
      await deleteTopics(brokers, prefix);
    }
  }, 60_000);

  it('loses no event when the relay process is SIGKILLed mid-stream and restarted', async () => {
    const brokers = kafkaBrokers();
    const prefix = uniquePrefix('crash');
    const topics = topicNames(prefix);
    const storeFile = join(dir, 'events.sqlite');
    const store = new SqliteEventStore({ filename: storeFile, synchronous: 'NORMAL' });
    const env = {
      KAFKA_BROKERS: brokers.join(','),
      DATA_DIR: dir,
      RELAY_TOPIC_PREFIX: prefix,
      RELAY_BATCH_SIZE: '40',
      RELAY_RETRY_MAX_MS: '1000',
      SQLITE_SYNCHRONOUS: 'NORMAL',
    };
    const checkpointOf = (): number => {
      try {
        // Read once the relay is killed: a running relay holds its file exclusively.
        const db = new Database(relayStoreFile({ DATA_DIR: dir, RELAY_TOPIC_PREFIX: prefix }), {
          readonly: true,
          fileMustExist: true,
        });
        try {
          return (db.prepare('SELECT position FROM relay_checkpoint').get() as { position: number }).position;
        } finally {
          db.close();
        }
      } catch {
        return 0; // not created yet
      }
    };
    const kills = Number(process.env.RELAY_KILLS ?? 3);
    const { events, withdrawals } = interleavedCases(Number(process.env.RELAY_CRASH_CASES ?? 150));
    let child: ChildProcess | undefined;
    try {
      // A third before the first start (catch-up), the rest appended while the relay is killed and restarted.
      const first = Math.floor(events.length / 3);
      const revisions = new Map<string, number>();
      await appendPlanned(store, events.slice(0, first), revisions);
      let appended = first;
      const writer = (async () => {
        for (let i = first; i < events.length; i += 10) {
          await appendPlanned(store, events.slice(i, i + 10), revisions);
          appended = Math.min(events.length, i + 10);
          await sleep(40);
        }
      })();

      const landed: Array<{ checkpoint: number; head: number }> = [];
      for (let k = 0; k < kills; k++) {
        child = await spawnRelay(env);
        await sleep(300 + Math.floor(Math.random() * 900));
        await killed(child);
        landed.push({ checkpoint: checkpointOf(), head: await store.headPosition() });
      }
      await writer;
      expect(appended).toBe(events.length);
      const head = await store.headPosition();
      child = await spawnRelay(env);
      const deadline = Date.now() + 60_000;
      // While it runs, its checkpoint is read from its /health.
      const running = child;
      const checkpointNow = async (): Promise<number> =>
        ((await (await fetch(relayHealthUrl(running))).json()) as { checkpoint: number }).checkpoint;
      while ((await checkpointNow()) < head && Date.now() < deadline) await sleep(200);
      expect(await checkpointNow()).toBe(head);
      await killed(child, 'SIGTERM');

      const stored = await storedEvents(store);
      const positions = new Map(stored.map((e) => [e.id, e.position]));
      const received = await consumeAll(brokers, prefix);
      const figures = compare(expectedDeliveries(stored, prefix), received, positions);
      const byCase = withdrawalPositions(events, withdrawals, positions);
      const leaked = afterWithdrawal(received, topics.agency(AGENCIES.shelter), byCase, positions);
      process.stdout.write(
        `relay crash test: ${kills} kills (checkpoint/head at each: ${landed.map((l) => `${l.checkpoint}/${l.head}`).join(', ')}), ` +
          `${stored.length} events, ${figures.expected} expected, ${figures.missing} missing, ` +
          `${figures.duplicates} duplicates, ${figures.keysOutOfOrder} keys out of order, ${leaked.length} after withdrawal\n`,
      );
      expect(figures).toMatchObject({ missing: 0, unexpected: 0, keysOutOfOrder: 0 });
      expect(leaked).toEqual([]);
      // The kills must have interrupted delivery, not only killed an idle relay.
      expect(landed.some((l) => l.checkpoint < l.head)).toBe(true);
    } finally {
      if (child) await killed(child);
      await store.close();
      await deleteTopics(brokers, prefix);
    }
  }, 120_000);
});
