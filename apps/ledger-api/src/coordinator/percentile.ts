/**
 * The p-th percentile by the nearest-rank method: the smallest value such that
 * at least p % of the values are at or below it. It is always one of the
 * observed values, so a coordinator can find it on the board; `null` when there
 * are no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError('p must be in (0, 100]');
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

/** How long something took, summarised as the board shows it. */
export interface Durations {
  /** How many of the referrals have this duration. */
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
}

export function durations(values: readonly number[]): Durations {
  return { count: values.length, p50: percentile(values, 50), p90: percentile(values, 90) };
}
