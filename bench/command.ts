/**
 * Benchmark `command`: HTTP command requests/s through the whole API (auth,
 * validation, fold, decide, append) against a bare Fastify route returning a
 * constant; both servers in their own processes, loaded by the same tool
 * (autocannon) on loopback, in equal-length paired rounds. Every command carries
 * a fresh Idempotency-Key, as a client that retries safely sends it, and lands in
 * a store of 8,000 cases (≈ 112,000 events) written interleaved.
 */
import { randomUUID } from 'node:crypto';
import { runHttpBenchmark } from './http';
import { seededDataDir } from './seed';

const BODY = JSON.stringify({
  indicators: ['restricted-movement', 'debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
});

export function runCommandBenchmark() {
  return runHttpBenchmark({
    name: 'command',
    what: 'POST /cases (report a potential victim) with a fresh Idempotency-Key on the built ledger in its own process: auth, validation, fold, decide, append with synchronous=FULL',
    baselineWhat:
      'bare Fastify POST route returning a constant, in its own process, same body, same headers, same load tool',
    prepare: async (dataDir) => {
      const seeded = await seededDataDir(dataDir);
      const reader = seeded.readable['ngo-1']![0]!;
      return {
        store: { events: seeded.events, cases: seeded.cases },
        ready: (port) => ({
          url: `http://127.0.0.1:${port}/cases/${reader}`,
          method: 'GET',
          headers: { authorization: `Bearer ${seeded.keys['ngo-1']!}`, 'x-purpose': 'assistance' },
        }),
        load: (port) => ({
          url: `http://127.0.0.1:${port}/cases`,
          method: 'POST',
          body: BODY,
          headers: { authorization: `Bearer ${seeded.keys['clinic-1']!}` },
          next: () => ({ headers: { 'idempotency-key': randomUUID() } }),
        }),
      };
    },
    baseline: (port) => ({
      url: `http://127.0.0.1:${port}/cases`,
      method: 'POST',
      body: BODY,
      next: () => ({ headers: { 'idempotency-key': randomUUID() } }),
    }),
  });
}

if (require.main === module) {
  runCommandBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
