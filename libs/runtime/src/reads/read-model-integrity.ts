import type { TableDivergence } from '@nrm/projections';

/** A divergence found and not yet cleared by a check that passed. Counts only. */
export interface ReadModelFinding {
  readonly detectedAt: string;
  readonly positions: Readonly<Record<string, number>>;
  readonly divergences: readonly TableDivergence[];
}

export interface ReadModelCheck {
  readonly at: string;
  readonly result: 'ok' | 'diverged' | 'error';
  readonly seconds: number;
  readonly tables?: number;
  readonly rows?: number;
  readonly eventsReplayed?: number;
  /** Why a check could not finish (no case data). */
  readonly error?: string;
}

/** What health, metrics and the read gate ask of the watch. */
export interface ReadModelIntegrity {
  /** Set from a divergence found until a later check finds the read models equal to their rebuild. */
  readonly finding: ReadModelFinding | undefined;
  readonly lastCheck: ReadModelCheck | undefined;
  /** Checks finished since start, by result. */
  readonly checks: Readonly<Record<ReadModelCheck['result'], number>>;
}
