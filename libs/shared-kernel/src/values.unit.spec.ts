import fc from 'fast-check';
import {
  MAX_YEAR,
  MIN_YEAR,
  idListProblem,
  isCalendarDate,
  isInstant,
  isRegionCode,
  parseInstant,
  textProblem,
} from './values';

describe('parseInstant', () => {
  it('reads strict ISO-8601 instants with a zone', () => {
    expect(parseInstant('2026-12-02T17:00:00Z')).toBe(Date.UTC(2026, 11, 2, 17));
    expect(parseInstant('2026-12-02T17:00Z')).toBe(Date.UTC(2026, 11, 2, 17));
    expect(parseInstant('2026-12-02T18:00:00.123456789+01:00')).toBe(Date.UTC(2026, 11, 2, 17, 0, 0, 123));
    expect(parseInstant('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
  });

  it('refuses days that do not exist instead of rolling them over', () => {
    for (const value of [
      '2026-02-30T00:00:00Z',
      '2025-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2026-01-00T00:00:00Z',
    ])
      expect(parseInstant(value)).toBeUndefined();
  });

  it('refuses times and zones out of range, missing zones and years out of range', () => {
    for (const value of [
      '2026-01-01T24:00:00Z',
      '2026-01-01T23:60:00Z',
      '2026-01-01T23:59:60Z',
      '2026-01-01T12:00:00+24:00',
      '2026-01-01T12:00:00+01:60',
      '2026-01-01T12:00:00',
      '2026-01-01',
      '0000-01-01T00:00:00Z',
      `${MIN_YEAR - 1}-12-31T23:59:59Z`,
      '+010000-01-01T00:00:00Z',
      '2026-01-01T12:00:00.1234567890Z',
      ' 2026-01-01T12:00:00Z',
      20260101,
      null,
    ])
      expect(parseInstant(value)).toBeUndefined();
    expect(isInstant(`${MAX_YEAR}-12-31T23:59:59Z`)).toBe(true);
  });

  it('agrees with Date on every real instant and refuses what Date rolls over (attack)', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_YEAR, max: MAX_YEAR }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        (year, month, day, hour) => {
          const text = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`;
          const rolled = new Date(Date.UTC(year, month - 1, day, hour));
          const real = rolled.getUTCDate() === day;
          if (real) accepted++;
          else refused++;
          expect(parseInstant(text)).toBe(real ? rolled.getTime() : undefined);
        },
      ),
      { numRuns: 2000 },
    );
    console.log(
      `parseInstant: ${accepted} real instants read as Date reads them, ${refused} rolled-over days refused`,
    );
    expect(refused).toBeGreaterThan(0);
  });
});

describe('isCalendarDate', () => {
  it('accepts real days within the year range only', () => {
    expect(isCalendarDate('2024-02-29')).toBe(true);
    expect(isCalendarDate('1900-01-01')).toBe(true);
    expect(isCalendarDate('9999-12-31')).toBe(true);
    for (const value of [
      '0000-01-01',
      '1899-12-31',
      '2025-02-29',
      '1900-02-29',
      '2025-06-31',
      '2025-1-01',
      20250101,
    ])
      expect(isCalendarDate(value)).toBe(false);
  });
});

describe('textProblem', () => {
  const name = { min: 1, max: 20 };
  const notes = { min: 1, max: 20, multiline: true };

  it('accepts plain text and, in free text, line breaks', () => {
    expect(textProblem('Ana Inventada', name, 'fullName')).toBeUndefined();
    expect(textProblem('Zoë Ñúñez 李', name, 'fullName')).toBeUndefined();
    expect(textProblem('line one\nline two', notes, 'notes')).toBeUndefined();
  });

  it('refuses control and bidirectional override characters, naming the field (attack)', () => {
    const hostile = [
      'Ana\u0000',
      'Ana\u0007x',
      'Ana\u001b[31m',
      'Ana\u007f',
      'Ana\u0085',
      'abc\u202Edcba',
      'abc\u2066x\u2069',
      'abc\u202Ax',
    ];
    const refused = hostile.filter((value) => textProblem(value, notes, 'notes')?.startsWith('notes '));
    const oneLine = textProblem('two\nlines', name, 'fullName');
    console.log(
      `textProblem: ${refused.length}/${hostile.length} hostile texts refused; a line break in a name: ${oneLine ? 'refused' : 'accepted'}`,
    );
    expect(refused).toHaveLength(hostile.length);
    expect(oneLine).toMatch(/^fullName /);
  });

  it('bounds the length in characters, after trimming for the least', () => {
    expect(textProblem('   ', name, 'fullName')).toMatch(/1 to 20/);
    expect(textProblem('x'.repeat(21), name, 'fullName')).toMatch(/1 to 20/);
    expect(textProblem('😀'.repeat(20), name, 'fullName')).toBeUndefined();
    expect(textProblem(42, name, 'fullName')).toBe('fullName must be text');
  });
});

describe('idListProblem', () => {
  const bounds = { min: 1, max: 3, id: /^[a-z0-9-]{1,80}$/ };

  it('accepts a bounded list of distinct ids', () => {
    expect(idListProblem(['a', 'b'], bounds, 'agencyIds')).toBeUndefined();
  });

  it('names the repeated or malformed element and the bounds', () => {
    expect(idListProblem(['a', 'b', 'a'], bounds, 'agencyIds')).toBe(
      'agencyIds[2] repeats an id listed before',
    );
    expect(idListProblem(['a', 'B!'], bounds, 'agencyIds')).toBe('agencyIds[1] is not a valid id');
    expect(idListProblem([], bounds, 'agencyIds')).toMatch(/1 to 3/);
    expect(idListProblem(['a', 'b', 'c', 'd'], bounds, 'agencyIds')).toMatch(/1 to 3/);
    expect(idListProblem('a', bounds, 'agencyIds')).toBe('agencyIds must be a list');
  });
});

describe('isRegionCode', () => {
  it('accepts ISO 3166-2 subdivisions, NUTS regions and countries, nothing else', () => {
    for (const value of ['NL-ZH', 'NL', 'GB-ENG', 'FR-75', 'ES51', 'NL33C'])
      expect(isRegionCode(value)).toBe(true);
    for (const value of [
      'nl-zh',
      '12 Main Street, Leiden',
      'NL-ZH-1',
      'case-status',
      'N',
      'NL_ZH',
      'NL-',
      'NL-ZHXX',
      '',
    ])
      expect(isRegionCode(value)).toBe(false);
  });
});
