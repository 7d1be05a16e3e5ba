/**
 * Canonical JSON in the manner of RFC 8785 (JCS): object members sorted by the
 * UTF-16 code units of their names, no whitespace, strings and numbers written
 * as ECMAScript's JSON.stringify writes them (which is what JCS prescribes), no
 * NaN or Infinity.
 *
 * One deliberate difference: JCS refuses strings with lone surrogates (I-JSON);
 * the event store accepts them (they survive its JSON round trip), and every
 * stored event must have a leaf, so they are written as JSON.stringify writes
 * them (`\udc00`), which is just as deterministic.
 *
 * No import and no Node API: the web console runs this same code to verify an export in the browser.
 *
 * Two parties that hold the same JSON value produce the same bytes, so a hash
 * over them is a hash over the value, not over one serialiser's whims.
 */

export class CanonicalJsonError extends Error {
  constructor(
    /** What is wrong, without where. */
    readonly reason: string,
    /** Where in the value, as a JSON-pointer-like path (`/data/items/3`). */
    readonly path: string,
  ) {
    super(`${reason} at ${path === '' ? 'the top level' : path}`);
    this.name = 'CanonicalJsonError';
  }
}

/** Keeps hostile input from exhausting the stack; far deeper than any event the ledger writes. */
export const MAX_CANONICAL_DEPTH = 2048;

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Writes one member or item; an error below it gains this step of its path on the way up. */
function writeAt(value: unknown, depth: number, step: string | number): string {
  try {
    return write(value, depth);
  } catch (error) {
    if (error instanceof CanonicalJsonError)
      throw new CanonicalJsonError(error.reason, `/${step}${error.path}`);
    throw error;
  }
}

function write(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${value} is not a JSON number`, '');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_CANONICAL_DEPTH)
        throw new CanonicalJsonError(`nested deeper than ${MAX_CANONICAL_DEPTH} levels`, '');
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + writeAt(value[i], depth + 1, i);
        return `${out}]`;
      }
      if (!isPlainObject(value)) throw new CanonicalJsonError('only plain objects are JSON objects', '');
      const record = value as Record<string, unknown>;
      // The default sort compares UTF-16 code units: exactly JCS's member order.
      const names = Object.keys(record).sort();
      let out = '{';
      for (const name of names) {
        const member = record[name];
        // Left out, as JSON.stringify (and so the event store) leaves it out.
        if (member === undefined) continue;
        out += `${out.length === 1 ? '' : ','}${JSON.stringify(name)}:${writeAt(member, depth + 1, name)}`;
      }
      return `${out}}`;
    }
    default:
      throw new CanonicalJsonError(
        `${value === undefined ? 'undefined' : `a ${typeof value}`} is not a JSON value`,
        '',
      );
  }
}

/** The canonical JSON text of a JSON value; throws `CanonicalJsonError` for anything that is not one. */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}
