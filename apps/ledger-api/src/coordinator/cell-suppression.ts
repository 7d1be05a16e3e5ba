/** A published count, or the mark of one withheld because it is too small to publish safely. */
export type StatisticCell = { readonly count: number } | { readonly suppressed: true };

export const DEFAULT_MIN_CELL = 5;
export const MIN_CELL_RANGE = { min: 2, max: 100 } as const;

/**
 * Suppresses the small cells of one dimension (e.g. cases by region), so that
 * no published figure points at a handful of people:
 *
 * 1. primary: every cell counting fewer than `k` is published as `{ suppressed: true }`,
 *    never with its count;
 * 2. secondary: if that leaves exactly one suppressed cell beside published ones,
 *    the smallest published cell is suppressed too (ties: the first key in order).
 *    Otherwise the total, which other dimensions of the same cases reveal (cases by
 *    month and by region add up to the same number), minus the published cells
 *    would give the suppressed one away. With two or more suppressed cells only
 *    their sum can be recovered, and that sum is at least `k` whenever a
 *    published cell was added to it.
 *
 * No totals are published next to the cells (see `caseStatistics`). Cells of 0
 * are left out: a category that does not occur is not listed.
 * Keys come back sorted, so equal inputs give byte-equal answers.
 */
export function suppressSmallCells(
  counts: ReadonlyMap<string, number>,
  k: number,
): Record<string, StatisticCell> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError('k must be a whole number of at least 1');
  const cells = [...counts].filter(([, count]) => count > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const suppressed = new Set(cells.filter(([, count]) => count < k).map(([key]) => key));
  if (suppressed.size === 1 && cells.length > 1) {
    let smallest: [string, number] | undefined;
    for (const cell of cells) {
      if (suppressed.has(cell[0])) continue;
      if (smallest === undefined || cell[1] < smallest[1]) smallest = cell;
    }
    if (smallest) suppressed.add(smallest[0]);
  }
  const out: Record<string, StatisticCell> = {};
  for (const [key, count] of cells) out[key] = suppressed.has(key) ? { suppressed: true } : { count };
  return out;
}
