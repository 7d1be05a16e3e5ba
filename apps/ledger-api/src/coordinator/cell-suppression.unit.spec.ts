import fc from 'fast-check';
import { suppressSmallCells, type StatisticCell } from './cell-suppression';

const cells = (entries: Record<string, number>) => new Map(Object.entries(entries));
const published = (out: Record<string, StatisticCell>) =>
  Object.values(out).reduce((sum, cell) => sum + ('count' in cell ? cell.count : 0), 0);

describe('suppressSmallCells', () => {
  it('publishes cells of at least k as counts and hides smaller ones without their count', () => {
    const out = suppressSmallCells(cells({ 'NL-ZH': 9, 'NL-NH': 3, 'NL-UT': 2, 'NL-GR': 5 }), 5);
    expect(out).toEqual({
      'NL-GR': { count: 5 },
      'NL-NH': { suppressed: true },
      'NL-UT': { suppressed: true },
      'NL-ZH': { count: 9 },
    });
    expect(JSON.stringify(out['NL-NH'])).toBe('{"suppressed":true}');
  });

  it('also hides the smallest published cell when only one cell would be suppressed, so a total cannot reveal it', () => {
    const counts = cells({ labour: 12, sexual: 7, 'domestic-servitude': 2, 'forced-begging': 8 });
    const out = suppressSmallCells(counts, 5);
    expect(out).toEqual({
      'domestic-servitude': { suppressed: true },
      'forced-begging': { count: 8 },
      labour: { count: 12 },
      sexual: { suppressed: true },
    });
    // The total (29) is known from another dimension; subtracting what is published leaves 9 = 2 + 7, not 2.
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(total - published(out)).toBe(9);
  });

  it('breaks a tie for the secondary cell by key, so that answers are stable', () => {
    expect(suppressSmallCells(cells({ b: 6, a: 6, c: 1 }), 5)).toEqual({
      a: { suppressed: true },
      b: { count: 6 },
      c: { suppressed: true },
    });
  });

  it('hides a lone small cell (its total is small too, so every other dimension is hidden as well)', () => {
    expect(suppressSmallCells(cells({ 'NL-ZH': 3 }), 5)).toEqual({ 'NL-ZH': { suppressed: true } });
  });

  it('leaves out cells of zero and publishes everything at k = 1', () => {
    expect(suppressSmallCells(cells({ a: 0, b: 1 }), 1)).toEqual({ b: { count: 1 } });
  });

  it('refuses a k that is not a whole number of at least 1', () => {
    expect(() => suppressSmallCells(cells({ a: 1 }), 0)).toThrow(RangeError);
    expect(() => suppressSmallCells(cells({ a: 1 }), 2.5)).toThrow(RangeError);
  });

  it('never lets the total of a dimension minus its published cells equal a single cell smaller than k', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.nat({ max: 30 }), { maxKeys: 8 }),
        fc.integer({ min: 2, max: 12 }),
        (dict, k) => {
          const counts = cells(dict);
          const out = suppressSmallCells(counts, k);
          const listed = Object.entries(out);
          const hidden = listed.filter(([, cell]) => 'suppressed' in cell);
          for (const [key, cell] of listed) {
            const count = counts.get(key)!;
            if ('count' in cell) {
              expect(cell.count).toBe(count); // published counts are exact
              expect(count).toBeGreaterThanOrEqual(k); // and never small
            } else {
              expect(Object.keys(cell)).toEqual(['suppressed']); // a hidden cell carries no count
            }
          }
          // Every small cell is hidden.
          for (const [key, count] of counts)
            if (count > 0 && count < k) expect(out[key]).toEqual({ suppressed: true });
          // One hidden cell only when it is the whole dimension (then the total is below k everywhere).
          if (hidden.length === 1) expect(listed).toHaveLength(1);
          // What subtraction from the total gives is the sum of at least two hidden cells, or nothing.
          const total = [...counts.values()].reduce((a, b) => a + b, 0);
          const recovered = total - published(out);
          if (hidden.length >= 2)
            expect(recovered).toBeGreaterThan(Math.max(...hidden.map(([key]) => counts.get(key)!)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
