/**
 * Benchmark `append-event-loop`: what a durable append costs the caller's event loop. The same
 * load (16 appenders at once on their own streams, synchronous=FULL, as concurrent requests would
 * append their audit events) on two stores side by side: commits on the writer thread (the
 * default) and commits on the store's own connection (`writerThread: false`, how the store worked
 * before). Equal-length paired rounds that alternate which side goes first; per round, the main
 * thread's busy time per append (event-loop utilisation: time not spent waiting for I/O, which
 * includes an fsync run on the loop), the loop's delay (monitorEventLoopDelay) and appends/s.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { SqliteEventStore } from '@nrm/event-store';
import { benchDir, environment, fdatasyncPerSecond, inventedEvent, round, writeResult } from './lib';

const WRITERS = 16;

interface RoundFigures {
  readonly appends: number;
  readonly appendsPerSec: number;
  /** Main-thread busy time per append, µs. */
  readonly loopBusyUsPerAppend: number;
  /** CPU of the whole process (every thread) per append, µs. */
  readonly processCpuUsPerAppend: number;
  readonly loopDelayP50Ms: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

async function oneRound(store: SqliteEventStore, revisions: number[], ms: number, seq: { n: number }) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + ms;
  let appends = 0;
  histogram.enable();
  // Each appender loops on its own stream: like concurrent requests, each waits for its own answer.
  await Promise.all(
    revisions.map(async (_, w) => {
      while (Date.now() < deadline) {
        const expected = revisions[w]!;
        const result = await store.append(`writer-${w}`, [inventedEvent(seq.n++)], {
          expectedRevision: expected === -1 ? 'no-stream' : expected,
        });
        revisions[w] = result.revision;
        appends++;
      }
    }),
  );
  histogram.disable();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const elu = performance.eventLoopUtilization(elu0);
  const cpu = process.cpuUsage(cpu0);
  const figures: RoundFigures = {
    appends,
    appendsPerSec: round(appends / seconds),
    loopBusyUsPerAppend: round((elu.active * 1000) / appends, 1),
    processCpuUsPerAppend: round((cpu.user + cpu.system) / appends, 1),
    loopDelayP50Ms: round(histogram.percentile(50) / 1e6, 2),
    loopDelayP99Ms: round(histogram.percentile(99) / 1e6, 2),
    loopDelayMaxMs: round(histogram.max / 1e6, 2),
  };
  return figures;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function runAppendEventLoopBenchmark(options: { rounds?: number; roundMs?: number } = {}) {
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 6);
  const roundMs = options.roundMs ?? Number(process.env.BENCH_ROUND_MS ?? 1500);
  const dir = benchDir('append-event-loop');
  try {
    const fsyncs = fdatasyncPerSecond(dir);
    const sides = {
      thread: new SqliteEventStore({ filename: join(dir, 'thread.sqlite'), synchronous: 'FULL' }),
      inline: new SqliteEventStore({
        filename: join(dir, 'inline.sqlite'),
        synchronous: 'FULL',
        writerThread: false,
      }),
    };
    const revisions = {
      thread: new Array<number>(WRITERS).fill(-1),
      inline: new Array<number>(WRITERS).fill(-1),
    };
    const seq = { n: 0 };
    // Warm-up: start the writer thread, prepare the statements.
    for (const side of ['thread', 'inline'] as const) await oneRound(sides[side], revisions[side], 200, seq);
    const figures: { thread: RoundFigures[]; inline: RoundFigures[] } = { thread: [], inline: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['thread', 'inline'] as const) : (['inline', 'thread'] as const);
      for (const side of order)
        figures[side].push(await oneRound(sides[side], revisions[side], roundMs, seq));
    }
    await sides.thread.close();
    await sides.inline.close();
    const ratios = figures.thread.map((t, i) => ({
      loopBusy: t.loopBusyUsPerAppend / figures.inline[i]!.loopBusyUsPerAppend,
      throughput: t.appendsPerSec / figures.inline[i]!.appendsPerSec,
      processCpu: t.processCpuUsPerAppend / figures.inline[i]!.processCpuUsPerAppend,
    }));
    const summary = (side: 'thread' | 'inline') => ({
      appendsPerSec: round(median(figures[side].map((f) => f.appendsPerSec))),
      loopBusyUsPerAppend: round(median(figures[side].map((f) => f.loopBusyUsPerAppend)), 1),
      processCpuUsPerAppend: round(median(figures[side].map((f) => f.processCpuUsPerAppend)), 1),
      loopDelayP99Ms: round(median(figures[side].map((f) => f.loopDelayP99Ms)), 2),
      loopDelayMaxMs: round(Math.max(...figures[side].map((f) => f.loopDelayMaxMs)), 2),
    });
    const result = {
      name: 'append-event-loop',
      ...environment(),
      what: `${WRITERS} appenders at once, synchronous=FULL, ${rounds} paired rounds of ${roundMs} ms: the writer thread against commits on the store's own connection`,
      fdatasyncPerSec: fsyncs,
      thread: summary('thread'),
      inline: summary('inline'),
      medianRatios: {
        loopBusyPerAppend: round(median(ratios.map((x) => x.loopBusy)), 3),
        appendsPerSec: round(median(ratios.map((x) => x.throughput)), 3),
        processCpuPerAppend: round(median(ratios.map((x) => x.processCpu)), 3),
      },
      rounds: figures,
    };
    console.log(`\nappend event-loop benchmark (node ${process.version}); this disk: ${fsyncs} fdatasync/s`);
    console.log('side    appends/s  loop busy µs/append  process CPU µs/append  loop delay p99 ms  max ms');
    for (const side of ['thread', 'inline'] as const) {
      const s = result[side];
      console.log(
        `${side.padEnd(7)} ${String(s.appendsPerSec).padStart(9)}  ${String(s.loopBusyUsPerAppend).padStart(19)}  ${String(s.processCpuUsPerAppend).padStart(21)}  ${String(s.loopDelayP99Ms).padStart(17)}  ${String(s.loopDelayMaxMs).padStart(6)}`,
      );
    }
    console.log(
      `thread ÷ inline, median of per-round ratios: loop busy per append ${result.medianRatios.loopBusyPerAppend}, appends/s ${result.medianRatios.appendsPerSec}, process CPU per append ${result.medianRatios.processCpuPerAppend}`,
    );
    console.log(`written ${writeResult('append-event-loop', result)}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runAppendEventLoopBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
