import fc from 'fast-check';
import { canonicalJson, CanonicalJsonError, MAX_CANONICAL_DEPTH } from './canonical-json';

describe('canonical JSON (RFC 8785 style)', () => {
  it('sorts members by UTF-16 code units, at every depth, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: true, c: null }], '': 'empty' })).toBe(
      '{"":"empty","a":[3,{"c":null,"d":true}],"b":1}',
    );
    // U+10000 is written as the surrogate pair D800 DC00, which sorts before U+FF61 by code unit
    // (though after it by code point): JCS orders by code unit.
    expect(canonicalJson({ '\uff61': 1, '\u{10000}': 2, z: 3 })).toBe('{"z":3,"\u{10000}":2,"\uff61":1}');
  });

  it('writes numbers as ECMAScript does', () => {
    expect(canonicalJson([1e21, 1e-7, 0.000001, -0, 123.456, 2 ** 53, 5e-324])).toBe(
      '[1e+21,1e-7,0.000001,0,123.456,9007199254740992,5e-324]',
    );
  });

  it('escapes only what JSON must, and keeps other characters as they are', () => {
    expect(canonicalJson('tab\t "quote" \\ \u0001 é 😀 \u2028')).toBe(
      '"tab\\t \\"quote\\" \\\\ \\u0001 é 😀 \u2028"',
    );
    // A lone surrogate, which the event store accepts, gets one spelling too.
    expect(canonicalJson('\ud800')).toBe('"\\ud800"');
  });

  it('leaves out undefined members, as the event store does', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
  });

  it('refuses what is not JSON, saying where', () => {
    const where = (value: unknown) => {
      try {
        canonicalJson(value);
        return 'accepted';
      } catch (error) {
        return error instanceof CanonicalJsonError ? error.path : 'another error';
      }
    };
    expect(where({ a: [1, Number.NaN] })).toBe('/a/1');
    expect(where({ a: { b: Number.POSITIVE_INFINITY } })).toBe('/a/b');
    expect(where({ when: new Date(0) })).toBe('/when');
    expect(where(new Map())).toBe('');
    expect(where([undefined])).toBe('/0');
    expect(where(undefined)).toBe('');
    expect(where({ n: 10n })).toBe('/n');
    expect(where({ f: () => 1 })).toBe('/f');
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_CANONICAL_DEPTH; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(/nested deeper than/);
  });

  it('is a fixed point of JSON.parse, and ignores member order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        return canonicalJson(JSON.parse(text)) === text;
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        return canonicalJson(reversed) === canonicalJson(record);
      }),
      { numRuns: 300 },
    );
  });
});
