import { durations, percentile } from './percentile';

describe('percentile (nearest rank)', () => {
  it('is null without values', () => {
    expect(percentile([], 50)).toBeNull();
    expect(durations([])).toEqual({ count: 0, p50: null, p90: null });
  });

  it('is the one value when there is one', () => {
    expect(percentile([42], 50)).toBe(42);
    expect(percentile([42], 90)).toBe(42);
  });

  it('takes the value at rank ceil(p/100 * n) of the sorted values, whatever their order', () => {
    const values = [15, 20, 35, 40, 50];
    expect(percentile(values, 50)).toBe(35); // rank 3
    expect(percentile([50, 40, 35, 20, 15], 50)).toBe(35);
    expect(percentile(values, 90)).toBe(50); // rank 5
    expect(percentile(values, 30)).toBe(20); // rank 2
    expect(percentile(values, 100)).toBe(50);
  });

  it('gives the lower middle value for an even count, and p90 of ten values is the ninth', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(percentile(ten, 90)).toBe(9);
    expect(durations(ten)).toEqual({ count: 10, p50: 5, p90: 9 });
  });

  it('does not reorder the caller’s values', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it('refuses a p outside (0, 100]', () => {
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});
