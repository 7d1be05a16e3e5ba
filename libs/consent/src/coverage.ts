import { DATA_CATEGORIES, type DataCategory, type Purpose } from '@nrm/shared-kernel';
import type { ConsentState } from './state';

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
 * Withdrawn grants never cover; a grant or basis covers from when it was recorded until strictly
 * before it expires. The person's consent is preferred over a lawful basis. When several cover,
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
  );
  if (consentId !== undefined) return { basis: 'consent', consentId };

  const lawfulBasisId = longestLasting(Object.entries(state.lawfulBases), query, at);
  if (lawfulBasisId !== undefined) return { basis: 'lawful-basis', lawfulBasisId };
  return undefined;
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

type Scope = {
  readonly agencyIds: readonly string[];
  readonly categories: readonly DataCategory[];
  readonly purposes: readonly Purpose[];
  readonly expiresAt?: string;
};

type Recorded = { readonly grantedAt: string } | { readonly recordedAt: string };

function longestLasting(
  entries: ReadonlyArray<readonly [string, Scope & Recorded]>,
  query: CoverageQuery,
  at: number,
): string | undefined {
  let best: { id: string; until: number } | undefined;
  for (const [id, scope] of entries) {
    // Scope first: it rules most records out without parsing any instant.
    if (
      !scope.agencyIds.includes(query.agencyId) ||
      !scope.categories.includes(query.category) ||
      !scope.purposes.includes(query.purpose)
    ) {
      continue;
    }
    const from = Date.parse('grantedAt' in scope ? scope.grantedAt : scope.recordedAt);
    // No expiry (only a lawful basis may lack one) means open-ended.
    const until = scope.expiresAt === undefined ? Infinity : Date.parse(scope.expiresAt);
    // Written so that an unreadable instant (NaN) never covers.
    if (!(from <= at && at < until)) continue;
    if (!best || until > best.until || (until === best.until && id < best.id)) best = { id, until };
  }
  return best?.id;
}
