/**
 * Benchmark `scale-http`: does the ledger, through its HTTP API, slow down as history grows, and
 * how soon does it serve after a restart? For each store size (≈ 11,000 and ≈ 1,000,000 events by
 * default, `SCALE_HTTP_SIZES=a,b`), the store is written fast through the event store's append
 * (bench/seed.ts `scaledDataDir`: the interleaved traffic of 8,000 cases, copied with new ids) and
 * the built ledger runs with production settings (log level info, read-model check on):
 *
 * 1. first start: the projector builds the read models and the audit log hashes every event; it is
 *    left to settle, then stopped (SIGTERM, a clean close);
 * 2. restart: the time from spawning the process to the first case read answered 200 (aim < 2 s);
 * 3. once settled (the background read-model check done): p50 of case reads (GET /cases/{id} round
 *    the cases an NGO may read, spread over the whole history) and of commands (POST /cases with an
 *    Idempotency-Key), in equal rounds; the figure is p50 at the largest size over the smallest
 *    (aim: within 1.5×).
 *
 * Prints the machine's load average beside the figures: the 2 cores are shared.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  BENCH_METRICS_TOKEN,
  combine,
  ledgerMain,
  load,
  settle,
  type Load,
  type Run,
  type Served,
} from './http';
import { benchDir, environment, round, writeResult } from './lib';
import { scaledDataDir } from './seed';

const BODY = JSON.stringify({
  indicators: ['restricted-movement', 'debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
});

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

/**
 * Spawns the ledger and resolves once `ready` answers 2xx (bench/http.ts `serve` gives up after
 * 30 s, too soon for a first start on a large store), with the milliseconds from spawn to listening
 * and to that first answer.
 */
async function start(
  dataDir: string,
  ready: (port: number) => Load,
  timeoutMs: number,
): Promise<Served & { listenMs: number; firstReadMs: number }> {
  const port = await freePort();
  const out = openSync(join(dataDir, 'ledger.log'), 'a');
  const spawned = performance.now();
  const child = spawn(process.execPath, [ledgerMain()], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info', // the production default
      RATE_LIMIT_PER_PRINCIPAL: '10000000', // one principal sends every request
      METRICS_TOKEN: BENCH_METRICS_TOKEN, // settle() reads the positions /health shows to it only
    },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const target = ready(port);
  let listenMs: number | undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the ledger exited with ${child.exitCode}`);
    const answer = await fetch(target.url, { method: target.method, headers: target.headers }).catch(
      () => undefined,
    );
    if (answer) listenMs ??= performance.now() - spawned;
    if (answer?.ok)
      return {
        port,
        pid: child.pid!,
        logBytes: () => 0,
        stop,
        listenMs: listenMs!,
        firstReadMs: performance.now() - spawned,
      };
    await new Promise((r) => setTimeout(r, answer ? 50 : 10));
  }
  await stop();
  throw new Error(`the ledger did not answer ${target.url} within ${timeoutMs} ms`);
}

interface Step {
  readonly events: number;
  readonly cases: number;
  readonly seedSeconds: number;
  readonly firstStartSeconds: number;
  readonly restart: { readonly listenMs: number; readonly firstReadMs: number };
  readonly settledSeconds: number;
  readonly loadAverage: number[];
  readonly reads: Run;
  readonly commands: Run;
}

async function step(events: number, seconds: number, rounds: number, connections: number): Promise<Step> {
  const dataDir = benchDir(`scale-http-${events}`);
  try {
    const seeded = await scaledDataDir(dataDir, events);
    const cases = seeded.readable['ngo-1']!;
    const readHeaders = { authorization: `Bearer ${seeded.keys['ngo-1']!}`, 'x-purpose': 'assistance' };
    const read = (port: number): Load => ({
      url: `http://127.0.0.1:${port}/cases/${cases[0]!}`,
      method: 'GET',
      headers: readHeaders,
    });

    // 1. First start: read models and audit log built from the events; then a clean stop.
    const firstStarted = performance.now();
    let ledger = await start(dataDir, read, 3_600_000);
    await settle(ledger, read(ledger.port), 3_600_000);
    const firstStartSeconds = (performance.now() - firstStarted) / 1000;
    await ledger.stop();
    console.log(
      `scale-http: ${seeded.events} events; first start settled in ${round(firstStartSeconds, 1)} s`,
    );

    // 2. Restart: time to the first read.
    ledger = await start(dataDir, read, 600_000);
    const restart = { listenMs: round(ledger.listenMs, 0), firstReadMs: round(ledger.firstReadMs, 0) };
    console.log(
      `  restart: listening after ${restart.listenMs} ms, first read 200 after ${restart.firstReadMs} ms`,
    );
    try {
      // 3. Settled (background check done), then reads and commands in alternating rounds.
      const settledSeconds = await settle(ledger, read(ledger.port), 3_600_000);
      const loadAverage = loadavg().map((l) => round(l, 2));
      let i = 0;
      const reads: Run[] = [];
      const commands: Run[] = [];
      for (let r = 0; r < rounds; r++) {
        reads.push(
          await load(
            {
              ...read(ledger.port),
              next: () => ({ path: `/cases/${cases[(i = (i + 7919) % cases.length)]!}` }),
            },
            seconds,
            connections,
            ledger.pid,
          ),
        );
        commands.push(
          await load(
            {
              url: `http://127.0.0.1:${ledger.port}/cases`,
              method: 'POST',
              body: BODY,
              headers: { authorization: `Bearer ${seeded.keys['clinic-1']!}` },
              next: () => ({ headers: { 'idempotency-key': randomUUID() } }),
            },
            seconds,
            connections,
            ledger.pid,
          ),
        );
      }
      const result: Step = {
        events: seeded.events,
        cases: seeded.cases,
        seedSeconds: round(seeded.seconds, 1),
        firstStartSeconds: round(firstStartSeconds, 1),
        restart,
        settledSeconds: round(settledSeconds, 1),
        loadAverage,
        reads: combine(reads),
        commands: combine(commands),
      };
      for (const [what, run] of [
        ['reads   ', result.reads],
        ['commands', result.commands],
      ] as const)
        console.log(
          `  ${what} p50 ${run.p50Ms} ms  p99 ${run.p99Ms} ms  ${run.requestsPerSec} req/s  ${run.cpuUsPerRequest ?? '?'} µs CPU/req` +
            (run.non2xx > 0 || run.errors > 0
              ? `  WARNING: ${run.non2xx} non-2xx, ${run.errors} errors`
              : ''),
        );
      console.log(`  load average ${loadAverage.join(' ')}`);
      return result;
    } finally {
      await ledger.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runScaleHttpBenchmark() {
  const sizes = (process.env.SCALE_HTTP_SIZES ?? '11224,1000000').split(',').map(Number);
  const seconds = Number(process.env.BENCH_ROUND_SECONDS ?? 5);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = 10;
  const steps: Step[] = [];
  for (const size of sizes) steps.push(await step(size, seconds, rounds, connections));
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const growth = {
    reads: round(last.reads.p50Ms / first.reads.p50Ms, 2),
    commands: round(last.commands.p50Ms / first.commands.p50Ms, 2),
  };
  const result = {
    name: 'scale-http',
    ...environment(),
    what: 'the built ledger through HTTP at growing stored history: time from spawn to the first case read after a restart; p50 of GET /cases/{id} and POST /cases (Idempotency-Key), 10 connections, settled',
    aim: 'first read within 2 s of start at 1,000,000 events; p50 at the largest size within 1.5x of the smallest',
    logLevel: 'info',
    connections,
    rounds,
    roundSeconds: seconds,
    steps,
    growth,
    firstReadMs: last.restart.firstReadMs,
  };
  console.log(
    `scale-http: from ${first.events} to ${last.events} events: read p50 ×${growth.reads}, command p50 ×${growth.commands} (aim ≤ 1.5); ` +
      `first read ${last.restart.firstReadMs} ms after start (aim < 2000)`,
  );
  console.log(`written ${writeResult('scale-http', result)}`);
  return result;
}

if (require.main === module) {
  runScaleHttpBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
