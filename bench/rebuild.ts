/**
 * Benchmark `rebuild`: events/s of a projection rebuilt from zero (the case
 * directory) against a raw ordered scan of the same store with the same JSON
 * parsing, in the same process, on the store the HTTP benchmarks use: 8,000
 * cases (≈ 112,000 events) written interleaved through the command handlers.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@nrm/event-store';
import { caseDirectory, Projector, SqliteReadModelStore } from '@nrm/projections';
import { benchDir, environment, round, writeResult } from './lib';
import { seededDataDir } from './seed';

/** The baseline: every stored event read in position order and its JSON parsed, nothing else. */
function rawScan(filename: string): { events: number; seconds: number } {
  const db = new Database(filename, { readonly: true });
  const started = process.hrtime.bigint();
  let events = 0;
  for (const row of db
    .prepare(
      'SELECT position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at FROM events ORDER BY position',
    )
    .iterate() as Iterable<{ data: string; metadata: string }>) {
    JSON.parse(row.data);
    JSON.parse(row.metadata);
    events++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return { events, seconds };
}

export async function runRebuildBenchmark(options: { cases?: number; rounds?: number } = {}) {
  const cases = options.cases ?? Number(process.env.BENCH_CASES ?? 8000);
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  const dir = benchDir('rebuild');
  try {
    const seeded = await seededDataDir(dir, cases);
    const filename = join(dir, 'events.sqlite');
    const store = new SqliteEventStore({ filename, synchronous: 'NORMAL' });
    const events = await store.headPosition();
    const ours: number[] = [];
    const baseline: number[] = [];
    const ratios: number[] = [];
    const rebuildOnce = async (i: number) => {
      const file = join(dir, `read-models-${i}.sqlite`);
      const readModels = new SqliteReadModelStore(file);
      const projector = new Projector({ store, readModels, projections: [caseDirectory] });
      const result = await projector.rebuild('case-directory');
      await projector.close();
      await readModels.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
      return result.events / result.seconds;
    };
    const scanOnce = () => {
      const raw = rawScan(filename);
      return raw.events / raw.seconds;
    };
    await rebuildOnce(-1); // warm-up: the page cache and the JIT, as for the scan below
    scanOnce();
    for (let i = 0; i < rounds; i++) {
      // Paired rounds, the side that goes first alternating.
      let o: number;
      let b: number;
      if (i % 2 === 0) {
        o = await rebuildOnce(i);
        b = scanOnce();
      } else {
        b = scanOnce();
        o = await rebuildOnce(i);
      }
      ours.push(o);
      baseline.push(b);
      ratios.push(round(o / b, 3));
      console.log(
        `  round ${i + 1}: ours ${round(o)} events/s, baseline ${round(b)} events/s, ratio ${ratios[i]}`,
      );
    }
    await store.close();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const o = round(median(ours));
    const b = round(median(baseline));
    const result = {
      name: 'rebuild',
      ...environment(),
      loadAverage: loadavg().map((l) => round(l, 2)),
      what: `case-directory projection rebuilt from zero into a new SQLite file: ${events} events (${seeded.cases} cases written interleaved through the command handlers), ${rounds} paired rounds`,
      baselineWhat:
        'raw better-sqlite3 scan of the same events in position order with JSON.parse of data and metadata',
      aim: 'ratio >= 0.3',
      events,
      oursEventsPerSec: o,
      baselineEventsPerSec: b,
      ratios,
      ratio: median(ratios),
    };
    console.log(`\nrebuild benchmark: ${events} events, ${seeded.cases} cases interleaved`);
    console.log(`  ours     ${o} events/s (case-directory rebuilt from zero)`);
    console.log(`  baseline ${b} events/s (ordered scan + JSON.parse)`);
    console.log(`  ratio    ${result.ratio} (median of the rounds' ratios; aim >= 0.3)`);
    console.log(`written ${writeResult('rebuild', result)}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runRebuildBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
