/**
 * The last gate before a span leaves the process: every span processor the tracing SDK is given is
 * wrapped in `PrivacySpanProcessor`, which hands its exporter a copy of the span that keeps only
 * attributes on an allow-list. The auto-instrumentations (HTTP, pg, kafkajs) record more than the
 * ledger may export: the request path and query (case ids), the caller's address and user agent,
 * a Kafka message key (a case id), SQL text, error messages that may quote input. What is not
 * listed below never reaches a collector, whichever instrumentation or future version set it.
 */
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Attribute keys a span may carry out of the process (and any `nrm.*` key the ledger sets itself). */
export const EXPORTED_ATTRIBUTES: ReadonlySet<string> = new Set([
  // HTTP server spans: method, route template, status; never url.path, url.query, client.address,
  // network.peer.address or user_agent.original.
  'http.request.method',
  'http.response.status_code',
  'http.route',
  'network.protocol.version',
  'url.scheme',
  'server.address',
  'server.port',
  'error.type',
  // pg: which database, which operation; the statement only when it carries no literal (below).
  'db.system',
  'db.system.name',
  'db.namespace',
  'db.name',
  'db.operation.name',
  'db.collection.name',
  'db.query.text',
  'db.statement',
  // kafkajs and the relay: topics (agency ids), partitions, counts; never the message key.
  'messaging.system',
  'messaging.operation.type',
  'messaging.operation.name',
  'messaging.destination.name',
  'messaging.destination.partition.id',
  'messaging.batch.message_count',
  'messaging.kafka.offset',
  'messaging.kafka.message.offset',
]);

const STATEMENT_KEYS = new Set(['db.query.text', 'db.statement']);

/**
 * True when a SQL statement can be exported: no quoted string literal and no dollar-quoted body,
 * so every value it works on came as a `$n` parameter (which the pg instrumentation does not
 * record: `enhancedDatabaseReporting` stays off). Identifiers in double quotes and numbers pass.
 */
export function exportableStatement(text: string): boolean {
  return !text.includes("'") && !/\$[A-Za-z_]*\$/.test(text);
}

function keep(key: string, value: unknown): boolean {
  if (key.startsWith('nrm.')) return true;
  if (!EXPORTED_ATTRIBUTES.has(key)) return false;
  if (STATEMENT_KEYS.has(key)) return typeof value === 'string' && exportableStatement(value);
  return true;
}

function scrubbed<T extends Record<string, unknown>>(attributes: T | undefined): T {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(attributes ?? {})) if (keep(key, value)) kept[key] = value;
  return kept as T;
}

/** An error's status message may quote input (a pg constraint error names the value): only a class name passes. */
function scrubbedStatus(status: ReadableSpan['status']): ReadableSpan['status'] {
  if (status.message === undefined || /^[A-Za-z][A-Za-z0-9_.]*$/.test(status.message)) return status;
  return { code: status.code };
}

/** The exported view of a span: the same span, its attributes, events, links and status scrubbed. */
export function exportedView(span: ReadableSpan): ReadableSpan {
  const replaced: Partial<Record<keyof ReadableSpan, unknown>> = {
    attributes: scrubbed(span.attributes),
    // Events keep their name and allowed attributes; an exception's message and stack are dropped
    // (exception.type, the class, stays).
    events: span.events.map((e) => ({
      ...e,
      attributes: Object.fromEntries(
        Object.entries(e.attributes ?? {}).filter(([k, v]) => k === 'exception.type' || keep(k, v)),
      ),
    })),
    links: span.links.map((l) => ({ ...l, attributes: scrubbed(l.attributes) })),
    status: scrubbedStatus(span.status),
  };
  return new Proxy(span, {
    get(target, property) {
      if (typeof property === 'string' && property in replaced)
        return replaced[property as keyof ReadableSpan];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Wraps a span processor (and so its exporter) so that it only ever sees `exportedView`s. */
export class PrivacySpanProcessor implements SpanProcessor {
  constructor(private readonly inner: SpanProcessor) {}

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    this.inner.onEnd(exportedView(span));
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}
