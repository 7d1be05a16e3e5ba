/**
 * Why a command was refused, in words a caseworker understands.
 * - `forbidden`: the acting agency or principal may not do this (HTTP 403);
 * - `conflict`: the record is not in a state that allows it (HTTP 409);
 * - `rule`: the request breaks a rule of the mechanism (HTTP 422);
 * - `not-found`: the record does not exist (HTTP 404).
 */
export type DomainErrorKind = 'forbidden' | 'conflict' | 'rule' | 'not-found';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable code, e.g. `REFERRAL.NOT_ADDRESSED_TO_YOU`. */
    readonly code: string,
    message: string,
    /** The command field the rule is about, when there is one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const forbidden = (code: string, message: string, field?: string) =>
  new DomainError('forbidden', code, message, field);
export const conflict = (code: string, message: string, field?: string) =>
  new DomainError('conflict', code, message, field);
export const ruleBroken = (code: string, message: string, field?: string) =>
  new DomainError('rule', code, message, field);
export const notFound = (code: string, message: string, field?: string) =>
  new DomainError('not-found', code, message, field);

/**
 * The one answer for a case that does not exist and for a case the acting agency has no part in:
 * the same code, words and field, so that no agency can tell the two apart.
 */
export const caseNotFound = (): DomainError =>
  notFound('CASE.NOT_FOUND', 'No case with this id is known to your agency.', 'caseId');
