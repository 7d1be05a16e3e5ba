/**
 * Calendar dates (`YYYY-MM-DD`) and day arithmetic in UTC, as pure integer functions.
 * Reflection periods and service dates are whole days in law, not instants, so they are
 * counted as days since 1970-01-01 (civil-calendar algorithm by Howard Hinnant) instead of
 * going through `Date`, whose local-time parsing would make the domain depend on the server.
 *
 * Which strings are calendar dates and instants is the shared kernel's rule (`isCalendarDate`,
 * `parseInstant`): one parser for the whole system.
 */
import { parseInstant, type CalendarDate } from '@nrm/shared-kernel';

export { isCalendarDate, type CalendarDate } from '@nrm/shared-kernel';

const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a valid calendar date. */
export function toEpochDay(date: CalendarDate): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const year = m <= 2 ? y - 1 : y;
  const era = Math.floor(year / 400);
  const yearOfEra = year - era * 400;
  const shiftedMonth = (m + 9) % 12; // March = 0, so that the leap day falls at the end of the year
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + d - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The calendar date `epochDay` days after 1970-01-01. */
export function fromEpochDay(epochDay: number): CalendarDate {
  const z = epochDay + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** `date` moved by `days` (negative moves back). */
export const addDays = (date: CalendarDate, days: number): CalendarDate =>
  fromEpochDay(toEpochDay(date) + days);

/** Whole days from `from` to `to`: positive when `to` is later. */
export const daysBetween = (from: CalendarDate, to: CalendarDate): number =>
  toEpochDay(to) - toEpochDay(from);

/** The last date the `YYYY-MM-DD` shape can hold; periods must end by then. */
export const LAST_CALENDAR_DATE: CalendarDate = '9999-12-31';

/**
 * The UTC calendar date of an ISO-8601 instant (`metadata.now`).
 * A malformed `now` is a fault of the calling system, not of the caseworker, hence a plain Error.
 */
export function utcDateOf(instant: string): CalendarDate {
  const ms = parseInstant(instant);
  if (ms === undefined) throw new Error(`metadata.now is not an ISO-8601 instant with an offset: ${instant}`);
  return fromEpochDay(Math.floor(ms / MS_PER_DAY));
}
