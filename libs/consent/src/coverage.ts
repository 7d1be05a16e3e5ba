import { DATA_CATEGORIES, type DataCategory, type Purpose } from '@nrm/shared-kernel';
import { grantHolds, type BasisState, type ConsentState, type GrantState } from './state';

/** On which ground an agency may process a category of a case's data for a purpose. */
export type Coverage =
  | { readonly basis: 'consent'; readonly consentId: string }
  | { readonly basis: 'lawful-basis'; readonly lawfulBasisId: string };

export type CoverageQuery = {
  readonly agencyId: string;
  readonly category: DataCategory;
  readonly purpose: Purpose;
  /** ISO-8601 instant of the read. */
  readonly at: string;
};

export type CategoriesQuery = Omit<CoverageQuery, 'category'>;

export type CoveredCategory = { readonly category: DataCategory; readonly basis: Coverage['basis'] };

/**
 * What covers one (agency, category, purpose) at instant `at`, given the stream's current state.
 * Withdrawn grants never cover, nor do the triples a partial withdrawal removed; a record never
 * covers the agency that recorded it (no agency widens its own access by its own record); a grant
 * or basis covers from when it was recorded until strictly before it expires. The person's consent is preferred over a lawful basis. When several cover,
 * the one that lasts longest is named (ties: the smallest id) so that the answer is stable.
 * An unreadable `at` covers nothing: access fails closed.
 */
export function consentCovers(state: ConsentState, query: CoverageQuery): Coverage | undefined {
  if (state.status !== 'recorded') return undefined;
  const at = Date.parse(query.at);
  if (Number.isNaN(at)) return undefined;

  const consentId = longestLasting(
    Object.entries(state.consents).filter(([, grant]) => !grant.withdrawn),
    query,
    at,
  )?.id;
  if (consentId !== undefined) return { basis: 'consent', consentId };

  const lawfulBasisId = longestLasting(Object.entries(state.lawfulBases), query, at)?.id;
  if (lawfulBasisId !== undefined) return { basis: 'lawful-basis', lawfulBasisId };
  return undefined;
}

/**
 * Until when (epoch ms, Infinity for an open-ended basis) the agency is covered for the triple by
 * what is recorded, counting from `at`; undefined when nothing covers it at `at`. Used to tell
 * whether a new record naming its own recorder would widen what that agency already holds.
 */
export function coveredUntil(state: ConsentState, query: CoverageQuery): number | undefined {
  if (state.status !== 'recorded') return undefined;
  const at = Date.parse(query.at);
  if (Number.isNaN(at)) return undefined;
  const grant = longestLasting(
    Object.entries(state.consents).filter(([, g]) => !g.withdrawn),
    query,
    at,
  )?.until;
  const basis = longestLasting(Object.entries(state.lawfulBases), query, at)?.until;
  if (grant === undefined) return basis;
  return basis === undefined ? grant : Math.max(grant, basis);
}

/** The categories an agency may see for a purpose at `at`, each with the ground it rests on. */
export function coveredCategories(state: ConsentState, query: CategoriesQuery): CoveredCategory[] {
  const covered: CoveredCategory[] = [];
  for (const category of DATA_CATEGORIES) {
    const coverage = consentCovers(state, { ...query, category });
    if (coverage) covered.push({ category, basis: coverage.basis });
  }
  return covered;
}

function inScope(record: GrantState | BasisState, query: CoverageQuery): boolean {
  if (record.recordedByAgencyId === query.agencyId) return false;
  if ('withdrawals' in record) return grantHolds(record, query.agencyId, query.category, query.purpose);
  return (
    record.agencyIds.includes(query.agencyId) &&
    record.categories.includes(query.category) &&
    record.purposes.includes(query.purpose)
  );
}

function longestLasting(
  entries: ReadonlyArray<readonly [string, GrantState | BasisState]>,
  query: CoverageQuery,
  at: number,
): { id: string; until: number } | undefined {
  let best: { id: string; until: number } | undefined;
  for (const [id, record] of entries) {
    // Scope first: it rules most records out without parsing any instant.
    if (!inScope(record, query)) continue;
    const from = Date.parse('grantedAt' in record ? record.grantedAt : record.recordedAt);
    // No expiry (only a lawful basis may lack one) means open-ended.
    const until = record.expiresAt === undefined ? Infinity : Date.parse(record.expiresAt);
    // Written so that an unreadable instant (NaN) never covers.
    if (!(from <= at && at < until)) continue;
    if (!best || until > best.until || (until === best.until && id < best.id)) best = { id, until };
  }
  return best;
}
