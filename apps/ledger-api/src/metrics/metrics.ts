import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventStore } from '@nrm/event-store';
import type { ReadModel } from '@nrm/runtime';
import type { AppendGate } from '../event-store/append-gate';
import type { LimitKind, RateLimitCounts } from '../access/rate-limits';

/**
 * What the ledger tells Prometheus, per app instance (one registry each, so
 * that several apps in one test process do not collide). Labels are route
 * templates, methods and status codes: never an id, never a piece of case data.
 */
export class LedgerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;

  constructor(store: EventStore, readModel: ReadModel, gate?: AppendGate, limits?: RateLimitCounts) {
    collectDefaultMetrics({ register: this.registry, prefix: 'nrm_' });
    this.requests = new Counter({
      name: 'nrm_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'nrm_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route template.',
      labelNames: ['method', 'route'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    new Gauge({
      name: 'nrm_event_store_head_position',
      help: 'Position of the last event in the event store.',
      registers: [this.registry],
      async collect() {
        this.set(await store.headPosition().catch(() => Number.NaN));
      },
    });
    new Gauge({
      name: 'nrm_event_store_foreign_records_skipped',
      help: 'Records other programs wrote into the event store, passed over by readers since start (EventStoreDB).',
      registers: [this.registry],
      async collect() {
        this.set((await store.health().catch(() => undefined))?.foreignRecordsSkipped ?? 0);
      },
    });
    new Gauge({
      name: 'nrm_audit_integrity_ok',
      help: '1 while the event store matches the audit log; 0 once a divergence is found or the audit log stopped (appends are refused then).',
      registers: [this.registry],
      collect() {
        this.set(gate?.finding || gate?.halted !== undefined ? 0 : 1);
      },
    });
    new Gauge({
      name: 'nrm_audit_integrity_finding_position',
      help: 'The first position at fault of the standing integrity finding, by kind (changed, reused, missing, truncated, rolled-back, forked, log-truncated, checkpoint-deleted, checkpoint-replaced).',
      labelNames: ['kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        const finding = gate?.finding;
        if (finding) this.set({ kind: finding.kind }, finding.position);
      },
    });
    new Gauge({
      name: 'nrm_audit_rehash_passes',
      help: 'Full re-hash passes of the event store against the audit log completed since start.',
      registers: [this.registry],
      collect() {
        this.set(gate?.status()?.rehash.passes ?? 0);
      },
    });
    new Counter({
      name: 'nrm_rate_limited_total',
      help: 'Requests refused with 429, by limit (principal, address, failed-auth).',
      labelNames: ['limit'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [limit, count] of Object.entries(limits?.refused ?? {}) as Array<[LimitKind, number]>)
          this.inc({ limit }, count);
      },
    });
    new Counter({
      name: 'nrm_auth_failures_total',
      help: 'Credentials refused as not valid, revoked or naming no registered principal (a guess shows here).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(limits?.failedAuthentications ?? 0);
      },
    });
    new Counter({
      name: 'nrm_rate_limit_store_fallbacks_total',
      help: 'Rate limit decisions taken on this process alone because Redis was unreachable (fail open).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(limits?.storeFallbacks ?? 0);
      },
    });
    new Gauge({
      name: 'nrm_read_model_divergence',
      help: 'Rows of each read-model table that differ from a rebuild from the events (missing + unjustified; 1 for a missing table or changed columns), while the finding stands: queries are refused then.',
      labelNames: ['table'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of readModel.integrity?.finding?.divergences ?? [])
          this.set(
            { table: d.table },
            d.schema ? Math.max(1, d.missing + d.unjustified) : d.missing + d.unjustified,
          );
      },
    });
    new Counter({
      name: 'nrm_read_model_checks_total',
      help: 'Read-model checks against a rebuild from the events finished since start, by result (ok, diverged, error).',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [result, count] of Object.entries(readModel.integrity?.checks ?? {}))
          this.inc({ result }, count);
      },
    });
    new Gauge({
      name: 'nrm_read_model_check_seconds',
      help: 'How long the last read-model check took (rebuild from the events and row-by-row comparison).',
      registers: [this.registry],
      collect() {
        this.reset();
        const last = readModel.integrity?.lastCheck;
        if (last) this.set(last.seconds);
      },
    });
    new Gauge({
      name: 'nrm_read_model_checkpoint',
      help: 'Checkpoint of each projection: the position of the last event its read model covers.',
      labelNames: ['projection'],
      registers: [this.registry],
      async collect() {
        const health = await readModel.health().catch(() => undefined);
        this.reset();
        for (const [projection, position] of Object.entries(health?.positions ?? {}))
          this.set({ projection }, position);
      },
    });
  }

  /** Counts one answered request; `route` is the matched route's template, or '(unmatched)'. */
  observe(method: string, route: string | undefined, status: number, seconds: number): void {
    const labels = { method, route: route ?? '(unmatched)' };
    this.requests.inc({ ...labels, status: String(status) });
    this.duration.observe(labels, seconds);
  }
}
