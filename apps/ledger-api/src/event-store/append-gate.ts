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

/** The store as the API uses it: every call passes through, appends only while the gate is open. */
export function gatedEventStore(store: EventStore, gate: AppendGate): EventStore {
  const append: EventStore['append'] = (stream, events, options) => {
    gate.check();
    return store.append(stream, events, options);
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'append') return append;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
