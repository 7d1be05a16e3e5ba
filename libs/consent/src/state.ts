import type { DataCategory, Purpose } from '@nrm/shared-kernel';
import type { LawfulBasis } from './commands';

/** What is left of one consent after its withdrawals. */
export type GrantState = {
  readonly agencyIds: readonly string[];
  readonly categories: readonly DataCategory[];
  readonly purposes: readonly Purpose[];
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
