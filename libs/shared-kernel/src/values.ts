/**
 * The value rules every context and every entry point share, each written once: instants,
 * calendar dates, bounded text and id lists. Pure functions, no clock and no framework: the
 * deciders call them to refuse a command, the API's DTO decorators call the same functions to
 * name the offending field early. Each parser answers `undefined` (or a reason) instead of
 * throwing, so that the caller chooses its own error code and words.
 */

/** The years a date or instant of the ledger may name: earlier or later is a typing error. */
export const MIN_YEAR = 1900;
export const MAX_YEAR = 9999;

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Days of `month` (1–12) in `year`. */
export const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** A year, month and day that exist on the calendar, within [MIN_YEAR, MAX_YEAR]: never rolled over. */
function isRealDay(year: number, month: number, day: number): boolean {
  return (
    year >= MIN_YEAR &&
    year <= MAX_YEAR &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

// ---- instants -------------------------------------------------------------------------------------------

/**
 * An ISO-8601 instant with date, time and an explicit zone (`Z` or `±HH:MM`): without a zone,
 * `Date.parse` would read it as server-local time. Seconds and up to 9 fraction digits are optional.
 */
const INSTANT_SHAPE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** An ISO-8601 instant, as written. */
export type Instant = string;

/** An example for messages: what a client should send. */
export const INSTANT_EXAMPLE = '2026-12-02T17:00:00Z';

/**
 * Milliseconds since the epoch of a strict ISO-8601 instant with a zone, or `undefined` when
 * `value` is no such instant: a day that does not exist (`2026-02-30`, never rolled to 2 March),
 * an hour past 23, a minute or second past 59, a zone offset past 23:59, a year outside
 * [MIN_YEAR, MAX_YEAR].
 */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = INSTANT_SHAPE.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!isRealDay(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  if (match[7] !== undefined && (Number(match[8]) > 23 || Number(match[9]) > 59)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether `value` is an instant `parseInstant` reads. */
export const isInstant = (value: unknown): value is Instant => parseInstant(value) !== undefined;

/** The words for a refused instant, naming the field. */
export const instantMessage = (field: string): string =>
  `${field} must be an ISO-8601 instant with a time zone on a real calendar day, e.g. ${INSTANT_EXAMPLE}`;

// ---- calendar dates -------------------------------------------------------------------------------------

/** A date written `YYYY-MM-DD`. */
export type CalendarDate = string;

/** The shape of a calendar date, `YYYY-MM-DD` (a DTO checks the shape; `isCalendarDate` the day). */
export const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * True when `value` is a `YYYY-MM-DD` string naming a day that exists (no 30 February) in a
 * year within [MIN_YEAR, MAX_YEAR] (no `0000-01-01`).
 */
export function isCalendarDate(value: unknown): value is CalendarDate {
  if (typeof value !== 'string' || !DATE_SHAPE.test(value)) return false;
  const [year, month, day] = value.split('-').map(Number) as [number, number, number];
  return isRealDay(year, month, day);
}

/** The words for a refused calendar date, naming the field. */
export const calendarDateMessage = (field: string): string =>
  `${field} must be a real calendar date written YYYY-MM-DD, between ${MIN_YEAR} and ${MAX_YEAR}`;

// ---- bounded text ---------------------------------------------------------------------------------------

/**
 * Characters refused in names and free text: C0 and C1 controls and DEL (line breaks and tabs
 * only in multi-line text), and the bidirectional embedding, override and isolate characters
 * (U+202A–U+202E, U+2066–U+2069), which make text display other than it reads ("Trojan Source").
 */
const CONTROL = /(?![\t\n\r])\p{Cc}/u;
const LINE_BREAK_OR_TAB = /[\t\n\r]/u;
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;

export interface TextBounds {
  /** Least characters (code points), after trimming. */
  readonly min: number;
  /** Most characters (code points). */
  readonly max: number;
  /** Whether line breaks and tabs are allowed (free text); names are one line. */
  readonly multiline?: boolean;
}

/** Why `value` is not text within `bounds`, in words that name `field`; `undefined` when it is. */
export function textProblem(value: unknown, bounds: TextBounds, field: string): string | undefined {
  if (typeof value !== 'string') return `${field} must be text`;
  if (CONTROL.test(value) || (!bounds.multiline && LINE_BREAK_OR_TAB.test(value)))
    return bounds.multiline
      ? `${field} must not contain control characters other than line breaks and tabs`
      : `${field} must be one line without control characters`;
  if (BIDI_CONTROL.test(value)) return `${field} must not contain bidirectional override characters`;
  const length = [...value].length;
  if ([...value.trim()].length < bounds.min || length > bounds.max)
    return `${field} must be ${bounds.min} to ${bounds.max} characters long`;
  return undefined;
}

/** Whether `value` is text within `bounds`. */
export const isBoundedText = (value: unknown, bounds: TextBounds): value is string =>
  textProblem(value, bounds, 'text') === undefined;

// ---- ids and id lists -------------------------------------------------------------------------------------------

/** An id: a UUID or a short slug of letters, digits, '.', '_' and '-', up to 80 characters. */
export const ID_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/** ID_SHAPE in words, for the messages that refuse an id (API and console say the same). */
export const ID_DESCRIPTION = 'a UUID or slug: letters, digits, ".", "_" and "-", 1 to 80 characters';

/**
 * A reference code (a file number, a court's case number): letters, digits, '.', '_', ':', '/' and
 * '-', up to 200 characters. No spaces, so no prose: what is recorded in clear forever (a review
 * note before it was sealed, an erasure's reference) cannot be a sentence about the person.
 */
export const REFERENCE_CODE_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

/** REFERENCE_CODE_SHAPE in words, for the messages that refuse a reference. */
export const REFERENCE_CODE_DESCRIPTION =
  'a reference code: letters, digits, ".", "_", ":", "/" and "-", up to 200 characters';

export interface IdListBounds {
  /** Least ids (at least one, unless 0). */
  readonly min: number;
  /** Most ids. */
  readonly max: number;
  /** The shape of one id (ID_SHAPE unless the list holds codes of another shape). */
  readonly id?: RegExp;
}

/**
 * Why `value` is not a list of `bounds.min` to `bounds.max` distinct ids of the given shape, in
 * words that name `field` (and the offending element); `undefined` when it is.
 */
export function idListProblem(value: unknown, bounds: IdListBounds, field: string): string | undefined {
  if (!Array.isArray(value)) return `${field} must be a list`;
  if (value.length < bounds.min || value.length > bounds.max)
    return `${field} must list ${bounds.min} to ${bounds.max} ids`;
  const seen = new Set<string>();
  for (const [index, id] of (value as unknown[]).entries()) {
    if (typeof id !== 'string' || !(bounds.id ?? ID_SHAPE).test(id))
      return `${field}[${index}] is not a valid id`;
    if (seen.has(id)) return `${field}[${index}] repeats an id listed before`;
    seen.add(id);
  }
  return undefined;
}

// ---- region codes ---------------------------------------------------------------------------------------

/**
 * A coarse region: an ISO 3166-1 alpha-2 country (`NL`), an ISO 3166-2 subdivision (`NL-ZH`) or a
 * NUTS region (`ES51`), never an address or a place description.
 */
const REGION = /^[A-Z]{2}(?:-?[A-Z0-9]{1,3})?$/;

export const isRegionCode = (value: unknown): value is string =>
  typeof value === 'string' && REGION.test(value);

export const regionMessage = (field: string): string =>
  `${field} must be a region code: an ISO 3166-2 subdivision such as NL-ZH, a NUTS region such as ES51, or a country such as NL`;
