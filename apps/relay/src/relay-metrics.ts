import { Gauge, Registry } from 'prom-client';
import type { EventStore } from '@nrm/event-store';
import type { Relay } from './relay';

/**
 * What the relay tells Prometheus on GET /metrics (deploy/k8s/monitoring.yaml alerts on them):
 * positions and counts only, never a topic name (topics carry agency ids), never a payload.
 * Lag is `nrm_relay_head_position - nrm_relay_checkpoint_position`, both from this process.
 */
export function relayMetrics(relay: Relay, store: EventStore): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'nrm_relay_up',
    help: '1 while the relay delivers or waits for events; 0 while Kafka or the event store fails.',
    registers: [registry],
    collect() {
      this.set(relay.health().ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'nrm_relay_checkpoint_position',
    help: 'Position of the last event whose messages Kafka acknowledged.',
    registers: [registry],
    collect() {
      this.set(relay.health().checkpoint);
    },
  });
  new Gauge({
    name: 'nrm_relay_head_position',
    help: 'Position of the last event in the event store, as the relay sees it.',
    registers: [registry],
    async collect() {
      this.set(await store.headPosition().catch(() => Number.NaN));
    },
  });
  new Gauge({
    name: 'nrm_relay_parked_events',
    help: 'Events the relay could not map and never published, waiting for a person (all time).',
    registers: [registry],
    collect() {
      this.set(relay.health().parked);
    },
  });
  new Gauge({
    name: 'nrm_relay_retries',
    help: 'Failed deliveries since the process started, each retried from the checkpoint.',
    registers: [registry],
    collect() {
      this.set(relay.health().retries);
    },
  });
  return registry;
}
