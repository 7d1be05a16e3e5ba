import { ProblemException } from '../http/problem';
import { periodOf } from './audited-read';

describe('periodOf', () => {
  it('turns the bounds into UTC instants, so that they compare with the stored ones as strings', () => {
    expect(periodOf({ from: '2026-03-01T11:00:00+01:00', to: '2026-03-02T00:00:00Z' })).toEqual({
      from: '2026-03-01T10:00:00.000Z',
      to: '2026-03-02T00:00:00.000Z',
    });
    expect(periodOf({})).toEqual({});
    expect(periodOf({ to: '2026-03-02T00:00:00Z' })).toEqual({ to: '2026-03-02T00:00:00.000Z' });
  });

  it('refuses a period that ends before it starts, naming `to` (zones taken into account)', () => {
    // 10:30+02:00 is 08:30Z: before 09:00Z although the digits say otherwise.
    const inverted = () => periodOf({ from: '2026-03-01T09:00:00Z', to: '2026-03-01T10:30:00+02:00' });
    expect(inverted).toThrow(ProblemException);
    try {
      inverted();
    } catch (error) {
      expect((error as ProblemException).problem).toMatchObject({ status: 400, field: 'to' });
    }
    expect(periodOf({ from: '2026-03-01T09:00:00Z', to: '2026-03-01T09:00:00Z' })).toEqual({
      from: '2026-03-01T09:00:00.000Z',
      to: '2026-03-01T09:00:00.000Z',
    });
  });
});
