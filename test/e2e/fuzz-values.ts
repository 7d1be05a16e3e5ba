/**
 * The values the OpenAPI fuzzer sends (test/e2e/openapi-fuzz.e2e.spec.ts), generated from the
 * schemas of the document the app serves: right, wrong and hostile. Shared with the test that
 * checks the compiled validation against class-validator on the same corpus
 * (test/e2e/validation-equivalence.e2e.spec.ts).
 */
import fc from 'fast-check';

// ---- the OpenAPI document, as much of it as the generator reads --------------------------------

export interface Schema {
  readonly $ref?: string;
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly allOf?: readonly Schema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly example?: unknown;
}

export interface Parameter {
  readonly in: string;
  readonly name: string;
  readonly required?: boolean;
  readonly schema?: Schema;
}

export interface Operation {
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly content?: Readonly<Record<string, { readonly schema?: Schema }>> };
}

export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, Schema>> };
}

export const DAY_MS = 86_400_000;
export const NOW = Date.now();

// ---- generated values -----------------------------------------------------------------------------

/**
 * An id seen during the run (a case, a referral, an agency...), chosen when the request is sent:
 * the pools grow as commands succeed, so later requests reach deeper states.
 */
export class IdRef {
  constructor(
    readonly pool: string,
    readonly pick: number,
  ) {}
}

export type Gen = null | boolean | number | string | IdRef | readonly Gen[] | { readonly [key: string]: Gen };

export type Body =
  | { readonly kind: 'json'; readonly value: Gen; readonly spoil: Spoiling | undefined }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly bytes: readonly number[] };

export type Spoiling =
  'truncate' | 'trailing-comma' | 'bom' | 'single-quotes' | 'append-garbage' | 'duplicate-key';

/** Strings that have broken parsers, validators, stores and templates elsewhere (invented, harmless). */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\u202eevil\u202c',
  '\u200f\u200e\u200b',
  '\ufeff',
  '\uffff',
  'مرحبا بالعالم',
  'שלום',
  '𝕏𝕐ℤ',
  '👩‍👩‍👧‍👦',
  'e\u0301\u0301\u0301',
  'İıſ',
  '\r\n\r\n',
  '\t',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e999',
  "' OR '1'='1",
  "1'; DROP TABLE events; --",
  '" OR 1=1 --',
  "x' UNION SELECT * FROM sqlite_master --",
  '{"$gt": ""}',
  '${7*7}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2f',
  'file:///etc/passwd',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '-leading-dash',
  'a'.repeat(81),
];

export const POLLUTION_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  '$where',
  '',
  'extra',
];

export const loneSurrogates = fc.string({
  unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
  minLength: 1,
  maxLength: 4,
});

/** Long strings: over any documented maxLength, and sometimes far over. */
export const oversized = fc
  .tuple(fc.constantFrom('x', 'é', '𝕏', '\u0000', '\ud800', "'"), fc.integer({ min: 201, max: 120_000 }))
  .map(([unit, length]) => unit.repeat(length));

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: loneSurrogates },
  { weight: 1, arbitrary: oversized },
);

export const wrongTyped: fc.Arbitrary<Gen> = fc.oneof(
  fc.constantFrom<Gen>(null, true, false, 0, -1, 1.5, -0.0001, 2 ** 53 + 2, 1e308, -1e308, [], {}, [null], {
    '': null,
  }),
  nastyString,
  fc.array(nastyString, { maxLength: 3 }),
);

export const boundaryNumber = (schema: Schema): fc.Arbitrary<Gen> => {
  const min = schema.minimum ?? 0;
  const max = schema.maximum ?? min + 1000;
  return fc.constantFrom<Gen>(min - 1, max + 1, min - 0.5, max + 0.5, -(2 ** 31), 2 ** 31, 2 ** 53, 1e21);
};

export const INSTANT_EXAMPLE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
export const DATE_EXAMPLE = /^\d{4}-\d{2}-\d{2}$/;

/** An instant some days from now: mostly ahead (expiries, deadlines), sometimes behind. */
export const instant = fc
  .integer({ min: -40, max: 400 })
  .chain((days) => fc.integer({ min: 0, max: DAY_MS - 1 }).map((ms) => new Date(NOW + days * DAY_MS + ms)))
  .map((date) => date.toISOString());
export const day = fc
  .integer({ min: -10, max: 90 })
  .map((days) => new Date(NOW + days * DAY_MS).toISOString().slice(0, 10));
export const idRef = (pool: string): fc.Arbitrary<Gen> => fc.nat().map((pick) => new IdRef(pool, pick));

/** The value `percent` times in a hundred, otherwise undefined (absent). */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: 100 - percent, arbitrary: fc.constant(undefined) },
    { weight: percent, arbitrary },
  );
}

export function resolveSchema(schema: Schema | undefined, document: OpenApiDocument): Schema {
  if (!schema) return {};
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
    return resolveSchema(document.components?.schemas?.[name], document);
  }
  if (schema.allOf?.length === 1 && !schema.properties) return resolveSchema(schema.allOf[0], document);
  return schema;
}

/** Values the schema (and the field's name, where the schema is too loose) says are right. */
/** Whether an object's fields are all generated right, or right and wrong mixed. */
export type Shape = 'valid' | 'mixed';

export function validValue(
  raw: Schema,
  name: string,
  document: OpenApiDocument,
  depth: number,
  shape: Shape = 'mixed',
): fc.Arbitrary<Gen> {
  const schema = resolveSchema(raw, document);
  // Names say more than a loose schema: ids of agencies and principals are only right when registered.
  if (/agencyIds$/i.test(name)) return fc.array(idRef('agencyId'), { minLength: 1, maxLength: 3 });
  if (/agencyId$/i.test(name)) return idRef('agencyId');
  if (/principalId$/i.test(name)) return idRef('principalId');
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...(schema.enum as Gen[]));
  const example = schema.example;
  switch (schema.type) {
    case 'boolean':
      return fc.boolean();
    case 'number':
    case 'integer': {
      const min = schema.minimum ?? (typeof example === 'number' ? Math.min(example, 1) : 0);
      const max = schema.maximum ?? Math.max(min + 60, typeof example === 'number' ? example * 3 : 0);
      return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
    }
    case 'array': {
      const items = resolveSchema(schema.items, document);
      if (items.enum && items.enum.length > 0)
        return fc.subarray(items.enum as Gen[], { minLength: Math.min(1, items.enum.length) });
      if (Array.isArray(example)) return fc.subarray(example as Gen[], { minLength: 1 });
      return fc.array(validValue(items, name, document, depth + 1, shape), { minLength: 1, maxLength: 3 });
    }
    case 'object':
      return depth > 4 ? fc.constant({}) : objectValue(schema, document, depth + 1, shape);
    default:
      if (typeof example === 'string') {
        if (INSTANT_EXAMPLE.test(example)) return instant;
        if (DATE_EXAMPLE.test(example)) return day;
        return fc.constant(example);
      }
      if (schema.properties) return objectValue(schema, document, depth + 1, shape);
      return fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
  }
}

/** Something the schema says is wrong: another type, a value just past a bound, a hostile string. */
export function invalidValue(raw: Schema, document: OpenApiDocument): fc.Arbitrary<Gen> {
  const schema = resolveSchema(raw, document);
  const choices: fc.Arbitrary<Gen>[] = [wrongTyped, nastyString];
  if (schema.type === 'number' || schema.type === 'integer') choices.push(boundaryNumber(schema));
  if (schema.maxLength !== undefined) choices.push(fc.constant('m'.repeat(schema.maxLength + 1)));
  if (schema.minLength !== undefined && schema.minLength > 0)
    choices.push(fc.constant('m'.repeat(schema.minLength - 1)));
  if (schema.type === 'array')
    choices.push(fc.constant([]), fc.array(wrongTyped, { minLength: 1, maxLength: 60 }));
  // An allowed word with a trailing space: close enough to slip past a sloppy comparison.
  const words = (schema.enum ?? []).filter((v): v is string => typeof v === 'string');
  if (words.length > 0) choices.push(fc.constantFrom(...words).map((word) => `${word} `));
  return fc.oneof(...choices);
}

export function fieldValue(
  schema: Schema,
  name: string,
  document: OpenApiDocument,
  depth: number,
): fc.Arbitrary<Gen> {
  return fc.oneof(
    { weight: 14, arbitrary: validValue(schema, name, document, depth) },
    { weight: 3, arbitrary: invalidValue(schema, document) },
  );
}

/**
 * An object after the schema, in one of three shapes: every field right (to reach the domain), all
 * right but one (to see that one refused and named), or each field right or wrong by chance. Required
 * fields are nearly always there, optional ones half the time; now and then a stray key comes along.
 */
export function objectValue(
  schema: Schema,
  document: OpenApiDocument,
  depth: number,
  shape: Shape,
): fc.Arbitrary<Gen> {
  const required = new Set(schema.required ?? []);
  const properties = Object.entries(schema.properties ?? {});
  const field = (name: string, value: fc.Arbitrary<Gen>) =>
    sometimes(value, required.has(name) ? 97 : 50).map((v) => [name, v] as const);
  const assemble = (
    entries: ReadonlyArray<readonly [string, Gen | undefined]>,
    extra?: readonly [string, Gen],
  ) => {
    const present = entries.filter((entry): entry is readonly [string, Gen] => entry[1] !== undefined);
    if (extra) present.push(extra);
    // fromEntries defines own properties: a "__proto__" key stays a key, as JSON.parse would make it.
    return Object.fromEntries(present) as Gen;
  };
  const valid = fc
    .tuple(
      ...properties.map(([name, property]) =>
        field(name, validValue(property, name, document, depth, 'valid')),
      ),
    )
    .map((entries) => assemble(entries));
  if (shape === 'valid' || properties.length === 0) return valid;
  const oneWrong = fc
    .nat({ max: properties.length - 1 })
    .chain((wrong) =>
      fc
        .tuple(
          ...properties.map(([name, property], i) =>
            i === wrong
              ? invalidValue(property, document).map((v) => [name, v] as const)
              : field(name, validValue(property, name, document, depth, 'valid')),
          ),
        )
        .map((entries) => assemble(entries)),
    );
  const stray = sometimes(fc.tuple(fc.constantFrom(...POLLUTION_KEYS), wrongTyped), 8);
  const mixed = fc
    .tuple(
      fc.tuple(
        ...properties.map(([name, property]) => field(name, fieldValue(property, name, document, depth))),
      ),
      stray,
    )
    .map(([entries, extra]) => assemble(entries, extra));
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    { weight: 4, arbitrary: oneWrong },
    { weight: 3, arbitrary: mixed },
  );
}

export function bodyValue(schema: Schema | undefined, document: OpenApiDocument): fc.Arbitrary<Body> {
  const object: fc.Arbitrary<Gen> = schema
    ? objectValue(resolveSchema(schema, document), document, 0, 'mixed')
    : fc.oneof(fc.constant({}), fc.dictionary(fc.constantFrom(...POLLUTION_KEYS, 'reason'), wrongTyped));
  const value: fc.Arbitrary<Gen> = fc.oneof(
    { weight: 20, arbitrary: object },
    { weight: 1, arbitrary: fc.array(object, { maxLength: 2 }) },
    { weight: 1, arbitrary: wrongTyped },
  );
  const spoil = sometimes(
    fc.constantFrom<Spoiling>(
      'truncate',
      'trailing-comma',
      'bom',
      'single-quotes',
      'append-garbage',
      'duplicate-key',
    ),
    8,
  );
  return fc.oneof(
    { weight: 30, arbitrary: fc.record({ kind: fc.constant('json' as const), value, spoil }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('text' as const),
        text: fc.oneof(
          fc.constantFrom(
            '',
            'null',
            '{',
            '{"a":',
            "{'minor': false}",
            '{"__proto__": {"polluted": true}}',
            '{"constructor": {"prototype": {"polluted": true}}}',
            '{"a": NaN}',
            '{"a": 1e999999}',
            '{"a": "\\ud800"}',
            '{"a": "\u0000"}',
            '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
            'outcome=positive&reason=other',
            '<outcome>positive</outcome>',
          ),
          fc
            .integer({ min: 40, max: 20_000 })
            .map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
          fc.string({ unit: 'binary', maxLength: 60 }),
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('bytes' as const),
        // Not UTF-8: stray continuation bytes, overlong forms, an encoded surrogate.
        bytes: fc.array(
          fc.constantFrom(0x7b, 0x22, 0x61, 0x3a, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x7d),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
      }),
    },
  );
}
