import type { IntegrityFinding, IntegrityStatus, MerkleLogHealth } from '@nrm/audit';
import type { EventStore } from '@nrm/event-store';
import { ProblemException } from '../http/problem';

export const APPEND_GATE = Symbol('APPEND_GATE');

/**
 * Fails the ledger closed while the event store diverges from its audit log:
 * the audit module's `IntegrityWatch` closes the gate on a finding, and every
 * append through the API's event store is then refused with a 503 problem
 * naming the kind and position, until a restart finds the store restored.
 * It closes too when the audit log itself stops for good (its worker thread exited): nothing is
 * recorded that no watch compares with the log, until a restart.
 */
export class AppendGate {
  private standing: IntegrityFinding | undefined;
  private stopped: string | undefined;
  private watch: (() => IntegrityStatus) | undefined;
  private log: (() => MerkleLogHealth) | undefined;

  get finding(): IntegrityFinding | undefined {
    return this.standing;
  }

  /** Why the audit log no longer runs (its thread exited), while that stands. */
  get halted(): string | undefined {
    return this.stopped;
  }

  /** The watch's status, for /health and the metrics; undefined where no watch runs. */
  status(): IntegrityStatus | undefined {
    return this.watch?.();
  }

  /** The log's health (state, role, tree size), for /health; undefined where no log runs. */
  logHealth(): MerkleLogHealth | undefined {
    return this.log?.();
  }

  attach(status: () => IntegrityStatus, log?: () => MerkleLogHealth): void {
    this.watch = status;
    this.log = log;
  }

  close(finding: IntegrityFinding): void {
    this.standing ??= finding;
  }

  /** The audit log stopped for good (`reason`): appends are refused until a restart. */
  halt(reason: string): void {
    this.stopped ??= reason;
  }

  /** Throws the 503 problem while a finding stands, or while the audit log is stopped. */
  check(): void {
    const finding = this.standing;
    if (!finding) {
      if (this.stopped !== undefined)
        throw new ProblemException({
          status: 503,
          title: 'The ledger refuses new records: its audit log is not running',
          code: 'AUDIT.UNAVAILABLE',
          detail: `${this.stopped}. Nothing is recorded until the ledger restarts.`,
        });
      return;
    }
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
