/**
 * Benchmark `query`: case-view reads/s through the whole API (auth, caught-up
 * check, consent check at the consent stream's latest revision, view, audit
 * event appended with synchronous=FULL) against a bare Fastify GET route.
 */
import { SqliteEventStore } from '@nrm/event-store';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { seedDemo } from '../apps/ledger-cli/src/demo';
import { BARE_SERVER, ledgerMain, printRuns, serve, sideBySide } from './http';
import { benchDir, environment, round, writeResult } from './lib';

export async function runQueryBenchmark(
  options: { amount?: number; rounds?: number; connections?: number } = {},
) {
  const amount = options.amount ?? Number(process.env.BENCH_REQUESTS ?? 3000);
  const rounds = options.rounds ?? 2;
  const connections = options.connections ?? 10;
  const main = ledgerMain();
  const dataDir = benchDir('query');
  const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
  const demo = await seedDemo(store, ['law-enforcement', 'asylum-authority', 'national-coordinator']);
  await store.close();

  const ledger = await serve([main], { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const bare = await serve([BARE_SERVER], process.env);
  try {
    const { ours: o, baseline: b } = await sideBySide(
      {
        url: `http://127.0.0.1:${ledger.port}/cases/${demo.caseId}`,
        method: 'GET',
        headers: { authorization: `Bearer ${demo.keys['ngo-lighthouse']!}`, 'x-purpose': 'assistance' },
      },
      { url: `http://127.0.0.1:${bare.port}/cases/${demo.caseId}`, method: 'GET' },
      amount,
      rounds,
      connections,
    );
    const result = {
      name: 'query',
      ...environment(),
      what: 'GET /cases/{id} with X-Purpose on the built ledger in its own process: auth, read model caught up, consent at its latest revision, view, RecordAccessed appended (FULL)',
      baselineWhat: 'bare Fastify GET route returning a constant, in its own process, same load tool',
      aim: 'ratio >= 0.25',
      connections,
      ours: o,
      baseline: b,
      ratio: round(o.requestsPerSec / b.requestsPerSec, 3),
    };
    printRuns(
      `query benchmark: ${connections} connections, ${rounds} x ${amount} requests each side`,
      o,
      b,
      result.ratio,
      '>= 0.25',
    );
    console.log(`written ${writeResult('query', result)}`);
    return result;
  } finally {
    await Promise.all([ledger.stop(), bare.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runQueryBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
