/** A published count, or the mark of one withheld because publishing it could point at a handful of people. */
export type StatisticCell = { readonly count: number } | { readonly suppressed: true };

const SUPPRESSED: StatisticCell = Object.freeze({ suppressed: true });

/**
 * Suppresses the cells of one table of one month (e.g. that month's cases by
 * region), given in the table's fixed column order. Every column is a cell,
 * zeros included, so that an empty category looks exactly like a small one.
 *
 * 1. primary: every cell counting fewer than `k` cases (0 included) is suppressed;
 * 2. complementary: while the suppressed cells hold fewer than two non-empty
 *    cells, or fewer than `k` cases together, the smallest published cell is
 *    suppressed too (ties: the first column).
 *
 * The month's number of cases is the margin of the table (the region and agency
 * kind cells add up to it, each form cell is at most it); assume anyone knows it.
 * Then the suppressed cells' sum is all that subtraction gives, and that sum is
 * at least `k` and spread over at least two cells that hold cases: each
 * suppressed cell may be anything from 0 to that sum, so none is determined,
 * and none can be shown to be empty or not. When the table has too few cases
 * for that, every cell is suppressed.
 */
export function suppressTable(
  cells: ReadonlyArray<readonly [column: string, count: number]>,
  k: number,
): Record<string, StatisticCell> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError('k must be a whole number of at least 1');
  const suppressed = new Set<number>();
  cells.forEach(([, count], i) => {
    if (count < k) suppressed.add(i);
  });
  const exposed = (): boolean => {
    if (suppressed.size === 0) return false;
    let sum = 0;
    let nonEmpty = 0;
    for (const i of suppressed) {
      sum += cells[i]![1];
      if (cells[i]![1] > 0) nonEmpty += 1;
    }
    return nonEmpty < 2 || sum < k;
  };
  while (exposed() && suppressed.size < cells.length) {
    let smallest = -1;
    cells.forEach(([, count], i) => {
      if (!suppressed.has(i) && (smallest < 0 || count < cells[smallest]![1])) smallest = i;
    });
    suppressed.add(smallest);
  }
  const out: Record<string, StatisticCell> = {};
  cells.forEach(([column, count], i) => {
    out[column] = suppressed.has(i) ? SUPPRESSED : { count };
  });
  return out;
}

/** A single figure (e.g. a month's number of cases): published at `k` or more, otherwise suppressed. */
export function suppressCell(count: number, k: number): StatisticCell {
  return count < k ? SUPPRESSED : { count };
}
