/**
 * Why a command was refused, in words a caseworker understands.
 * - `forbidden`: the acting agency or principal may not do this (HTTP 403);
 * - `conflict`: the record is not in a state that allows it (HTTP 409);
 * - `rule`: the request breaks a rule of the mechanism (HTTP 422);
 * - `not-found`: the record does not exist (HTTP 404);
 * - `invalid`: the request itself is malformed, e.g. an unknown purpose (HTTP 400);
 * - `unavailable`: the answer cannot be given just now, e.g. the read model is behind (HTTP 503,
 *   with `retryAfterSeconds`).
 */
export type DomainErrorKind = 'forbidden' | 'conflict' | 'rule' | 'not-found' | 'invalid' | 'unavailable';

/** What a refusal may say beyond its kind: its own title, and when to try again. */
export interface DomainErrorOptions {
  /** A title of its own, instead of the kind's. */
  readonly title?: string;
  /** For `unavailable`: when to try again (the API sends it as Retry-After). */
  readonly retryAfterSeconds?: number;
}

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable code, e.g. `REFERRAL.NOT_ADDRESSED_TO_YOU`. */
    readonly code: string,
    message: string,
    /** The command field the rule is about, when there is one. */
    readonly field?: string,
    readonly options: DomainErrorOptions = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const forbidden = (code: string, message: string, field?: string, options?: DomainErrorOptions) =>
  new DomainError('forbidden', code, message, field, options);
export const conflict = (code: string, message: string, field?: string, options?: DomainErrorOptions) =>
  new DomainError('conflict', code, message, field, options);
export const ruleBroken = (code: string, message: string, field?: string, options?: DomainErrorOptions) =>
  new DomainError('rule', code, message, field, options);
export const notFound = (code: string, message: string, field?: string, options?: DomainErrorOptions) =>
  new DomainError('not-found', code, message, field, options);
export const invalid = (code: string, message: string, field?: string) =>
  new DomainError('invalid', code, message, field, { title: 'Invalid request' });
export const unavailable = (code: string, title: string, message: string, retryAfterSeconds: number) =>
  new DomainError('unavailable', code, message, undefined, { title, retryAfterSeconds });

/**
 * The one answer for a case that does not exist and for a case the acting agency has no part in:
 * the same code, words and field, so that no agency can tell the two apart.
 */
export const caseNotFound = (): DomainError =>
  notFound('CASE.NOT_FOUND', 'No case with this id is known to your agency.', 'caseId');
