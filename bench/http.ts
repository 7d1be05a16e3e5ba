/**
 * Shared by the HTTP benchmarks: servers in their own processes (the ledger as
 * built, and a bare Fastify baseline), and a bounded autocannon load from this one.
 */
import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
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
  /** The server process's CPU (user + system) per response, in µs; absent when not measured. */
  readonly cpuUsPerRequest?: number;
}

export interface Load {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /**
   * Varies each request: its path (appended to the origin of `url`) and extra headers, e.g. a
   * fresh Idempotency-Key per command or the next case of a list. Absent: every request is the same.
   */
  readonly next?: () => { path?: string; headers?: Record<string, string> };
}

/** Loads `target` for `seconds` (equal-length rounds), measuring the server's CPU over the same span. */
export async function load(
  target: Load,
  seconds: number,
  connections: number,
  serverPid?: number,
): Promise<Run> {
  const cpuBefore = serverPid === undefined ? undefined : processCpuUs(serverPid);
  const started = process.hrtime.bigint();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      {
        url: target.url,
        method: target.method,
        ...(target.body !== undefined ? { body: target.body } : {}),
        headers: {
          ...(target.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...target.headers,
        },
        duration: seconds,
        connections,
        ...(target.next !== undefined
          ? {
              requests: [
                {
                  setupRequest: (request: autocannon.Request) => {
                    const next = target.next!();
                    return {
                      ...request,
                      ...(next.path !== undefined ? { path: next.path } : {}),
                      headers: { ...request.headers, ...next.headers },
                    };
                  },
                },
              ],
            }
          : {}),
      },
      (error, done) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(done),
    );
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = serverPid === undefined ? undefined : processCpuUs(serverPid);
  const responses = result.requests.total;
  return {
    requestsPerSec: round(responses / elapsed),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: responses,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ...(cpuBefore !== undefined && cpuAfter !== undefined && responses > 0
      ? { cpuUsPerRequest: round((cpuAfter - cpuBefore) / responses, 1) }
      : {}),
  };
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One side over several rounds: total throughput, medians of the rounds' p50, p99 and CPU per request. */
export function combine(runs: readonly Run[]): Run {
  const total = runs.reduce((s, r) => s + r.requests, 0);
  const cpu = runs.map((r) => r.cpuUsPerRequest).filter((c): c is number => c !== undefined);
  return {
    requestsPerSec: round(median(runs.map((r) => r.requestsPerSec))),
    p50Ms: round(median(runs.map((r) => r.p50Ms))),
    p99Ms: round(median(runs.map((r) => r.p99Ms))),
    requests: total,
    non2xx: runs.reduce((s, r) => s + r.non2xx, 0),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    ...(cpu.length > 0 ? { cpuUsPerRequest: round(median(cpu), 1) } : {}),
  };
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
let ticksPerSecond: number | undefined;

/**
 * CPU time (user + system, every thread) a process has used so far, in µs, read from
 * /proc/<pid>/stat on Linux: measured from outside, so the ledger carries no endpoint or
 * code for the benchmark, and GC and worker threads are counted as the process spends them.
 */
export function processCpuUs(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return (ticks / ticksPerSecond) * 1e6;
  } catch {
    return undefined;
  }
}

/**
 * The scrape credential (METRICS_TOKEN) every ledger a benchmark spawns is given: /health shows the
 * store's head and the projection positions (what `settle` waits on) to that token only.
 */
export const BENCH_METRICS_TOKEN = randomBytes(24).toString('hex');

export interface Served {
  readonly port: number;
  readonly pid: number;
  /** What the server wrote to stdout (its logs), in bytes so far. */
  logBytes(): number;
  stop(): Promise<void>;
}

/**
 * Starts a server process and resolves with its port once it listens. Its stdout (the request
 * logs at level info) goes to `logFile` (default: discarded), never to an unread pipe, which would
 * block the server once the pipe's buffer is full.
 */
export async function serve(args: string[], env: NodeJS.ProcessEnv, logFile?: string): Promise<Served> {
  const port = await freePort();
  const out = openSync(logFile ?? '/dev/null', 'w');
  // BENCH_CPU_PROF=<dir>: the ledger (not the baseline) profiles its main thread over the measured rounds.
  const profileDir = process.env.BENCH_CPU_PROF;
  const profiled = profileDir !== undefined && profileDir !== '' && args[0] === ledgerMain();
  const nodeArgs = profiled ? ['-r', join(process.cwd(), 'bench/profile-window.cjs'), ...args] : args;
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...env, METRICS_TOKEN: BENCH_METRICS_TOKEN, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const logBytes = () => (logFile !== undefined && existsSync(logFile) ? statSync(logFile).size : 0);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return { port, pid: child.pid!, logBytes, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`${args.join(' ')} did not listen within 30 s`);
}

/**
 * Waits until the server has caught up with a large store after its start: `/health` (asked with
 * BENCH_METRICS_TOKEN, the scraper's credential) shows every projection at the store's head, `ready` answers 2xx, and the
 * process's CPU falls idle (any other background catch-up done). Bounded by `timeoutMs`.
 */
export async function settle(served: Served, ready: Load, timeoutMs = 300_000): Promise<number> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const origin = new URL(ready.url).origin;
  const wait = () => new Promise((r) => setTimeout(r, 500));
  for (;;) {
    if (Date.now() > deadline) throw new Error(`the server did not catch up within ${timeoutMs} ms`);
    const health = (await fetch(`${origin}/health`, {
      headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` },
    })
      .then((r) => r.json())
      .catch(() => undefined)) as
      | {
          details?: Record<string, { headPosition?: number; positions?: Record<string, number> }>;
        }
      | undefined;
    const head = health?.details?.eventStore?.headPosition;
    const positions = Object.values(health?.details?.projector?.positions ?? {});
    if (head !== undefined && positions.length > 0 && positions.every((p) => p >= head)) break;
    await wait();
  }
  for (;;) {
    const answer = await fetch(ready.url, { method: ready.method, headers: ready.headers }).catch(
      () => undefined,
    );
    if (answer?.ok) break;
    if (Date.now() > deadline)
      throw new Error(`the server did not answer ${ready.url} within ${timeoutMs} ms`);
    await wait();
  }
  for (let quiet = 0; quiet < 2 && Date.now() < deadline;) {
    const before = processCpuUs(served.pid) ?? 0;
    await new Promise((r) => setTimeout(r, 1000));
    const used = (processCpuUs(served.pid) ?? 0) - before;
    quiet = used < 50_000 ? quiet + 1 : 0; // two seconds in a row under 5 % of a core
  }
  return (Date.now() - started) / 1000;
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

export interface PairedRounds {
  readonly ours: Run;
  readonly baseline: Run;
  /** Ours ÷ baseline in each round. */
  readonly ratios: number[];
  /** The median of `ratios`: the figure to read. */
  readonly ratio: number;
  readonly rounds: Run[][];
}

/**
 * Equal-length paired rounds of ours and the baseline, after a warm-up of each: in every round
 * both sides run for the same `seconds`, the side that goes first alternating from round to round,
 * and the figure is the median of the per-round ratios (a neighbour's load hits both sides of a pair).
 */
export async function sideBySide(
  ours: { load: Load; pid: number },
  baseline: { load: Load; pid: number },
  seconds: number,
  rounds: number,
  connections: number,
): Promise<PairedRounds> {
  await load(ours.load, 2, connections);
  await load(baseline.load, 2, connections);
  // A ledger started with BENCH_CPU_PROF starts its profile now, after the warm-up.
  if (process.env.BENCH_CPU_PROF) process.kill(ours.pid, 'SIGWINCH');
  const o: Run[] = [];
  const b: Run[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let mine: Run;
    let theirs: Run;
    if (i % 2 === 0) {
      mine = await load(ours.load, seconds, connections, ours.pid);
      theirs = await load(baseline.load, seconds, connections, baseline.pid);
    } else {
      theirs = await load(baseline.load, seconds, connections, baseline.pid);
      mine = await load(ours.load, seconds, connections, ours.pid);
    }
    o.push(mine);
    b.push(theirs);
    ratios.push(round(mine.requestsPerSec / theirs.requestsPerSec, 3));
    console.log(
      `  round ${i + 1}: ours ${mine.requestsPerSec} req/s (${mine.cpuUsPerRequest ?? '?'} µs CPU/req), baseline ${theirs.requestsPerSec} req/s (${theirs.cpuUsPerRequest ?? '?'} µs CPU/req), ratio ${ratios[i]}`,
    );
  }
  return {
    ours: combine(o),
    baseline: combine(b),
    ratios,
    ratio: round(median(ratios), 3),
    rounds: o.map((r, i) => [r, b[i]!]),
  };
}

export function printRuns(title: string, ours: Run, baseline: Run, ratio: number, aim: string): void {
  console.log(`\n${title}`);
  console.log(
    `  ours     ${ours.requestsPerSec} req/s  ${ours.cpuUsPerRequest ?? '?'} µs CPU/req  p50 ${ours.p50Ms} ms  p99 ${ours.p99Ms} ms  non-2xx ${ours.non2xx}  errors ${ours.errors}`,
  );
  console.log(
    `  baseline ${baseline.requestsPerSec} req/s  ${baseline.cpuUsPerRequest ?? '?'} µs CPU/req  p50 ${baseline.p50Ms} ms  p99 ${baseline.p99Ms} ms`,
  );
  console.log(`  ratio    ${ratio} (median of the rounds' ratios; aim ${aim})`);
  if (ours.non2xx > 0 || ours.errors > 0)
    console.log('  WARNING: some ledger requests failed; the figure is not valid');
}

export interface HttpBenchmark {
  readonly name: string;
  readonly what: string;
  readonly baselineWhat: string;
  /**
   * Prepares the ledger's data directory before its server starts; returns the request to load it
   * with, and a read that answers 2xx once the server has caught up with the store.
   */
  readonly prepare: (dataDir: string) => Promise<{
    readonly load: (port: number) => Load;
    readonly ready: (port: number) => Load;
    readonly store: { readonly events: number; readonly cases: number };
  }>;
  /** The baseline's request on the bare server. */
  readonly baseline: (port: number) => Load;
}

/** Runs one HTTP benchmark: the built ledger and the bare server side by side; prints and writes the result. */
export async function runHttpBenchmark(
  bench: HttpBenchmark,
  options: { seconds?: number; rounds?: number; connections?: number } = {},
) {
  const seconds = options.seconds ?? Number(process.env.BENCH_ROUND_SECONDS ?? 5);
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  const connections = options.connections ?? 10;
  const main = ledgerMain();
  const dataDir = benchDir(bench.name);
  try {
    const prepared = await bench.prepare(dataDir);
    const ledger = await serve(
      [main],
      {
        ...process.env,
        DATA_DIR: dataDir,
        // The production default.
        LOG_LEVEL: 'info',
        // The bench measures the ledger, not its rate limit: one principal sends every request.
        RATE_LIMIT_PER_PRINCIPAL: '10000000',
      },
      join(dataDir, 'ledger.log'),
    );
    const bare = await serve([BARE_SERVER], process.env);
    try {
      const settledIn = await settle(ledger, prepared.ready(ledger.port));
      console.log(
        `${bench.name}: the ledger caught up with ${prepared.store.events} stored events in ${round(settledIn, 1)} s after listening`,
      );
      const load1 = loadAverage();
      const logBefore = ledger.logBytes();
      const paired = await sideBySide(
        { load: prepared.load(ledger.port), pid: ledger.pid },
        { load: bench.baseline(bare.port), pid: bare.pid },
        seconds,
        rounds,
        connections,
      );
      const logBytesPerRequest = round(
        (ledger.logBytes() - logBefore) / paired.rounds.reduce((s, [o]) => s + o!.requests, 0),
        0,
      );
      const result = {
        name: bench.name,
        ...environment(),
        loadAverage: load1,
        what: bench.what,
        baselineWhat: bench.baselineWhat,
        aim: 'ratio >= 0.25',
        store: prepared.store,
        logLevel: 'info',
        connections,
        rounds,
        roundSeconds: seconds,
        ours: paired.ours,
        baseline: paired.baseline,
        ratios: paired.ratios,
        ratio: paired.ratio,
        logBytesPerRequest,
      };
      printRuns(
        `${bench.name} benchmark: ${connections} connections, ${rounds} paired rounds of ${seconds} s each side; store of ${prepared.store.events} events, ${prepared.store.cases} cases; load average ${load1.join(' ')}`,
        paired.ours,
        paired.baseline,
        paired.ratio,
        '>= 0.25',
      );
      console.log(`  logs     ${logBytesPerRequest} bytes per request at level info`);
      console.log(`written ${writeResult(bench.name, result)}`);
      return result;
    } finally {
      await Promise.all([ledger.stop(), bare.stop()]);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The machine's 1, 5 and 15 minute load averages: how busy the shared host was. */
function loadAverage(): number[] {
  return loadavg().map((l) => round(l, 2));
}
