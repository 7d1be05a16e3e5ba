import type { CaseDoc } from '@nrm/projections';
import { suppressSmallCells, type StatisticCell } from './cell-suppression';

/** What the statistics count of a case: codes and a month, nothing that names anyone. */
export type CaseFacts = Pick<CaseDoc, 'reportedAt' | 'region' | 'reportedByAgencyId'> & {
  readonly exploitationForms: readonly string[];
};

export interface CaseStatistics {
  /** The smallest count published; smaller cells are `{ suppressed: true }`. */
  readonly k: number;
  /**
   * A case suspected of several forms counts once under each, so these cells
   * add up to more than the number of cases; a case with no form recorded counts under `unknown`.
   */
  readonly byExploitationForm: Record<string, StatisticCell>;
  readonly byReportingAgencyKind: Record<string, StatisticCell>;
  readonly byRegion: Record<string, StatisticCell>;
  /** YYYY-MM of `reportedAt`, in UTC. */
  readonly byMonth: Record<string, StatisticCell>;
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Counts reported cases by exploitation form, kind of reporting agency, region
 * and month, then suppresses each dimension's small cells. No totals are
 * published: the number of cases is what a subtraction would need to recover a
 * suppressed cell, so it is withheld, and `suppressSmallCells` also makes sure
 * that no dimension has a single suppressed cell beside published ones.
 */
export function caseStatistics(
  cases: Iterable<CaseFacts>,
  agencyKind: (agencyId: string) => string | undefined,
  k: number,
): CaseStatistics {
  const forms = new Map<string, number>();
  const kinds = new Map<string, number>();
  const regions = new Map<string, number>();
  const months = new Map<string, number>();
  for (const c of cases) {
    const distinctForms = new Set(c.exploitationForms);
    if (distinctForms.size === 0) count(forms, 'unknown');
    for (const form of distinctForms) count(forms, form);
    count(kinds, agencyKind(c.reportedByAgencyId) ?? 'unknown');
    count(regions, c.region);
    count(months, new Date(c.reportedAt).toISOString().slice(0, 7));
  }
  return {
    k,
    byExploitationForm: suppressSmallCells(forms, k),
    byReportingAgencyKind: suppressSmallCells(kinds, k),
    byRegion: suppressSmallCells(regions, k),
    byMonth: suppressSmallCells(months, k),
  };
}
