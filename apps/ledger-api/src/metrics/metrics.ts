import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventStore } from '@nrm/event-store';
import type { ReadModel } from '../cases/read-model';

/**
 * What the ledger tells Prometheus, per app instance (one registry each, so
 * that several apps in one test process do not collide). Labels are route
 * templates, methods and status codes: never an id, never a piece of case data.
 */
export class LedgerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;

  constructor(store: EventStore, readModel: ReadModel) {
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
