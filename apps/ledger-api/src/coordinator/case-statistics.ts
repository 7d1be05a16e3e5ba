import { AGENCY_KINDS, EXPLOITATION_FORMS } from '@nrm/shared-kernel';
import { suppressCell, suppressTable, type StatisticCell } from './cell-suppression';

/** What the statistics count of a case, as reported: codes and a month, nothing that names anyone. */
export interface CaseFacts {
  /** YYYY-MM of the report, in UTC. */
  readonly month: string;
  readonly region: string;
  /** The kind of the reporting agency. */
  readonly agencyKind: string;
  readonly exploitationForms: readonly string[];
}

/** Where a case without a code of its own is counted (no form recorded, an agency kind not in the vocabulary). */
export const UNKNOWN = 'unknown';
/** Where a case of a region that is not one of the published regions (`STATS_REGIONS`) is counted. */
export const OTHER_REGION = 'other';

/**
 * The columns of the grid: fixed by the vocabulary and the configuration, never by the data, so
 * that a column's presence says nothing about whether any case falls in it.
 */
export interface StatisticsColumns {
  readonly regions: readonly string[];
  readonly agencyKinds: readonly string[];
  readonly exploitationForms: readonly string[];
}

export function statisticsColumns(publishedRegions: readonly string[]): StatisticsColumns {
  return {
    regions: [...new Set(publishedRegions)].filter((r) => r !== OTHER_REGION).concat(OTHER_REGION),
    agencyKinds: [...AGENCY_KINDS, UNKNOWN],
    exploitationForms: [...EXPLOITATION_FORMS, UNKNOWN],
  };
}

/** One row of the grid: one calendar month (UTC) of reported cases. */
export interface MonthStatistics {
  /** YYYY-MM, of `reportedAt` in UTC. */
  readonly month: string;
  /** Cases reported in the month. */
  readonly cases: StatisticCell;
  /** One cell per published region, then `other`; they add up to `cases`. */
  readonly byRegion: Record<string, StatisticCell>;
  /** One cell per agency kind, then `unknown`; they add up to `cases`. */
  readonly byReportingAgencyKind: Record<string, StatisticCell>;
  /**
   * One cell per exploitation form, then `unknown` (no form recorded). A case suspected of
   * several forms counts once under each, so these add up to `cases` or more.
   */
  readonly byExploitationForm: Record<string, StatisticCell>;
}

function table(columns: readonly string[], counts: Map<string, number>, k: number) {
  return suppressTable(
    columns.map((column) => [column, counts.get(column) ?? 0] as const),
    k,
  );
}

function add(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * One month's row of the grid: its cases counted by region, by kind of reporting
 * agency and by exploitation form, each table suppressed on its own against the
 * month's number of cases (`suppressTable`). A row depends only on the cases of
 * its month and on `k`, never on the period asked, so every answer is a part of
 * one fixed grid and no figure is a sum over cells that another answer splits.
 */
export function monthStatistics(
  month: string,
  cases: readonly CaseFacts[],
  columns: StatisticsColumns,
  k: number,
): MonthStatistics {
  const regionColumns = new Set(columns.regions);
  const kindColumns = new Set(columns.agencyKinds);
  const formColumns = new Set(columns.exploitationForms);
  const regions = new Map<string, number>();
  const kinds = new Map<string, number>();
  const forms = new Map<string, number>();
  for (const c of cases) {
    add(regions, regionColumns.has(c.region) ? c.region : OTHER_REGION);
    add(kinds, kindColumns.has(c.agencyKind) ? c.agencyKind : UNKNOWN);
    const distinct = new Set(c.exploitationForms.filter((f) => formColumns.has(f) && f !== UNKNOWN));
    if (distinct.size === 0) add(forms, UNKNOWN);
    for (const form of distinct) add(forms, form);
  }
  return {
    month,
    cases: suppressCell(cases.length, k),
    byRegion: table(columns.regions, regions, k),
    byReportingAgencyKind: table(columns.agencyKinds, kinds, k),
    byExploitationForm: table(columns.exploitationForms, forms, k),
  };
}

/** The grid's rows for `months` (YYYY-MM, in order), each from the cases reported in it. */
export function caseStatistics(
  cases: Iterable<CaseFacts>,
  months: readonly string[],
  columns: StatisticsColumns,
  k: number,
): MonthStatistics[] {
  const byMonth = new Map<string, CaseFacts[]>(months.map((m) => [m, []]));
  for (const c of cases) byMonth.get(c.month)?.push(c);
  return months.map((m) => monthStatistics(m, byMonth.get(m)!, columns, k));
}

/** The months from `from` up to `to` (exclusive), both the first instant of a month in UTC, as YYYY-MM. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  const at = new Date(from);
  const end = Date.parse(to);
  while (at.getTime() < end) {
    out.push(at.toISOString().slice(0, 7));
    at.setUTCMonth(at.getUTCMonth() + 1);
  }
  return out;
}
