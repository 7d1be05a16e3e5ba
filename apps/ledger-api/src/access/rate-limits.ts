import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { LedgerConfig } from '@nrm/runtime';
import { ProblemException } from '../http/problem';

/** The three limits: per principal, per client address without a credential, failed authentications per address. */
export type LimitKind = 'principal' | 'address' | 'failed-auth';

export type RateLimitConfig = Pick<
  LedgerConfig,
  | 'RATE_LIMIT_STORE'
  | 'REDIS_URL'
  | 'RATE_LIMIT_WINDOW_SECONDS'
  | 'RATE_LIMIT_PER_PRINCIPAL'
  | 'RATE_LIMIT_PER_ADDRESS'
  | 'RATE_LIMIT_FAILED_AUTH'
  | 'RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS'
>;

/** What the limits did since start, for the metrics (counts only: no address, no principal). */
export interface RateLimitCounts {
  readonly refused: Record<LimitKind, number>;
  failedAuthentications: number;
  /** Decisions taken on this process's own counts because Redis was not reachable. */
  storeFallbacks: number;
}

const DETAIL: Readonly<Record<LimitKind, string>> = {
  principal: 'This principal has made too many requests; try again after the time in Retry-After.',
  address:
    'Too many requests without a credential from this address; try again after the time in Retry-After.',
  'failed-auth':
    'Too many failed authentications from this address: its credentials are refused unchecked until the time in Retry-After.',
};

function tooMany(kind: LimitKind, msBeforeNext: number): ProblemException {
  return new ProblemException({
    status: 429,
    title: 'Too many requests',
    code: 'RATE_LIMIT.EXCEEDED',
    detail: DETAIL[kind],
    retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)),
  });
}

/**
 * The API's rate limits (rate-limiter-flexible): counted in this process, or in Redis so that every
 * replica shares one count. Keys are a principal id or a client address, hashed by nothing more
 * than a prefix: Redis holds them for one window at most.
 *
 * Redis unreachable: the limits fail OPEN to this process's own counts (rate-limiter-flexible's
 * insurance limiter), so that requests keep being answered and still limited per replica; each
 * such decision is counted (nrm_rate_limit_store_fallbacks_total) and the loss of Redis is logged.
 * Failing closed would turn a Redis outage into an outage of the ledger.
 */
export class RateLimits {
  private readonly logger = new Logger('RateLimits');
  private readonly redis: Redis | undefined;
  private readonly limiters: Record<LimitKind, RateLimiterAbstract>;
  private redisDown = false;
  readonly counts: RateLimitCounts = {
    refused: { principal: 0, address: 0, 'failed-auth': 0 },
    failedAuthentications: 0,
    storeFallbacks: 0,
  };

  constructor(readonly config: RateLimitConfig) {
    const shapes: Record<LimitKind, { points: number; duration: number }> = {
      principal: { points: config.RATE_LIMIT_PER_PRINCIPAL, duration: config.RATE_LIMIT_WINDOW_SECONDS },
      address: { points: config.RATE_LIMIT_PER_ADDRESS, duration: config.RATE_LIMIT_WINDOW_SECONDS },
      'failed-auth': {
        points: config.RATE_LIMIT_FAILED_AUTH,
        duration: config.RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS,
      },
    };
    if (config.RATE_LIMIT_STORE === 'redis') {
      this.redis = new Redis(config.REDIS_URL!, {
        // A command while Redis is away fails at once (then the insurance limiter decides), not queued.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: 2000,
        retryStrategy: (times) => Math.min(times * 200, 5000),
      });
      this.redis.on('error', (error: Error) => {
        if (this.redisDown) return;
        this.redisDown = true;
        // The error names host and port, never the URL's password.
        this.logger.warn(
          { err: error.message },
          'rate limit store (Redis) unreachable: limits fall back to this process until it is back',
        );
      });
      this.redis.on('ready', () => {
        if (this.redisDown) this.logger.log('rate limit store (Redis) reachable again: limits are shared');
        this.redisDown = false;
      });
    }
    const make = (kind: LimitKind): RateLimiterAbstract => {
      const keyPrefix = `nrm-rl-${kind}`;
      const local = new RateLimiterMemory({ keyPrefix, ...shapes[kind] });
      if (!this.redis) return local;
      return new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix,
        ...shapes[kind],
        rejectIfRedisNotReady: true,
        insuranceLimiter: local,
      });
    };
    this.limiters = {
      principal: make('principal'),
      address: make('address'),
      'failed-auth': make('failed-auth'),
    };
  }

  /** Counts one request of a principal; throws 429 past its limit. */
  principal(principalId: string): Promise<void> {
    return this.consume('principal', principalId);
  }

  /** Counts one request without a credential from an address; throws 429 past its limit. */
  address(ip: string): Promise<void> {
    return this.consume('address', ip);
  }

  /** Throws 429 while an address has used up its failed authentications (the credential is not checked). */
  async refuseIfLockedOut(ip: string): Promise<void> {
    this.noteStore();
    const res = await this.limiters['failed-auth'].get(ip).catch(() => null);
    if (res && res.consumedPoints >= this.config.RATE_LIMIT_FAILED_AUTH) {
      this.counts.refused['failed-auth']++;
      throw tooMany('failed-auth', res.msBeforeNext);
    }
  }

  /** Counts one failed authentication from an address. */
  async failedAuthentication(ip: string): Promise<void> {
    this.counts.failedAuthentications++;
    this.noteStore();
    await this.limiters['failed-auth'].penalty(ip, 1).catch(() => undefined);
  }

  /** Whether decisions are shared: always with the in-process store, while Redis is connected with Redis. */
  ready(): boolean {
    return this.redis === undefined || this.redis.status === 'ready';
  }

  async close(): Promise<void> {
    if (this.redis) this.redis.disconnect();
  }

  private noteStore(): void {
    if (this.redis && this.redis.status !== 'ready') this.counts.storeFallbacks++;
  }

  private async consume(kind: LimitKind, key: string): Promise<void> {
    this.noteStore();
    try {
      await this.limiters[kind].consume(key);
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) {
        this.counts.refused[kind]++;
        throw tooMany(kind, outcome.msBeforeNext);
      }
      // A store error the insurance limiter did not take: answer rather than fail (fail open).
      this.counts.storeFallbacks++;
    }
  }
}
