import type { DataCategory, Purpose } from '@nrm/shared-kernel';
import type { LawfulBasis } from './commands';

/** A partial withdrawal: the triples matching every list given (a missing list matches all). */
export type Withdrawal = {
  readonly agencyIds?: readonly string[];
  readonly categories?: readonly DataCategory[];
  readonly purposes?: readonly Purpose[];
};

/**
 * One consent: its scope as granted (agencies × categories × purposes) less the triples its partial
 * withdrawals removed.
 */
export type GrantState = {
  readonly agencyIds: readonly string[];
  readonly categories: readonly DataCategory[];
  readonly purposes: readonly Purpose[];
  readonly withdrawals: readonly Withdrawal[];
  /** A record never covers the agency that made it (rule 7: no agency widens its own access alone). */
  readonly recordedByAgencyId: string;
  readonly expiresAt: string;
  readonly grantedAt: string;
  readonly withdrawn: boolean;
};

export type BasisState = {
  readonly basis: LawfulBasis;
  readonly agencyIds: readonly string[];
  readonly categories: readonly DataCategory[];
  readonly purposes: readonly Purpose[];
  readonly expiresAt?: string;
  readonly recordedAt: string;
  readonly recordedByAgencyId: string;
};

export type ConsentState =
  | { readonly status: 'empty' }
  | {
      readonly status: 'recorded';
      readonly caseId: string;
      readonly consents: Readonly<Record<string, GrantState>>;
      readonly lawfulBases: Readonly<Record<string, BasisState>>;
      readonly refusals: number;
    };

/**
 * Looks a record up by an id that came from outside: ids such as 'constructor' or '__proto__'
 * must not find what a plain object inherits.
 */
export function ownEntry<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Whether a partial withdrawal removed this triple. */
export function withdrawalRemoves(
  withdrawal: Withdrawal,
  agencyId: string,
  category: DataCategory,
  purpose: Purpose,
): boolean {
  return (
    (withdrawal.agencyIds === undefined || withdrawal.agencyIds.includes(agencyId)) &&
    (withdrawal.categories === undefined || withdrawal.categories.includes(category)) &&
    (withdrawal.purposes === undefined || withdrawal.purposes.includes(purpose))
  );
}

/** Whether a grant, withdrawals applied, still holds a triple (expiry and whole withdrawal aside). */
export function grantHolds(grant: GrantState, agencyId: string, category: DataCategory, purpose: Purpose) {
  return (
    grant.agencyIds.includes(agencyId) &&
    grant.categories.includes(category) &&
    grant.purposes.includes(purpose) &&
    !grant.withdrawals.some((w) => withdrawalRemoves(w, agencyId, category, purpose))
  );
}
