/**
 * Benchmark `query`: case-view reads/s through the whole API (auth, caught-up
 * check, consent check at the consent stream's latest revision, view, audit
 * event appended with synchronous=FULL) against a bare Fastify GET route, on a
 * store of 8,000 cases (≈ 112,000 events) written interleaved through the
 * command handlers; the reads go round the cases an NGO may read.
 */
import { runHttpBenchmark } from './http';
import { seededDataDir } from './seed';

export function runQueryBenchmark() {
  return runHttpBenchmark({
    name: 'query',
    what: 'GET /cases/{id} with X-Purpose on the built ledger in its own process, round the 2,000 cases an NGO may read: auth, read model caught up, consent at its latest revision, view, RecordAccessed appended (FULL)',
    baselineWhat: 'bare Fastify GET route returning a constant, in its own process, same load tool',
    prepare: async (dataDir) => {
      const seeded = await seededDataDir(dataDir);
      const cases = seeded.readable['ngo-1']!;
      const headers = { authorization: `Bearer ${seeded.keys['ngo-1']!}`, 'x-purpose': 'assistance' };
      const read = (port: number, caseId: string) => ({
        url: `http://127.0.0.1:${port}/cases/${caseId}`,
        method: 'GET' as const,
        headers,
      });
      let i = 0;
      return {
        store: { events: seeded.events, cases: seeded.cases },
        ready: (port) => read(port, cases[0]!),
        load: (port) => ({
          ...read(port, cases[0]!),
          next: () => ({ path: `/cases/${cases[i++ % cases.length]!}` }),
        }),
      };
    },
    baseline: (port) => ({
      url: `http://127.0.0.1:${port}/cases/some-case`,
      method: 'GET',
      next: () => ({ path: '/cases/some-case' }),
    }),
  });
}

if (require.main === module) {
  runQueryBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
