import { readFileSync } from 'node:fs';
import { context, propagation, ROOT_CONTEXT, SpanKind, trace, type Link } from '@opentelemetry/api';
import { MESSAGE_TRACEPARENT } from '@nrm/runtime';
import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type KafkaConfig,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import type { OutgoingMessage } from './routing';

/** One link per distinct trace context among a batch's messages (the events' publish spans). */
function batchLinks(messages: readonly OutgoingMessage[]): Link[] {
  const seen = new Set<string>();
  const links: Link[] = [];
  for (const m of messages) {
    const traceparent = m.headers.traceparent;
    if (traceparent === undefined || seen.has(traceparent)) continue;
    seen.add(traceparent);
    const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
    if (spanContext) links.push({ context: spanContext });
  }
  return links;
}

/** Where the relay sends a batch; resolves only once every message of it is acknowledged. */
export interface Publisher {
  connect(): Promise<void>;
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface KafkaPublisherOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** TLS and SASL/SCRAM, as `loadRelayConfig` validated them; plaintext without authentication when absent. */
  readonly security?: KafkaSecurityOptions;
  /** kafkajs' own warnings and errors (connection lost, retrying …): no payloads, only broker facts. */
  readonly onClientLog?: (entry: { level: 'warn' | 'error'; namespace: string; message: string }) => void;
}

export interface KafkaSecurityOptions {
  readonly ssl: boolean;
  /** PEM file of the brokers' CA; Node's system CAs when absent. */
  readonly caFile?: string;
  readonly sasl?: {
    readonly mechanism: 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
}

/** The kafkajs `ssl` and `sasl` options; certificates are always verified. */
export function kafkaSecurity(options: KafkaSecurityOptions | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  if (!options) return {};
  const ssl: KafkaConfig['ssl'] = options.ssl
    ? options.caFile !== undefined
      ? { rejectUnauthorized: true, ca: [readFileSync(options.caFile, 'utf8')] }
      : { rejectUnauthorized: true }
    : false;
  const sasl = options.sasl;
  if (!sasl) return { ssl };
  const { username, password } = sasl;
  return {
    ssl,
    sasl:
      sasl.mechanism === 'scram-sha-512'
        ? { mechanism: 'scram-sha-512', username, password }
        : { mechanism: 'scram-sha-256', username, password },
  };
}

/**
 * The relay's producer: idempotent, `acks: -1` (every in-sync replica), one request in flight so
 * that a retried request cannot overtake the next one (order per case), and the Java client's
 * partitioner so that a key lands where other Kafka clients would put it. Topics are created when
 * first needed (with the broker's default partitions and replication), so brokers that do not
 * create topics on their own work too.
 */
export class KafkaPublisher implements Publisher {
  private readonly kafka: Kafka;
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private readonly topics = new Set<string>();

  constructor(options: KafkaPublisherOptions) {
    const onLog = options.onClientLog;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      ...kafkaSecurity(options.security),
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      // A few quick retries inside the client; the relay's own bounded back-off handles longer outages.
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
      logLevel: onLog ? logLevel.WARN : logLevel.NOTHING,
      logCreator:
        () =>
        ({ namespace, level, log }: LogEntry) => {
          if (!onLog || (level !== logLevel.WARN && level !== logLevel.ERROR)) return;
          onLog({ level: level === logLevel.ERROR ? 'error' : 'warn', namespace, message: log.message });
        },
    });
  }

  async connect(): Promise<void> {
    await this.disconnect();
    // A new producer (and producer id) after every outage: what a failed batch may have left in the
    // old one's sequence numbers cannot block the new one. Duplicates that follow are deduplicated
    // by consumers through the event-id header.
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const admin = this.kafka.admin();
    this.producer = producer;
    this.admin = admin;
    await admin.connect();
    await producer.connect();
    this.topics.clear();
    for (const topic of await admin.listTopics()) this.topics.add(topic);
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = this.producer;
    const admin = this.admin;
    if (!producer || !admin) throw new Error('the Kafka publisher is not connected');
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const message of messages) {
      const list = byTopic.get(message.topic);
      if (list) list.push(message);
      else byTopic.set(message.topic, [message]);
    }
    const missing = [...byTopic.keys()].filter((topic) => !this.topics.has(topic));
    if (missing.length > 0) {
      // false when another client created them meanwhile: they exist either way.
      await admin.createTopics({ topics: missing.map((topic) => ({ topic })), waitForLeaders: true });
      for (const topic of missing) this.topics.add(topic);
    }
    // With tracing on, kafkajs' instrumentation opens a send span per message, children of this
    // batch span (linked to the events' publish spans), and the relay's own traceparent is kept in
    // each message's headers (MESSAGE_TRACEPARENT). Without tracing the span is a no-op.
    const batch = trace.getTracer('nrm-ledger').startSpan('send batch', {
      kind: SpanKind.INTERNAL,
      links: batchLinks(messages),
      attributes: { 'messaging.system': 'kafka', 'messaging.batch.message_count': messages.length },
    });
    try {
      await context.with(trace.setSpan(context.active(), batch), () =>
        producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, list]) => ({
            topic,
            messages: list.map((m) => ({
              key: m.key,
              value: m.value,
              headers: { ...m.headers },
              ...(m.headers.traceparent !== undefined
                ? { [MESSAGE_TRACEPARENT]: m.headers.traceparent }
                : {}),
            })),
          })),
        }),
      );
    } catch (error) {
      batch.setStatus({ code: 2, message: error instanceof Error ? error.name : 'error' });
      throw error;
    } finally {
      batch.end();
    }
  }

  async disconnect(): Promise<void> {
    const producer = this.producer;
    const admin = this.admin;
    this.producer = undefined;
    this.admin = undefined;
    await Promise.allSettled([producer?.disconnect(), admin?.disconnect()]);
  }
}
