/**
 * Benchmark `command`: HTTP command requests/s through the whole API (auth,
 * validation, fold, decide, append) against a bare Fastify route returning a
 * constant, loaded by the same tool (autocannon) on loopback with a bounded
 * number of requests, in alternating rounds.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryCommands } from '../apps/ledger-api/src/access/registry-commands';
import { SqliteEventStore } from '@nrm/event-store';
import { benchDir, environment, round, writeResult } from './lib';

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
  // autocannon's own rate waits for whole-second ticks; for a short bounded run, time
  // from the start to the last response instead.
  const started = process.hrtime.bigint();
  let lastResponse = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        body: BODY,
        headers: { 'content-type': 'application/json', ...headers },
        amount,
        connections,
      },
      (error, done) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(done),
    );
    instance.on('response', () => {
      lastResponse = process.hrtime.bigint();
    });
  });
  return {
    requestsPerSec: result.requests.total / (Number(lastResponse - started) / 1e9),
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

/** Starts a server process and resolves with its port once it listens. */
async function serve(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(command, args, {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return { port, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`${args.join(' ')} did not listen within 30 s`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function runCommandBenchmark(
  options: { amount?: number; rounds?: number; connections?: number } = {},
) {
  const amount = options.amount ?? Number(process.env.BENCH_REQUESTS ?? 3000);
  const rounds = options.rounds ?? 2;
  const connections = options.connections ?? 10;
  const main = join(process.cwd(), 'dist/apps/ledger-api/apps/ledger-api/src/main.js');
  if (!existsSync(main)) throw new Error('build the ledger first: npm run build');
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

  const ledger = await serve(process.execPath, [main], {
    ...process.env,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  });
  const bare = await serve(process.execPath, [join(process.cwd(), 'bench/bare-server.js')], process.env);
  try {
    const ledgerUrl = `http://127.0.0.1:${ledger.port}/cases`;
    const bareUrl = `http://127.0.0.1:${bare.port}/cases`;
    const auth = { authorization: `Bearer ${apiKey!}` };
    await load(ledgerUrl, auth, 300, connections); // warm-up
    await load(bareUrl, {}, 300, connections);
    const ours: Run[] = [];
    const baseline: Run[] = [];
    for (let i = 0; i < rounds; i++) {
      ours.push(await load(ledgerUrl, auth, amount, connections));
      baseline.push(await load(bareUrl, {}, amount, connections));
    }
    const o = combine(ours);
    const b = combine(baseline);
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
