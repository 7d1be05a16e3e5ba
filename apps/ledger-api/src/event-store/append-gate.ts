import type { IntegrityFinding, IntegrityStatus } from '@nrm/audit';
import type { EventStore } from '@nrm/event-store';
import { ProblemException } from '../http/problem';

export const APPEND_GATE = Symbol('APPEND_GATE');

/**
 * Fails the ledger closed while the event store diverges from its audit log:
 * the audit module's `IntegrityWatch` closes the gate on a finding, and every
 * append through the API's event store is then refused with a 503 problem
 * naming the kind and position, until a restart finds the store restored.
 */
export class AppendGate {
  private standing: IntegrityFinding | undefined;
  private watch: (() => IntegrityStatus) | undefined;

  get finding(): IntegrityFinding | undefined {
    return this.standing;
  }

  /** The watch's status, for /health and the metrics; undefined where no watch runs. */
  status(): IntegrityStatus | undefined {
    return this.watch?.();
  }

  attach(status: () => IntegrityStatus): void {
    this.watch = status;
  }

  close(finding: IntegrityFinding): void {
    this.standing ??= finding;
  }

  /** Throws the 503 problem while a finding stands. */
  check(): void {
    const finding = this.standing;
    if (!finding) return;
    throw new ProblemException({
      status: 503,
      title: 'The ledger refuses new records: its event store diverged from the audit log',
      code: 'AUDIT.INTEGRITY_HALT',
      detail: `Integrity finding ${finding.id}: ${finding.kind} at position ${finding.position}, detected ${finding.detectedAt}. Nothing is recorded until an operator restores the event store and restarts the ledger.`,
    });
  }
}

/**
 * The store as the API uses it: appends only while the gate is open. The store's own `append` is
 * replaced on the instance (not wrapped in a Proxy): every other member stays the store's own, so
 * nothing is re-bound on each call and a test can still spy on the store's methods.
 */
export function gatedEventStore(store: EventStore, gate: AppendGate): EventStore {
  const append = store.append.bind(store);
  store.append = (stream, events, options) => {
    gate.check();
    return append(stream, events, options);
  };
  return store;
}
