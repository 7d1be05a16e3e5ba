/**
 * Kafka isolation on a real broker: the SCRAM broker of scripts/kafka.sh (KAFKA_SECURITY=scram,
 * standard authorizer, no access without an ACL, admin the only super user) with the ACLs that
 * deploy/k8s/engines/strimzi-kafka.yaml gives each KafkaUser. The real relay (apps/relay/src/main.ts
 * as a child process) publishes one invented case with its own SCRAM user; then each agency's
 * credentials play the attacker: read another agency's topic, the coordinator's, write anywhere.
 * The relay publishes over the broker's TLS + SCRAM listener (a self-signed certificate it trusts
 * through KAFKA_SSL_CA_FILE; without it, TLS refuses the broker); the agencies' attempts use the
 * SCRAM listener over plaintext, where the ACLs are the same.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteEventStore } from '@nrm/event-store';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} from 'kafkajs';
import type { AclEntry, Admin } from 'kafkajs';
import { AGENCIES, appendPlanned, caseScenario, clock, newCaseIds } from '../test/case-events';
import { kafkaScript, killed, relayHealthUrl, spawnRelay, uniquePrefix } from '../test/kafka';
import { topicNames } from './routing';

// Not 19192: the broker-restart suite's private broker, which may run at the same time.
const PORT = process.env.KAFKA_SCRAM_PORT ?? '19292';
const BROKER = `127.0.0.1:${PORT}`;
/** The broker's SASL_SSL listener (TLS + SCRAM), KAFKA_PORT + 2, and the certificate it serves. */
const TLS_BROKER = `127.0.0.1:${Number(PORT) + 2}`;
const KAFKA_DIR = join(tmpdir(), 'nrm-kafka-scram');
const TLS_CA = join(KAFKA_DIR, 'tls', 'ca.crt');
/** Invented credentials of the loopback test broker: scripts/kafka.sh's defaults, passed explicitly. */
const USERS = {
  admin: 'admin-test-secret',
  'nrm-relay': 'relay-test-secret',
  'agency-a': 'agency-a-test-secret',
  'agency-b': 'agency-b-test-secret',
  coordinator: 'coordinator-test-secret',
} as const;
type User = keyof typeof USERS;
const SCRIPT_ENV = {
  KAFKA_SECURITY: 'scram',
  KAFKA_PORT: PORT,
  NRM_KAFKA_DIR: KAFKA_DIR,
  KAFKA_SCRAM_USERS: Object.entries(USERS)
    .map(([user, password]) => `${user}:${password}`)
    .join(' '),
};

/**
 * Broker error types that kafkajs met and logged at debug level: it reports a refused
 * FindCoordinator (GROUP_AUTHORIZATION_FAILED) only as "Failed to find group coordinator".
 */
const brokerErrors: string[] = [];

const client = (user: User, password: string = USERS[user]): Kafka =>
  new Kafka({
    clientId: `nrm-acl-test-${user}`,
    brokers: [BROKER],
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
    logLevel: logLevel.DEBUG,
    logCreator:
      () =>
      ({ log }) => {
        const type = (log as { error?: { type?: unknown } }).error?.type;
        if (typeof type === 'string') brokerErrors.push(type);
      },
    sasl: { mechanism: 'scram-sha-512', username: user, password },
  });

/** What a KafkaUser's `simple` authorization grants, as ACL entries on the broker. */
function allow(
  user: string,
  resourceType: AclResourceTypes,
  resourceName: string,
  patternType: ResourcePatternTypes,
  operations: AclOperationTypes[],
): AclEntry[] {
  return operations.map((operation) => ({
    resourceType,
    resourceName,
    resourcePatternType: patternType,
    principal: `User:${user}`,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  }));
}

/** Answers of a broker still loading its consumer offsets: transient, never a refusal. */
const STILL_LOADING = ['GROUP_LOAD_IN_PROGRESS', 'COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE'];

/** The error type a refused attempt ends with (kafkajs protocol error type), or 'read N' when it was not refused. */
async function readAs(user: User, topic: string, expected: number, group: string): Promise<string> {
  // On a loaded host the first load of __consumer_offsets can outlast kafkajs's own retries: try again.
  for (let attempt = 1; ; attempt++) {
    const answer = await readOnce(user, topic, expected, group);
    if (!STILL_LOADING.includes(answer) || attempt === 5) return answer;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function readOnce(user: User, topic: string, expected: number, group: string): Promise<string> {
  // Retries ride out the broker's first load of __consumer_offsets; authorization errors are final.
  const consumer = client(user).consumer({ groupId: group, retry: { retries: 8, maxRetryTime: 2000 } });
  let read = 0;
  brokerErrors.length = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((done, failed) => {
      const timer = setTimeout(() => done(), 30_000);
      consumer.on(consumer.events.CRASH, (event) => {
        clearTimeout(timer);
        failed(event.payload.error);
      });
      consumer
        .run({
          eachMessage: async () => {
            read += 1;
            if (read >= expected) {
              clearTimeout(timer);
              done();
            }
          },
        })
        .catch(failed);
    });
    return `read ${read}`;
  } catch (error) {
    const type = errorType(error, read);
    if ((error as { name?: string }).name === 'KafkaJSGroupCoordinatorNotFound')
      return brokerErrors.includes('GROUP_AUTHORIZATION_FAILED') ? 'GROUP_AUTHORIZATION_FAILED' : type;
    return type;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

async function writeAs(user: User, topic: string): Promise<string> {
  const producer = client(user).producer({ retry: { retries: 0 }, allowAutoTopicCreation: false });
  try {
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'forged', value: '{"forged":true}' }] });
    return 'written';
  } catch (error) {
    return errorType(error, 0);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

function errorType(error: unknown, read: number): string {
  const seen = new Set<unknown>();
  let e: unknown = error;
  // kafkajs wraps the broker's answer (KafkaJSNumberOfRetriesExceeded, KafkaJSNonRetriableError …).
  while (e !== undefined && e !== null && !seen.has(e)) {
    seen.add(e);
    const { type, name } = e as { type?: string; name?: string };
    if (type !== undefined && type !== 'UNKNOWN') return `${type}${read > 0 ? ` after ${read}` : ''}`;
    if (name === 'KafkaJSSASLAuthenticationError') return 'SASL_AUTHENTICATION_FAILED';
    e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return `other: ${error instanceof Error ? error.message : String(error)}`;
}

async function endOffset(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

describe('Kafka isolation on a broker with SCRAM users and the standard authorizer', () => {
  let startedHere = false;
  let dir: string;
  let admin: Admin;
  const prefix = uniquePrefix('acl');
  const topics = topicNames(prefix);
  // agency-a and agency-b are the SCRAM users of two of the scenario's agencies.
  const topicA = topics.agency(AGENCIES.ngo);
  const topicB = topics.agency(AGENCIES.shelter);
  const acls: AclEntry[] = [
    // The relay: creates and writes the topics under its prefix, idempotently.
    ...allow('nrm-relay', AclResourceTypes.TOPIC, `${prefix}nrm.`, ResourcePatternTypes.PREFIXED, [
      AclOperationTypes.WRITE,
      AclOperationTypes.DESCRIBE,
      AclOperationTypes.CREATE,
    ]),
    ...allow('nrm-relay', AclResourceTypes.CLUSTER, 'kafka-cluster', ResourcePatternTypes.LITERAL, [
      AclOperationTypes.IDEMPOTENT_WRITE,
    ]),
    // Each agency: reads its own topic, with consumer groups named after itself.
    ...(
      [
        ['agency-a', topicA],
        ['agency-b', topicB],
        ['coordinator', topics.coordinator],
      ] as const
    ).flatMap(([user, topic]) => [
      ...allow(user, AclResourceTypes.TOPIC, topic, ResourcePatternTypes.LITERAL, [
        AclOperationTypes.READ,
        AclOperationTypes.DESCRIBE,
      ]),
      ...allow(user, AclResourceTypes.GROUP, `${user}.`, ResourcePatternTypes.PREFIXED, [
        AclOperationTypes.READ,
      ]),
    ]),
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-kafka-acl-'));
    startedHere = !(await kafkaScript('status', SCRIPT_ENV).then(
      () => true,
      () => false,
    ));
    await kafkaScript('start', SCRIPT_ENV);
    admin = client('admin').admin();
    await admin.connect();
    await admin.createAcls({ acl: acls });
  }, 300_000);

  afterAll(async () => {
    if (admin) {
      const created = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
      await admin.deleteAcls({
        filters: acls.map((acl) => ({ ...acl })),
      });
      await admin.disconnect();
    }
    if (startedHere) await kafkaScript('stop', SCRIPT_ENV);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('lets only the relay write, and each agency read only its own topic', async () => {
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
    const head = await appendPlanned(store, caseScenario(newCaseIds(), clock()).events);
    await store.close();

    const relayEnv = {
      KAFKA_BROKERS: BROKER,
      DATA_DIR: dir,
      RELAY_TOPIC_PREFIX: prefix,
      RELAY_RETRY_MAX_MS: '1000',
      SQLITE_SYNCHRONOUS: 'NORMAL',
      KAFKA_SSL: 'false',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'nrm-relay',
    };
    // The relay with a wrong password starts, reports Kafka down, and publishes nothing.
    const impostor = await spawnRelay(
      { ...relayEnv, KAFKA_SASL_PASSWORD: 'not-the-password' },
      /"msg":"relay process ready"/,
    );
    let impostorHealth: { ok: boolean; checkpoint: number; lastError?: string } | undefined;
    for (let i = 0; i < 100 && impostorHealth?.lastError === undefined; i++) {
      await new Promise((r) => setTimeout(r, 200));
      impostorHealth = (await (await fetch(relayHealthUrl(impostor))).json()) as typeof impostorHealth;
    }
    await killed(impostor, 'SIGTERM');
    expect(impostorHealth).toMatchObject({ ok: false, checkpoint: 0 });

    // Over TLS without the broker's CA (system CAs only): the certificate is refused, nothing published.
    const unverified = await spawnRelay(
      { ...relayEnv, KAFKA_BROKERS: TLS_BROKER, KAFKA_SSL: 'true', KAFKA_SASL_PASSWORD: USERS['nrm-relay'] },
      /"msg":"relay process ready"/,
    );
    let unverifiedHealth: { ok: boolean; checkpoint: number; lastError?: string } | undefined;
    for (let i = 0; i < 100 && unverifiedHealth?.lastError === undefined; i++) {
      await new Promise((r) => setTimeout(r, 200));
      unverifiedHealth = (await (await fetch(relayHealthUrl(unverified))).json()) as typeof unverifiedHealth;
    }
    await killed(unverified, 'SIGTERM');
    expect(unverifiedHealth).toMatchObject({
      ok: false,
      checkpoint: 0,
      lastError: expect.stringMatching(/certificate/),
    });

    // The relay as deployed: TLS verified against the broker's CA, and SCRAM.
    const relay = await spawnRelay({
      ...relayEnv,
      KAFKA_BROKERS: TLS_BROKER,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: TLS_CA,
      KAFKA_SASL_PASSWORD: USERS['nrm-relay'],
    });
    let metrics = '';
    try {
      const metric = (name: string): number =>
        Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
      for (let i = 0; i < 300; i++) {
        metrics = await (await fetch(relayHealthUrl(relay).replace(/\/health$/, '/metrics'))).text();
        if (metric('nrm_relay_checkpoint_position') >= head) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect([
        metric('nrm_relay_up'),
        metric('nrm_relay_checkpoint_position'),
        metric('nrm_relay_head_position'),
      ]).toEqual([1, head, head]);
    } finally {
      await killed(relay, 'SIGTERM');
    }

    const counts = {
      a: await endOffset(admin, topicA),
      b: await endOffset(admin, topicB),
      coordinator: await endOffset(admin, topics.coordinator),
    };
    expect(counts.a).toBeGreaterThan(0);
    expect(counts.b).toBeGreaterThan(0);
    expect(counts.coordinator).toBeGreaterThan(0);

    const run = randomBytes(3).toString('hex');
    const attempts = {
      aOwn: await readAs('agency-a', topicA, counts.a, `agency-a.${run}`),
      bOwn: await readAs('agency-b', topicB, counts.b, `agency-b.${run}`),
      aReadsB: await readAs('agency-a', topicB, counts.b, `agency-a.${run}.b`),
      bReadsA: await readAs('agency-b', topicA, counts.a, `agency-b.${run}.a`),
      aReadsCoordinator: await readAs(
        'agency-a',
        topics.coordinator,
        counts.coordinator,
        `agency-a.${run}.c`,
      ),
      aInForeignGroup: await readAs('agency-a', topicA, counts.a, `agency-b.${run}`),
      aWritesOwn: await writeAs('agency-a', topicA),
      aWritesB: await writeAs('agency-a', topicB),
      coordinatorWritesA: await writeAs('coordinator', topicA),
      aWithWrongPassword: await (async () => {
        const producer = client('agency-a', 'guessed-password').producer();
        try {
          await producer.connect();
          await producer.disconnect();
          return 'connected';
        } catch (error) {
          return errorType(error, 0);
        }
      })(),
    };
    const listedByA = (
      await (async () => {
        const a = client('agency-a').admin();
        await a.connect();
        try {
          return await a.listTopics();
        } finally {
          await a.disconnect();
        }
      })()
    ).filter((t) => t.startsWith(prefix));
    const unchanged = {
      a: await endOffset(admin, topicA),
      b: await endOffset(admin, topicB),
    };

    const refused = Object.values(attempts).filter((r) => !r.startsWith('read') && r !== 'written').length;
    console.log(
      `kafka ACLs: relay wrote ${counts.a}/${counts.b}/${counts.coordinator} messages (agency A/B/coordinator); ` +
        `A own topic: ${attempts.aOwn}, B own topic: ${attempts.bOwn}; ${refused} attacks refused ` +
        `(A->B ${attempts.aReadsB}, B->A ${attempts.bReadsA}, A->coordinator ${attempts.aReadsCoordinator}, ` +
        `A in B's group ${attempts.aInForeignGroup}, A writes own ${attempts.aWritesOwn}, A writes B ${attempts.aWritesB}, ` +
        `coordinator writes A ${attempts.coordinatorWritesA}, wrong password ${attempts.aWithWrongPassword}); ` +
        `A lists ${listedByA.length} topic(s); relay with a wrong password: ${impostorHealth?.lastError ?? '?'}; ` +
        `relay over TLS without the CA: ${unverifiedHealth?.lastError ?? '?'}`,
    );
    expect(attempts).toEqual({
      aOwn: `read ${counts.a}`,
      bOwn: `read ${counts.b}`,
      aReadsB: 'TOPIC_AUTHORIZATION_FAILED',
      bReadsA: 'TOPIC_AUTHORIZATION_FAILED',
      aReadsCoordinator: 'TOPIC_AUTHORIZATION_FAILED',
      aInForeignGroup: 'GROUP_AUTHORIZATION_FAILED',
      aWritesOwn: 'TOPIC_AUTHORIZATION_FAILED',
      aWritesB: 'TOPIC_AUTHORIZATION_FAILED',
      coordinatorWritesA: 'TOPIC_AUTHORIZATION_FAILED',
      aWithWrongPassword: 'SASL_AUTHENTICATION_FAILED',
    });
    expect(listedByA).toEqual([topicA]);
    expect(unchanged).toEqual({ a: counts.a, b: counts.b });
  }, 240_000);
});
