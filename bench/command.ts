/**
 * Benchmark `command`: HTTP command requests/s through the whole API (auth,
 * validation, fold, decide, append) against a bare Fastify route returning a
 * constant; both servers in their own processes, loaded by the same tool
 * (autocannon) on loopback with a bounded number of requests, in alternating rounds.
 */
import { SqliteEventStore } from '@nrm/event-store';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryCommands } from '../apps/ledger-api/src/access/registry-commands';
import { BARE_SERVER, ledgerMain, printRuns, serve, sideBySide } from './http';
import { benchDir, environment, round, writeResult } from './lib';

const BODY = JSON.stringify({
  indicators: ['restricted-movement', 'debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
});

export async function runCommandBenchmark(
  options: { amount?: number; rounds?: number; connections?: number } = {},
) {
  const amount = options.amount ?? Number(process.env.BENCH_REQUESTS ?? 3000);
  const rounds = options.rounds ?? 2;
  const connections = options.connections ?? 10;
  const main = ledgerMain();
  const dataDir = benchDir('command');
  // The principal is registered straight in the store before the server starts (as the CLI would).
  const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
  const registry = new RegistryCommands(store);
  const ctx = () => ({ now: new Date().toISOString(), requestId: 'bench', fingerprint: 'bench' });
  await registry.registerAgency(
    { name: 'Bench clinic', kind: 'health', country: 'NL', agencyId: 'bench-clinic' },
    ctx(),
  );
  const { principalId } = await registry.registerPrincipal(
    { agencyId: 'bench-clinic', label: 'bench', roles: ['caseworker'] },
    ctx(),
  );
  const { apiKey } = await registry.issueApiKey(principalId, ctx());
  await store.close();

  const ledger = await serve([main], { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const bare = await serve([BARE_SERVER], process.env);
  try {
    const { ours: o, baseline: b } = await sideBySide(
      {
        url: `http://127.0.0.1:${ledger.port}/cases`,
        method: 'POST',
        body: BODY,
        headers: { authorization: `Bearer ${apiKey!}` },
      },
      { url: `http://127.0.0.1:${bare.port}/cases`, method: 'POST', body: BODY },
      amount,
      rounds,
      connections,
    );
    const result = {
      name: 'command',
      ...environment(),
      what: 'POST /cases (report a potential victim) on the built ledger in its own process: auth, validation, fold, decide, append with synchronous=FULL',
      baselineWhat:
        'bare Fastify POST route returning a constant, in its own process, same body, same load tool',
      aim: 'ratio >= 0.25',
      connections,
      ours: o,
      baseline: b,
      ratio: round(o.requestsPerSec / b.requestsPerSec, 3),
    };
    printRuns(
      `command benchmark: ${connections} connections, ${rounds} x ${amount} requests each side`,
      o,
      b,
      result.ratio,
      '>= 0.25',
    );
    console.log(`written ${writeResult('command', result)}`);
    return result;
  } finally {
    await Promise.all([ledger.stop(), bare.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runCommandBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
