import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import {
  EventStoreDbEventStore,
  PostgresEventStore,
  SqliteEventStore,
  type EventStore,
} from '@nrm/event-store';
import pino, { type Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RelayConfig } from './config';
import { PostgresSharedLog } from '@nrm/audit';
import { CheckpointMirror } from './checkpoint-mirror';
import { KafkaPublisher, type KafkaSecurityOptions } from './kafka-publisher';
import { DEFAULT_RETRY, Relay } from './relay';
import { relayMetrics } from './relay-metrics';
import { RelayStore } from './relay-store';
import { topicNames } from './routing';

export interface RunningRelay {
  readonly relay: Relay;
  /** Where GET /health answers. */
  readonly healthUrl: string;
  /** Stops the relay (the batch in flight is finished), the health server, and closes both stores. */
  stop(): Promise<void>;
}

/** The event store the API writes: the same file under DATA_DIR. */
export function eventStoreFile(config: RelayConfig): string {
  return join(resolve(config.DATA_DIR), 'events.sqlite');
}

/**
 * The relay's checkpoint and folded state: one file per topic prefix, so that relays publishing
 * under different prefixes from one data directory each deliver everything (`relay.sqlite`
 * without a prefix, as before; `relay-<prefix>.sqlite` with one).
 */
export function relayStoreFile(config: Pick<RelayConfig, 'DATA_DIR' | 'RELAY_TOPIC_PREFIX'>): string {
  const name =
    config.RELAY_TOPIC_PREFIX === '' ? 'relay.sqlite' : `relay-${config.RELAY_TOPIC_PREFIX}.sqlite`;
  return join(resolve(config.DATA_DIR), name);
}

/**
 * The relay as its own process: reads the event store from its checkpoint and publishes to Kafka,
 * and answers GET /health (200 while it delivers, 503 with the last error while Kafka or the store
 * fails; `parked` counts events it could not map) and GET /metrics (Prometheus text,
 * relay-metrics.ts). One relay per DATA_DIR and topic prefix.
 */
export async function runRelay(
  config: RelayConfig,
  options: { logger?: Logger; store?: EventStore } = {},
): Promise<RunningRelay> {
  const logger = options.logger ?? pino({ level: config.LOG_LEVEL, base: { app: 'relay' } });
  const store =
    options.store ??
    (config.EVENT_STORE === 'eventstoredb'
      ? new EventStoreDbEventStore({
          connectionString: config.EVENTSTOREDB_URL ?? '',
          // Never published, never a stop: another program's record is not the ledger's to relay.
          onForeignRecord: ({ position }) =>
            logger.warn({ position }, 'passed over a record another program wrote into the event store'),
        })
      : config.EVENT_STORE === 'postgres'
        ? new PostgresEventStore({
            connectionString: config.EVENT_STORE_URL ?? '',
            schema: config.EVENT_STORE_SCHEMA,
          })
        : new SqliteEventStore({ filename: eventStoreFile(config), synchronous: config.SQLITE_SYNCHRONOUS }));
  let relayStore: RelayStore;
  try {
    // Held for the relay's life: a second relay on the same file is refused, not run beside it.
    relayStore = new RelayStore(relayStoreFile(config), {
      synchronous: config.SQLITE_SYNCHRONOUS,
      exclusive: true,
    });
  } catch (error) {
    if (!options.store) await store.close();
    throw error;
  }
  const publisher = new KafkaPublisher({
    brokers: config.KAFKA_BROKERS,
    clientId: config.RELAY_CLIENT_ID,
    security: kafkaSecurityOf(config),
    onClientLog: (entry) => logger.debug({ kafka: entry.namespace, level: entry.level }, entry.message),
  });
  const relay = new Relay({
    store,
    relayStore,
    publisher,
    topics: topicNames(config.RELAY_TOPIC_PREFIX),
    batchSize: config.RELAY_BATCH_SIZE,
    retry: { firstMs: DEFAULT_RETRY.firstMs, maxMs: config.RELAY_RETRY_MAX_MS },
    logger: {
      debug: (obj, msg) => logger.debug(obj, msg),
      info: (obj, msg) => logger.info(obj, msg),
      warn: (obj, msg) => logger.warn(obj, msg),
      error: (obj, msg) => logger.error(obj, msg),
    },
  });

  // Copies of the audit log's signed checkpoints, on a topic of their own, every few seconds.
  const mirrorPublisher = new KafkaPublisher({
    brokers: config.KAFKA_BROKERS,
    clientId: `${config.RELAY_CLIENT_ID}-checkpoints`,
    security: kafkaSecurityOf(config),
  });
  // The shared log in PostgreSQL wherever the relay runs; else the api's file in a shared DATA_DIR.
  const sharedLog =
    config.AUDIT_LOG_STORE === 'postgres' && config.AUDIT_LOG_URL !== undefined
      ? new PostgresSharedLog({ connectionString: config.AUDIT_LOG_URL, schema: config.AUDIT_LOG_SCHEMA })
      : undefined;
  const mirror = new CheckpointMirror({
    auditFile: join(resolve(config.DATA_DIR), 'audit.sqlite'),
    ...(sharedLog ? { shared: sharedLog } : {}),
    publisher: mirrorPublisher,
    topic: `${config.RELAY_TOPIC_PREFIX}nrm.audit.checkpoints`,
    logger: { warn: (obj, msg) => logger.warn(obj, msg) },
  });
  let mirrorConnected = false;
  const mirrorOnce = async (): Promise<void> => {
    try {
      if (!mirrorConnected) {
        await mirrorPublisher.connect();
        mirrorConnected = true;
      }
      const copied = await mirror.mirror();
      if (copied > 0) logger.info({ copied, total: mirror.count }, 'audit checkpoints copied to Kafka');
    } catch (error) {
      mirrorConnected = false;
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'audit checkpoint copy failed; retried',
      );
    }
  };
  const mirrorTimer = setInterval(() => void mirrorOnce(), config.RELAY_CHECKPOINT_COPY_MS);

  const server = healthServer(relay, relayMetrics(relay, store));
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(config.RELAY_HEALTH_PORT, config.HOST, () => listening());
  });
  const address = server.address() as AddressInfo;
  const healthUrl = `http://${config.HOST}:${address.port}/health`;

  const parked = relayStore.parkedCount();
  if (parked > 0)
    logger.warn(
      { parked, file: relayStoreFile(config) },
      'parked events wait in the relay’s file (table relay_parked)',
    );
  relay.start();
  logger.info(
    { healthUrl, brokers: config.KAFKA_BROKERS, topicPrefix: config.RELAY_TOPIC_PREFIX },
    'relay process ready',
  );

  return {
    relay,
    healthUrl,
    async stop() {
      clearInterval(mirrorTimer);
      await mirror.mirror().catch(() => 0);
      await mirrorPublisher.disconnect().catch(() => undefined);
      await sharedLog?.close().catch(() => undefined);
      await new Promise<void>((closed) => server.close(() => closed()));
      await relay.stop();
      logger.info({ checkpoint: relay.health().checkpoint }, 'relay stopped');
      relayStore.close();
      await store.close();
    },
  };
}

/** The relay's Kafka TLS and SASL settings, for its publishers. */
export function kafkaSecurityOf(config: RelayConfig): KafkaSecurityOptions {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username } = config;
  const password = config.KAFKA_SASL_PASSWORD;
  return {
    ssl: config.KAFKA_SSL,
    ...(config.KAFKA_SSL_CA_FILE !== undefined ? { caFile: config.KAFKA_SSL_CA_FILE } : {}),
    ...(mechanism !== undefined && username !== undefined && password !== undefined
      ? { sasl: { mechanism, username, password } }
      : {}),
  };
}

function healthServer(relay: Relay, metrics: Registry): Server {
  return createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      metrics.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': metrics.contentType });
          response.end(text);
        },
        () => {
          response.writeHead(500, { 'content-type': 'application/problem+json' });
          response.end(JSON.stringify({ type: 'about:blank', title: 'Metrics unavailable', status: 500 }));
        },
      );
      return;
    }
    if (request.method !== 'GET' || request.url !== '/health') {
      response.writeHead(404, { 'content-type': 'application/problem+json' });
      response.end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
      return;
    }
    const health = relay.health();
    response.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: health.ok ? 'ok' : 'unavailable', ...health }));
  });
}
