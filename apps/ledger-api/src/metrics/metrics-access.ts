import { NotFoundException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProblemException } from '../http/problem';

export const METRICS_ACCESS = Symbol('METRICS_ACCESS');

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Who may read GET /metrics: the scraper holding METRICS_TOKEN (`Authorization: Bearer <token>`),
 * nobody else. The metrics count requests by route and status, so an outsider reading them would
 * see each break-glass read and each erasure as it happens. Without METRICS_TOKEN the route
 * answers as an unknown path does (404), whatever is sent: it is off.
 */
export class MetricsAccess {
  private readonly digest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.digest = token === undefined ? undefined : sha256(token);
  }

  /** Whether /metrics is served at all (METRICS_TOKEN set). */
  get enabled(): boolean {
    return this.digest !== undefined;
  }

  /**
   * Whether `authorization` is `Bearer <METRICS_TOKEN>`: false for anything else, and always false
   * on a ledger without METRICS_TOKEN. Also what GET /health asks before it shows its detail.
   */
  grants(authorization: unknown): boolean {
    if (this.digest === undefined) return false;
    const given = typeof authorization === 'string' ? /^Bearer +(\S+)$/i.exec(authorization)?.[1] : undefined;
    // Digests of equal length, compared in constant time: the answer's timing tells nothing of the token.
    return given !== undefined && timingSafeEqual(sha256(given), this.digest);
  }

  /** Throws the answer for a request that may not read the metrics. */
  check(method: string, url: string, authorization: unknown): void {
    // Word for word what Nest answers for a path it has no route for.
    if (this.digest === undefined) throw new NotFoundException(`Cannot ${method} ${url}`);
    if (!this.grants(authorization))
      throw new ProblemException({
        status: 401,
        title: 'Unauthorized',
        code: 'AUTH.UNAUTHENTICATED',
        detail: 'GET /metrics needs the scrape credential: Authorization: Bearer <METRICS_TOKEN>.',
      });
  }
}
