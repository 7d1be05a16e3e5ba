/**
 * Benchmark `command`: HTTP command requests/s through the whole API (auth,
 * validation, fold, decide, append) against a bare Fastify route returning a
 * constant; both servers in their own processes, loaded by the same tool
 * (autocannon) on loopback with a bounded number of requests, in alternating rounds.
 */
import { SqliteEventStore } from '@nrm/event-store';
import { join } from 'node:path';
import { RegistryCommands } from '@nrm/access';
import { runHttpBenchmark } from './http';

const BODY = JSON.stringify({
  indicators: ['restricted-movement', 'debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
});

export function runCommandBenchmark() {
  return runHttpBenchmark({
    name: 'command',
    what: 'POST /cases (report a potential victim) on the built ledger in its own process: auth, validation, fold, decide, append with synchronous=FULL',
    baselineWhat:
      'bare Fastify POST route returning a constant, in its own process, same body, same load tool',
    prepare: async (dataDir) => {
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
      return (port) => ({
        url: `http://127.0.0.1:${port}/cases`,
        method: 'POST',
        body: BODY,
        headers: { authorization: `Bearer ${apiKey!}` },
      });
    },
    baseline: (port) => ({ url: `http://127.0.0.1:${port}/cases`, method: 'POST', body: BODY }),
  });
}

if (require.main === module) {
  runCommandBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
