/**
 * Benchmark `scale`: does the cost of an append or a read grow with history?
 * One store is filled step by step (10k, 100k, 1M events by default; SCALE_MAX
 * caps it) and, at each step, the same operations are timed: one-event appends
 * to new streams, reads of a whole stream of 100 events, and a 100-event page
 * of the global log from a random position. The figure is p50 at the largest
 * size over p50 at the smallest (aim: within 1.5×).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore, type NewEvent } from '@nrm/event-store';
import { benchDir, environment, round, summarise, writeResult, type Figures } from './lib';

function event(n: number): NewEvent {
  return {
    id: randomUUID(),
    type: n % 3 === 0 ? 'ReferralMade' : 'SupportServiceProvided',
    schemaVersion: 1,
    data: { caseId: `case-${n % 9973}`, serviceType: 'accommodation', n, providedOn: '2026-11-30' },
    metadata: { correlationId: randomUUID(), occurredAt: '2026-11-30T12:00:00.000Z' },
  };
}

async function time(count: number, op: (i: number) => Promise<unknown>): Promise<Figures> {
  const samples: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await op(i);
    samples.push(process.hrtime.bigint() - start);
  }
  return summarise(samples, 1);
}

export async function runScaleBenchmark(options: { sizes?: number[]; samples?: number } = {}) {
  const max = Number(process.env.SCALE_MAX ?? 1_000_000);
  const sizes = (options.sizes ?? [10_000, 100_000, 1_000_000]).filter((s) => s <= max);
  const samples = options.samples ?? 2000;
  const dir = benchDir('scale');
  // NORMAL: the step is about history, not fsync; FULL would measure the disk at every size alike.
  const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
  const streams: string[] = [];
  const steps: Array<{ events: number; append: Figures; readStream: Figures; readAllPage: Figures }> = [];
  let stored = 0;
  try {
    for (const size of sizes) {
      const started = Date.now();
      while (stored < size) {
        const stream = `support-${randomUUID()}`;
        const count = Math.min(100, size - stored);
        await store.append(
          stream,
          Array.from({ length: count }, (_, k) => event(stored + k)),
          { expectedRevision: 'no-stream' },
        );
        if (count === 100) streams.push(stream);
        stored += count;
      }
      console.log(`scale: ${stored} events stored (+${((Date.now() - started) / 1000).toFixed(1)} s)`);
      const append = await time(samples, (i) =>
        store.append(`case-probe-${size}-${i}`, [event(i)], { expectedRevision: 'no-stream' }),
      );
      stored += samples;
      const readStream = await time(samples, async () => {
        const stream = streams[Math.floor(Math.random() * streams.length)]!;
        let n = 0;
        for await (const _ of store.readStream(stream)) n++;
        if (n !== 100) throw new Error(`read ${n} events of ${stream}`);
      });
      const readAllPage = await time(samples, async () => {
        const after = Math.floor(Math.random() * (stored - 100));
        let n = 0;
        for await (const _ of store.readAll({ fromPosition: { after }, maxCount: 100 })) n++;
        if (n !== 100) throw new Error(`read ${n} events after ${after}`);
      });
      steps.push({ events: size, append, readStream, readAllPage });
      console.log(
        `  at ${size}: append p50 ${append.p50Ms} ms p99 ${append.p99Ms}; stream read p50 ${readStream.p50Ms} ms; page p50 ${readAllPage.p50Ms} ms`,
      );
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const growth = {
    append: round(last.append.p50Ms / first.append.p50Ms, 3),
    readStream: round(last.readStream.p50Ms / first.readStream.p50Ms, 3),
    readAllPage: round(last.readAllPage.p50Ms / first.readAllPage.p50Ms, 3),
  };
  const result = {
    name: 'scale',
    ...environment(),
    what: 'p50 of one-event appends, 100-event stream reads and 100-event global pages, at growing history (SQLite, NORMAL)',
    baselineWhat: 'the same operations at the smallest history',
    aim: 'p50 at the largest history within 1.5x of the smallest',
    samplesPerStep: samples,
    steps,
    growth,
    ratio: round(Math.max(growth.append, growth.readStream, growth.readAllPage), 3),
  };
  console.log(
    `scale: p50 growth from ${first.events} to ${last.events} events: append ×${growth.append}, stream read ×${growth.readStream}, page ×${growth.readAllPage} (aim ≤ 1.5)`,
  );
  console.log(`written ${writeResult('scale', result)}`);
  return result;
}

if (require.main === module) {
  runScaleBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
