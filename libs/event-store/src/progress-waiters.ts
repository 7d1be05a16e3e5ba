interface Waiter {
  readonly target: number;
  readonly settle: (reached: boolean) => void;
}

/**
 * Callers waiting for a consumer of the store (a projector, the audit log) to
 * reach a position: each resolves true once it is reached, false when the
 * timeout passes or the consumer gives up.
 */
export class ProgressWaiters {
  private readonly waiters = new Set<Waiter>();

  /** Resolves true once `advance` reports `target` or beyond, false after `timeoutMs` or on `abandon`. */
  wait(target: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        target,
        settle: (reached) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), Math.max(0, timeoutMs));
      this.waiters.add(waiter);
    });
  }

  /** Settles true every waiter whose target is at or below `reached`. */
  advance(reached: number): void {
    for (const waiter of [...this.waiters]) if (waiter.target <= reached) waiter.settle(true);
  }

  /** Settles every waiter false: what they wait for will not come (failure, close). */
  abandon(): void {
    for (const waiter of [...this.waiters]) waiter.settle(false);
  }
}
