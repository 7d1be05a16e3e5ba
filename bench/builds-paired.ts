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
 * One build against itself with a setting on and off: PAIR_BEFORE=. PAIR_AFTER=.
 * PAIR_BEFORE_ENV='AUDIT_LOG_THREAD=off' PAIR_AFTER_ENV='AUDIT_LOG_THREAD=on' (KEY=VALUE, space-separated).
 *
 * Both checkouts must be built (npm run build). Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SqliteEventStore } from '@nrm/event-store';
import { RegistryCommands } from '@nrm/access';
import { seedDemo } from '../apps/ledger-cli/src/demo';
import { load, type Load } from './http';
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

/** PAIR_BEFORE_ENV / PAIR_AFTER_ENV: settings of one side only, as `KEY=VALUE KEY=VALUE`. */
function sideEnv(value: string | undefined): Record<string, string> {
  return Object.fromEntries(
    (value ?? '')
      .split(/\s+/)
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
}

async function start(
  checkout: string,
  dataDir: string,
  port: number,
  extra: Record<string, string>,
): Promise<ChildProcess> {
  const main = join(resolve(checkout), 'dist/apps/ledger-api/apps/ledger-api/src/main.js');
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      RATE_LIMIT_PER_PRINCIPAL: '10000000',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...extra,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
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
      body: JSON.stringify({
        indicators: ['restricted-movement', 'debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
      }),
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
  const dir = benchDir(`pair-${kind}`);
  const seeded = join(dir, 'seed');
  const target = await prepare(kind, seeded);
  const servers: Record<string, ChildProcess> = {};
  try {
    for (const [i, side] of (['before', 'after'] as const).entries()) {
      cpSync(seeded, join(dir, side), { recursive: true });
      const extra = sideEnv(side === 'before' ? process.env.PAIR_BEFORE_ENV : process.env.PAIR_AFTER_ENV);
      servers[side] = await start(
        checkouts[side],
        join(dir, side),
        41000 + (process.pid % 1000) * 2 + i,
        extra,
      );
    }
    const port = (side: string) => 41000 + (process.pid % 1000) * 2 + (side === 'before' ? 0 : 1);
    for (const side of ['before', 'after']) await load(target(port(side)), 2, 10); // warm-up
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
      what: `${kind}: two builds side by side, ${rounds} paired rounds of ${seconds} s per side, 10 connections, LOG_LEVEL ${process.env.LOG_LEVEL ?? 'info'}`,
      sideSettings: {
        before: sideEnv(process.env.PAIR_BEFORE_ENV),
        after: sideEnv(process.env.PAIR_AFTER_ENV),
      },
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
    for (const s of Object.values(servers)) s.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
