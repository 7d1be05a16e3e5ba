/**
 * Two builds of the ledger side by side (say, before and after a change), each in its own process
 * on its own copy of the same seeded store, loaded in equal paired rounds that alternate which goes
 * first, each round as long (BENCH_ROUND_SECONDS, 5 s). Per round: requests/s and the server
 * process's CPU (user + system, every thread, from /proc) per request, and that of its main thread
 * alone (the event loop that serves requests); the figures are the medians of the per-round ratios,
 * which is what stays readable on a shared, noisy machine. Every command carries a fresh
 * Idempotency-Key.
 *
 *   PAIR_BEFORE=/path/to/old/checkout PAIR_AFTER=. PAIR_KIND=query npx tsx bench/builds-paired.ts
 *
 * Both checkouts must be built (npm run build). Linux only (/proc). PAIR_STORE=seeded runs on the
 * 112,024-event store of `bench:query` and `bench:command` (bench/seed.ts), the query going round
 * the 2,000 cases one NGO may read, each server waited for until it has caught up and gone idle;
 * the default is the small demo store and one case. PAIR_ENV_BEFORE / PAIR_ENV_AFTER
 * (`NAME=value,NAME=value`) add settings to one side: the same build against itself with
 * LOG_SYNC=on and off, say. Each server's stdout (its request logs) goes to a file, as in production.
 * BENCH_CPU_PROF=<dir> profiles each side's main thread over the measured rounds (`<dir>/before`,
 * `<dir>/after`; summarise each with `npm run -s bench:profile <dir>/<side>`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, cpSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SqliteEventStore } from '@nrm/event-store';
import { RegistryCommands } from '@nrm/access';
import { seedDemo } from '../apps/ledger-cli/src/demo';
import { load, settle, type Load } from './http';
import { seededDataDir } from './seed';
import { benchDir, environment, round, writeResult } from './lib';

const TICK_US = 10_000; // USER_HZ = 100 on Linux

function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US; // utime, stime
}

/** The CPU of the process's main thread alone (the event loop that serves requests). */
function mainThreadCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

/** Extra settings for one side, from `NAME=value,NAME=value`. */
function sideEnv(spec: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (spec ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) env[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return env;
}

async function start(
  side: string,
  checkout: string,
  dataDir: string,
  port: number,
  extra: Record<string, string>,
): Promise<ChildProcess> {
  const main = join(resolve(checkout), 'dist/apps/ledger-api/apps/ledger-api/src/main.js');
  const out = openSync(join(dataDir, 'stdout.log'), 'w');
  // BENCH_CPU_PROF=<dir>: each side profiles its main thread over the measured rounds, into <dir>/<side>.
  const profileDir = process.env.BENCH_CPU_PROF ? join(resolve(process.env.BENCH_CPU_PROF), side) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const args = profileDir ? ['-r', join(__dirname, 'profile-window.cjs'), main] : [main];
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      RATE_LIMIT_PER_PRINCIPAL: '10000000',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...extra,
      ...(profileDir ? { BENCH_CPU_PROF: profileDir } : {}),
    },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  child.kill('SIGTERM');
  throw new Error(`${main} did not listen`);
}

const BODY = JSON.stringify({
  indicators: ['restricted-movement', 'debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
});

/** The 112,024-event store of bench:query and bench:command: the load, and a read to wait on. */
async function prepareSeeded(
  kind: string,
  dataDir: string,
): Promise<{ load: (port: number) => Load; ready: (port: number) => Load }> {
  const seeded = await seededDataDir(dataDir);
  const cases = seeded.readable['ngo-1']!;
  const headers = { authorization: `Bearer ${seeded.keys['ngo-1']!}`, 'x-purpose': 'assistance' };
  const read = (port: number, caseId: string): Load => ({
    url: `http://127.0.0.1:${port}/cases/${caseId}`,
    method: 'GET',
    headers,
  });
  let i = 0;
  return {
    ready: (port) => read(port, cases[0]!),
    load:
      kind === 'query'
        ? (port) => ({
            ...read(port, cases[0]!),
            next: () => ({ path: `/cases/${cases[i++ % cases.length]!}` }),
          })
        : (port) => ({
            url: `http://127.0.0.1:${port}/cases`,
            method: 'POST',
            body: BODY,
            headers: { authorization: `Bearer ${seeded.keys['clinic-1']!}` },
            next: () => ({ headers: { 'idempotency-key': randomUUID() } }),
          }),
  };
}

async function prepare(kind: string, dataDir: string): Promise<(port: number) => Load> {
  const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
  try {
    if (kind === 'query') {
      const demo = await seedDemo(store, ['law-enforcement', 'asylum-authority', 'national-coordinator']);
      return (port) => ({
        url: `http://127.0.0.1:${port}/cases/${demo.caseId}`,
        method: 'GET',
        headers: { authorization: `Bearer ${demo.keys['ngo-lighthouse']!}`, 'x-purpose': 'assistance' },
      });
    }
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
    // A fresh Idempotency-Key on every command, as clients send them (one key for all would
    // make every request after the first a replay).
    return (port) => ({
      next: () => ({ headers: { 'idempotency-key': randomUUID() } }),
      url: `http://127.0.0.1:${port}/cases`,
      method: 'POST',
      body: BODY,
      headers: { authorization: `Bearer ${apiKey!}` },
    });
  } finally {
    await store.close();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const kind = process.env.PAIR_KIND ?? 'query';
  const rounds = Number(process.env.PAIR_ROUNDS ?? 5);
  // bench/http.ts's load() runs for a time, not a number of requests (equal-length rounds).
  const seconds = Number(process.env.BENCH_ROUND_SECONDS ?? 5);
  const checkouts = { before: process.env.PAIR_BEFORE ?? '', after: process.env.PAIR_AFTER ?? '.' };
  if (!checkouts.before) throw new Error('PAIR_BEFORE: the other checkout, built');
  const onSeeded = process.env.PAIR_STORE === 'seeded';
  const env = { before: sideEnv(process.env.PAIR_ENV_BEFORE), after: sideEnv(process.env.PAIR_ENV_AFTER) };
  const dir = benchDir(`pair-${kind}`);
  const seeded = join(dir, 'seed');
  const prepared = onSeeded ? await prepareSeeded(kind, seeded) : { load: await prepare(kind, seeded) };
  const target = prepared.load;
  const servers: Record<string, ChildProcess> = {};
  try {
    const port = (side: string) => 41000 + (process.pid % 1000) * 2 + (side === 'before' ? 0 : 1);
    for (const side of ['before', 'after'] as const) {
      cpSync(seeded, join(dir, side), { recursive: true });
      servers[side] = await start(side, checkouts[side], join(dir, side), port(side), env[side]);
    }
    if ('ready' in prepared)
      for (const side of ['before', 'after'] as const) {
        const pid = servers[side]!.pid!;
        const seconds = await settle(
          { port: port(side), pid, logBytes: () => 0, stop: () => Promise.resolve() },
          prepared.ready(port(side)),
        );
        console.error(`${side}: caught up and idle after ${seconds} s`);
      }
    for (const side of ['before', 'after']) await load(target(port(side)), 2, 10); // warm-up
    // The profiles (BENCH_CPU_PROF) cover the measured rounds only (bench/profile-window.cjs).
    if (process.env.BENCH_CPU_PROF) for (const side of ['before', 'after']) servers[side]!.kill('SIGWINCH');
    const per: Record<
      string,
      { rps: number; cpuUs: number; mainThreadCpuUs: number; p50: number; p99: number }[]
    > = {
      before: [],
      after: [],
    };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
      for (const side of order) {
        const pid = servers[side]!.pid!;
        const c0 = cpuUs(pid);
        const m0 = mainThreadCpuUs(pid);
        const run = await load(target(port(side)), seconds, 10);
        const cpu = cpuUs(pid) - c0;
        const mainCpu = mainThreadCpuUs(pid) - m0;
        if (run.non2xx > 0 || run.errors > 0)
          throw new Error(`${side}: ${run.non2xx} non-2xx, ${run.errors} errors`);
        per[side]!.push({
          rps: run.requestsPerSec,
          cpuUs: cpu / run.requests,
          mainThreadCpuUs: mainCpu / run.requests,
          p50: run.p50Ms,
          p99: run.p99Ms,
        });
      }
    }
    const summary = (side: string) => ({
      requestsPerSec: round(median(per[side]!.map((x) => x.rps))),
      cpuUsPerRequest: round(median(per[side]!.map((x) => x.cpuUs))),
      mainThreadCpuUsPerRequest: round(median(per[side]!.map((x) => x.mainThreadCpuUs))),
      p50Ms: median(per[side]!.map((x) => x.p50)),
      p99Ms: median(per[side]!.map((x) => x.p99)),
    });
    const result = {
      name: `pair-${kind}`,
      ...environment(),
      what: `${kind}: two builds side by side, ${rounds} paired rounds of ${seconds} s per side, 10 connections, LOG_LEVEL ${process.env.LOG_LEVEL ?? 'info'}, ${onSeeded ? 'seeded store of bench:query' : 'demo store'}`,
      checkouts,
      env,
      before: summary('before'),
      after: summary('after'),
      medianRatios: {
        requestsPerSec: round(median(per.after!.map((a, i) => a.rps / per.before![i]!.rps)), 3),
        cpuUsPerRequest: round(median(per.after!.map((a, i) => a.cpuUs / per.before![i]!.cpuUs)), 3),
        mainThreadCpuUsPerRequest: round(
          median(per.after!.map((a, i) => a.mainThreadCpuUs / per.before![i]!.mainThreadCpuUs)),
          3,
        ),
      },
      rounds: per,
    };
    console.log(JSON.stringify({ ...result, rounds: undefined }, null, 2));
    writeResult(`pair-${kind}`, result);
  } finally {
    await Promise.all(
      Object.values(servers).map(
        (s) =>
          new Promise((r) => {
            if (s.exitCode !== null || s.signalCode !== null) return r(undefined);
            s.once('exit', r);
            s.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
