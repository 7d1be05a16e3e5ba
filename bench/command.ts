/**
 * Benchmark `command`: HTTP command requests/s through the whole API (auth,
 * validation, fold, decide, append) against a bare Fastify route returning a
 * constant, loaded by the same tool (autocannon) on loopback with a bounded
 * number of requests, in alternating rounds.
 */
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryCommands } from '../apps/ledger-api/src/access/registry-commands';
import { createApp } from '../apps/ledger-api/src/bootstrap';
import { loadConfig } from '../apps/ledger-api/src/config/config';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { environment, round, writeResult } from './lib';

const BODY = JSON.stringify({
  indicators: ['restricted-movement', 'debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
});

interface Run {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
}

async function load(
  url: string,
  headers: Record<string, string>,
  amount: number,
  connections: number,
): Promise<Run> {
  const result = await autocannon({
    url,
    method: 'POST',
    body: BODY,
    headers: { 'content-type': 'application/json', ...headers },
    amount,
    connections,
  });
  return {
    requestsPerSec: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

function combine(runs: readonly Run[]): Run {
  const total = runs.reduce((s, r) => s + r.requests, 0);
  return {
    requestsPerSec: round(runs.reduce((s, r) => s + r.requestsPerSec * r.requests, 0) / total),
    p50Ms: round(runs.reduce((s, r) => s + r.p50Ms, 0) / runs.length),
    p99Ms: round(Math.max(...runs.map((r) => r.p99Ms))),
    requests: total,
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
  };
}

export async function runCommandBenchmark(
  options: { amount?: number; rounds?: number; connections?: number } = {},
) {
  const amount = options.amount ?? Number(process.env.BENCH_REQUESTS ?? 2000);
  const rounds = options.rounds ?? 2;
  const connections = options.connections ?? 10;
  const dataDir = mkdtempSync(join(process.cwd(), 'bench', '.work-command-'));
  const app = await createApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const bare = Fastify();
  bare.post('/cases', async () => ({ ok: true }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  try {
    const registry = new RegistryCommands(app.get<EventStore>(EVENT_STORE));
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
    const ledgerUrl = `${await app.getUrl()}/cases`;
    const address = bare.server.address();
    const bareUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/cases`;

    await load(ledgerUrl, { authorization: `Bearer ${apiKey!}` }, 200, connections); // warm-up
    await load(bareUrl, {}, 200, connections);
    const ours: Run[] = [];
    const baseline: Run[] = [];
    for (let i = 0; i < rounds; i++) {
      ours.push(await load(ledgerUrl, { authorization: `Bearer ${apiKey!}` }, amount, connections));
      baseline.push(await load(bareUrl, {}, amount, connections));
    }
    const o = combine(ours);
    const b = combine(baseline);
    const result = {
      name: 'command',
      ...environment(),
      what: 'POST /cases (report a potential victim): auth, validation, fold, decide, append with synchronous=FULL',
      baselineWhat: 'bare Fastify POST route returning a constant, same body, same load tool',
      aim: 'ratio >= 0.25',
      connections,
      ours: o,
      baseline: b,
      ratio: round(o.requestsPerSec / b.requestsPerSec, 3),
    };
    console.log(`\ncommand benchmark: ${connections} connections, ${rounds} x ${amount} requests each side`);
    console.log(
      `  ours     ${o.requestsPerSec} req/s  p50 ${o.p50Ms} ms  p99 ${o.p99Ms} ms  non-2xx ${o.non2xx}  errors ${o.errors}`,
    );
    console.log(`  baseline ${b.requestsPerSec} req/s  p50 ${b.p50Ms} ms  p99 ${b.p99Ms} ms`);
    console.log(`  ratio    ${result.ratio} (aim >= 0.25)`);
    if (o.non2xx > 0 || o.errors > 0)
      console.log('  WARNING: some ledger requests failed; the figure is not valid');
    console.log(`written ${writeResult('command', result)}`);
    return result;
  } finally {
    await bare.close();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runCommandBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
