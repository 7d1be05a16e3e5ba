import { HttpException } from '@nestjs/common';

/** One offending input, named so that a client can point at it. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** What a handler says about a problem; the filter adds `type` and `requestId`. */
export interface Problem {
  readonly title: string;
  readonly status: number;
  /** Stable, machine-readable, e.g. `EVENT_STORE.WRONG_EXPECTED_REVISION`. */
  readonly code: string;
  readonly detail?: string;
  /** The offending input, when there is one. */
  readonly field?: string;
  readonly errors?: readonly FieldProblem[];
  /** With a 409 from a lost race: when to try again (also sent as Retry-After). */
  readonly retryAfterSeconds?: number;
  /** Per-check details of an unhealthy /health. */
  readonly checks?: unknown;
  readonly type?: string;
}

/** An RFC 9457 problem document, as sent. */
export interface ProblemDocument extends Problem {
  readonly type: string;
  readonly requestId?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Thrown by controllers and handlers for a deliberate HTTP problem. */
export class ProblemException extends HttpException {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title, problem.status);
  }
}

export function problemType(code: string): string {
  return `urn:nrm-ledger:problem:${code.toLowerCase()}`;
}
