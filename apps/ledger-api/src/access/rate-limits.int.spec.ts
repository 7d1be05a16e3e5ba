import { randomUUID } from 'node:crypto';
import { ProblemException } from '../http/problem';
import { RateLimits, type RateLimitConfig } from './rate-limits';

const REDIS: RateLimitConfig = {
  RATE_LIMIT_STORE: 'redis',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
  RATE_LIMIT_WINDOW_SECONDS: 60,
  RATE_LIMIT_PER_PRINCIPAL: 6,
  RATE_LIMIT_PER_ADDRESS: 4,
  RATE_LIMIT_FAILED_AUTH: 5,
  RATE_LIMIT_FAILED_AUTH_WINDOW_SECONDS: 900,
};

/** 'ok', or the status and Retry-After of the problem a call threw. */
async function outcome(call: Promise<void>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    if (!(error instanceof ProblemException)) throw error;
    return `${error.problem.status}`;
  }
}

function tally(outcomes: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o] = (out[o] ?? 0) + 1;
  return out;
}

describe('rate limits shared through Redis (real Redis at 127.0.0.1:6379)', () => {
  let replicas: RateLimits[];
  beforeAll(async () => {
    replicas = [new RateLimits(REDIS), new RateLimits(REDIS)];
    // Connected before the first decision, so that none falls back to a replica's own count.
    const deadline = Date.now() + 10_000;
    while (replicas.some((r) => r.counts.storeFallbacks > 0 || !r.ready()) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
  });
  afterAll(async () => {
    for (const r of replicas) await r.close();
  });

  it('counts a principal once across replicas, whichever it calls', async () => {
    const principal = `p-${randomUUID()}`;
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) outcomes.push(await outcome(replicas[i % 2]!.principal(principal)));
    console.log(`two replicas, one principal, limit 6: 20 calls -> ${JSON.stringify(tally(outcomes))}`);
    expect(tally(outcomes)).toEqual({ ok: 6, 429: 14 });
    expect(replicas.map((r) => r.counts.storeFallbacks)).toEqual([0, 0]);
  });

  it('locks an address out on every replica once its failed authentications are spent on any of them', async () => {
    const address = `198.51.100.${Math.floor(Math.random() * 250)}-${randomUUID()}`;
    // An attacker spreads guesses over both replicas: they add up.
    for (let i = 0; i < 5; i++) {
      await replicas[i % 2]!.refuseIfLockedOut(address);
      await replicas[i % 2]!.failedAuthentication(address);
    }
    const after = await Promise.all(replicas.map((r) => outcome(r.refuseIfLockedOut(address))));
    const elsewhere = await outcome(replicas[0]!.refuseIfLockedOut(`${address}-other`));
    console.log(
      `failed auth across replicas (limit 5): 5 failures spread over 2 replicas -> each now answers ${after.join(', ')}; ` +
        `another address: ${elsewhere}`,
    );
    expect(after).toEqual(['429', '429']);
    expect(elsewhere).toBe('ok');
  });

  it('counts requests without a credential per address across replicas', async () => {
    const address = `203.0.113.7-${randomUUID()}`;
    const outcomes: string[] = [];
    for (let i = 0; i < 9; i++) outcomes.push(await outcome(replicas[i % 2]!.address(address)));
    console.log(
      `two replicas, one address without credential, limit 4: 9 calls -> ${JSON.stringify(tally(outcomes))}`,
    );
    expect(tally(outcomes)).toEqual({ ok: 4, 429: 5 });
  });
});
