import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { collect, describeEventStoreConformance, freshStream, newEvent } from '../../test/conformance';
import { cannotRun, noDockerReason } from '../../test/docker';
import { EventStoreUnavailable } from '../errors';
import { redactConnectionString } from './eventstoredb-mapping';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

/**
 * The conformance suite against a real EventStoreDB:
 * - `EVENTSTOREDB_URL` set: against that server (it keeps the test streams);
 * - otherwise in a container of `EVENTSTOREDB_IMAGE` (default eventstore/eventstore:24.10,
 *   e.g. docker.kurrent.io/kurrent-latest/kurrentdb for KurrentDB), when a Docker
 *   engine answers;
 * - otherwise reported as skipped, with the reason in its name, or failed with ESDB_REQUIRED=1.
 *   Never passed without running. The cases under faults are in eventstoredb-faults.int.spec.ts.
 */
const GIVEN_URL = process.env.EVENTSTOREDB_URL?.trim() || undefined;
const IMAGE = process.env.EVENTSTOREDB_IMAGE?.trim() || 'eventstore/eventstore:24.10';
const GRPC_PORT = 2113;

/** Insecure, in memory, no projections, and appends as large as the port allows (8 MiB events; the default is 1 MiB). */
function serverSettings(image: string): Record<string, string> {
  const prefix = /kurrent/i.test(image) ? 'KURRENTDB' : 'EVENTSTORE';
  return {
    [`${prefix}_INSECURE`]: 'true',
    [`${prefix}_MEM_DB`]: 'true',
    [`${prefix}_RUN_PROJECTIONS`]: 'None',
    [`${prefix}_MAX_APPEND_SIZE`]: String(9 * 1024 * 1024),
  };
}

async function untilWritable(url: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  const store = new EventStoreDbEventStore({ connectionString: url, operationTimeoutMs: 5_000 });
  try {
    for (;;) {
      try {
        await store.append(`probe-${randomUUID()}`, [newEvent('Probed')], { expectedRevision: 'no-stream' });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await store.close();
  }
}

function conformanceAgainst(url: () => string): void {
  describeEventStoreConformance('eventstoredb', async () => {
    const store = new EventStoreDbEventStore({ connectionString: url() });
    return {
      store,
      openAnother: async () => new EventStoreDbEventStore({ connectionString: url() }),
      idsCheckedAcrossStreams: false,
      dispose: () => store.close(),
    };
  });
}

const dockerReason = GIVEN_URL === undefined ? noDockerReason() : undefined;

if (GIVEN_URL !== undefined) {
  describe(`EventStoreDB conformance against EVENTSTOREDB_URL=${redactConnectionString(GIVEN_URL)}`, () => {
    beforeAll(() => untilWritable(GIVEN_URL, 30_000), 60_000);
    conformanceAgainst(() => GIVEN_URL);
  });
} else if (dockerReason !== undefined) {
  cannotRun(
    'EventStoreDB conformance',
    `no Docker engine (${dockerReason}); set EVENTSTOREDB_URL to use a running server`,
    () => conformanceAgainst(() => 'esdb://skipped:2113?tls=false'),
  );
} else {
  describe(`EventStoreDB conformance (${IMAGE} in a container)`, () => {
    let container: StartedTestContainer | undefined;
    let url = '';
    beforeAll(async () => {
      container = await new GenericContainer(IMAGE)
        .withEnvironment(serverSettings(IMAGE))
        .withExposedPorts(GRPC_PORT)
        .withWaitStrategy(
          Wait.forHttp('/health/live', GRPC_PORT).forStatusCodeMatching((s) => s >= 200 && s < 300),
        )
        .withStartupTimeout(180_000)
        .start();
      // The adapter checks appends against the server's MaxAppendSize, set to 9 MiB above.
      url = `esdb://${container.getHost()}:${container.getMappedPort(GRPC_PORT)}?tls=false&maxAppendSize=${9 * 1024 * 1024}`;
      await untilWritable(url, 60_000); // live is not yet leader
    }, 300_000);
    afterAll(async () => {
      await container?.stop();
    }, 60_000);
    conformanceAgainst(() => url);
  });
}

/** Runs everywhere: the real client against a port where nothing listens. */
describe('eventstoredb adapter with an unreachable server', () => {
  let store: EventStoreDbEventStore;

  beforeEach(async () => {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
      });
    });
    store = new EventStoreDbEventStore({
      connectionString: `esdb://127.0.0.1:${port}?tls=false`,
      operationTimeoutMs: 5_000,
      healthTimeoutMs: 5_000,
      reconnect: { initialDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 },
    });
  });
  afterEach(() => store.close());

  it('answers appends, reads and the head with EventStoreUnavailable', async () => {
    const stream = freshStream();
    await expect(
      store.append(stream, [newEvent()], { expectedRevision: 'no-stream' }),
    ).rejects.toBeInstanceOf(EventStoreUnavailable);
    await expect(store.append(stream, [newEvent()], { expectedRevision: 'no-stream' })).rejects.toMatchObject(
      {
        code: 'EVENT_STORE.UNAVAILABLE',
        reason: expect.stringMatching(/unreachable/),
      },
    );
    await expect(collect(store.readStream(stream))).rejects.toBeInstanceOf(EventStoreUnavailable);
    await expect(collect(store.readAll())).rejects.toBeInstanceOf(EventStoreUnavailable);
    await expect(store.headPosition()).rejects.toBeInstanceOf(EventStoreUnavailable);
  });

  it('reports itself unhealthy, with the reason', async () => {
    const health = await store.health();
    expect(health).toMatchObject({ ok: false, adapter: 'eventstoredb' });
    expect(health.detail).toMatch(/^unavailable: /);
  });

  it('ends a subscription with EventStoreUnavailable after its reconnection attempts', async () => {
    const subscription = store.subscribe({ fromPosition: 'start' });
    await expect(collect(subscription)).rejects.toBeInstanceOf(EventStoreUnavailable);
    expect(subscription.closed).toBe(true);
  });

  it('answers an append with OUTCOME_UNKNOWN, reads with EventStoreUnavailable, when the server accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 1;
    const slow = new EventStoreDbEventStore({
      connectionString: `esdb://127.0.0.1:${port}?tls=false`,
      operationTimeoutMs: 300,
      healthTimeoutMs: 300,
    });
    try {
      await expect(
        slow.append(freshStream(), [newEvent()], { expectedRevision: 'no-stream' }),
      ).rejects.toMatchObject({
        // Sent, and never answered: it may have been stored, and looking for it failed too.
        code: 'EVENT_STORE.OUTCOME_UNKNOWN',
        reason: expect.stringMatching(/no answer within 300 ms.*looking for it on the leader failed too/),
      });
      await expect(collect(slow.readStream('s'))).rejects.toBeInstanceOf(EventStoreUnavailable);
      expect(await slow.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/no answer/) });
    } finally {
      await slow.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
