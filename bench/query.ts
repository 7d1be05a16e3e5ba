/**
 * Benchmark `query`: case-view reads/s through the whole API (auth, caught-up
 * check, consent check at the consent stream's latest revision, view, audit
 * event appended with synchronous=FULL) against a bare Fastify GET route.
 */
import { SqliteEventStore } from '@nrm/event-store';
import { join } from 'node:path';
import { seedDemo } from '../apps/ledger-cli/src/demo';
import { runHttpBenchmark } from './http';

export function runQueryBenchmark() {
  return runHttpBenchmark({
    name: 'query',
    what: 'GET /cases/{id} with X-Purpose on the built ledger in its own process: auth, read model caught up, consent at its latest revision, view, RecordAccessed appended (FULL)',
    baselineWhat: 'bare Fastify GET route returning a constant, in its own process, same load tool',
    prepare: async (dataDir) => {
      const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
      const demo = await seedDemo(store, ['law-enforcement', 'asylum-authority', 'national-coordinator']);
      await store.close();
      return (port) => ({
        url: `http://127.0.0.1:${port}/cases/${demo.caseId}`,
        method: 'GET',
        headers: { authorization: `Bearer ${demo.keys['ngo-lighthouse']!}`, 'x-purpose': 'assistance' },
      });
    },
    baseline: (port) => ({ url: `http://127.0.0.1:${port}/cases/some-case`, method: 'GET' }),
  });
}

if (require.main === module) {
  runQueryBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
