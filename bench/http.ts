/**
 * Shared by the HTTP benchmarks: servers in their own processes (the ledger as
 * built, and a bare Fastify baseline), and a bounded autocannon load from this one.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { benchDir, environment, round, writeResult } from './lib';

export interface Run {
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface Load {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export async function load(target: Load, amount: number, connections: number): Promise<Run> {
  // autocannon's own rate waits for whole-second ticks; for a short bounded run, time
  // from the start to the last response instead.
  const started = process.hrtime.bigint();
  let lastResponse = started;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: target.method,
        ...(target.body !== undefined ? { body: target.body } : {}),
        headers: {
          ...(target.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...target.headers,
        },
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

export function combine(runs: readonly Run[]): Run {
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

export interface Served {
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts a server process and resolves with its port once it listens. */
export async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
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

/** The built ledger's entry point; the benchmarks measure what production runs. */
export function ledgerMain(): string {
  const main = join(process.cwd(), 'dist/apps/ledger-api/apps/ledger-api/src/main.js');
  if (!existsSync(main)) throw new Error('build the ledger first: npm run build');
  return main;
}

export const BARE_SERVER = join(process.cwd(), 'bench/bare-server.js');

/** Alternating rounds of ours and the baseline, after a warm-up of each. */
export async function sideBySide(
  ours: Load,
  baseline: Load,
  amount: number,
  rounds: number,
  connections: number,
) {
  await load(ours, 300, connections);
  await load(baseline, 300, connections);
  const o: Run[] = [];
  const b: Run[] = [];
  for (let i = 0; i < rounds; i++) {
    o.push(await load(ours, amount, connections));
    b.push(await load(baseline, amount, connections));
  }
  return { ours: combine(o), baseline: combine(b) };
}

export function printRuns(title: string, ours: Run, baseline: Run, ratio: number, aim: string): void {
  console.log(`\n${title}`);
  console.log(
    `  ours     ${ours.requestsPerSec} req/s  p50 ${ours.p50Ms} ms  p99 ${ours.p99Ms} ms  non-2xx ${ours.non2xx}  errors ${ours.errors}`,
  );
  console.log(
    `  baseline ${baseline.requestsPerSec} req/s  p50 ${baseline.p50Ms} ms  p99 ${baseline.p99Ms} ms`,
  );
  console.log(`  ratio    ${ratio} (aim ${aim})`);
  if (ours.non2xx > 0 || ours.errors > 0)
    console.log('  WARNING: some ledger requests failed; the figure is not valid');
}

export interface HttpBenchmark {
  readonly name: string;
  readonly what: string;
  readonly baselineWhat: string;
  /** Prepares the ledger's data directory before its server starts; returns the request to load it with. */
  readonly prepare: (dataDir: string) => Promise<(port: number) => Load>;
  /** The baseline's request on the bare server. */
  readonly baseline: (port: number) => Load;
}

/** Runs one HTTP benchmark: the built ledger and the bare server side by side; prints and writes the result. */
export async function runHttpBenchmark(
  bench: HttpBenchmark,
  options: { amount?: number; rounds?: number; connections?: number } = {},
) {
  const amount = options.amount ?? Number(process.env.BENCH_REQUESTS ?? 3000);
  const rounds = options.rounds ?? 2;
  const connections = options.connections ?? 10;
  const main = ledgerMain();
  const dataDir = benchDir(bench.name);
  try {
    const ours = await bench.prepare(dataDir);
    const ledger = await serve([main], {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // The bench measures the ledger, not its rate limit: one principal sends every request.
      RATE_LIMIT_PER_PRINCIPAL: '10000000',
    });
    const bare = await serve([BARE_SERVER], process.env);
    try {
      const { ours: o, baseline: b } = await sideBySide(
        ours(ledger.port),
        bench.baseline(bare.port),
        amount,
        rounds,
        connections,
      );
      const result = {
        name: bench.name,
        ...environment(),
        what: bench.what,
        baselineWhat: bench.baselineWhat,
        aim: 'ratio >= 0.25',
        connections,
        ours: o,
        baseline: b,
        ratio: round(o.requestsPerSec / b.requestsPerSec, 3),
      };
      printRuns(
        `${bench.name} benchmark: ${connections} connections, ${rounds} x ${amount} requests each side`,
        o,
        b,
        result.ratio,
        '>= 0.25',
      );
      console.log(`written ${writeResult(bench.name, result)}`);
      return result;
    } finally {
      await Promise.all([ledger.stop(), bare.stop()]);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
