/**
 * Benchmark `append`: one-event and 100-event appends through the event-store
 * port (embedded SQLite) against raw better-sqlite3 inserts of the same row
 * shape, same schema and same pragmas, measured in alternating rounds in one
 * process so that machine noise hits both sides alike.
 */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore, type NewEvent, type SqliteSynchronous } from '@nrm/event-store';
import { MIGRATIONS } from '../libs/event-store/src/sqlite/migrations';
import {
  benchDir,
  environment,
  inventedEvent,
  fdatasyncPerSecond,
  round,
  summarise,
  writeResult,
  type Figures,
} from './lib';

const STREAMS = 100;
const BATCH = 100;

interface Shape {
  readonly name: 'single' | 'batch100';
  readonly eventsPerOp: number;
}

interface Row {
  readonly mode: SqliteSynchronous;
  readonly shape: Shape['name'];
  readonly ours: Figures;
  readonly baseline: Figures;
  readonly ratio: number;
}

/** A raw better-sqlite3 writer on an identical schema: no port, no checks, revisions from a counter. */
function rawWriter(filename: string, mode: SqliteSynchronous) {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${mode}`);
  for (const m of MIGRATIONS) db.exec(m.sql);
  const insert = db.prepare(
    `INSERT INTO events (position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const revisions = new Array<number>(STREAMS).fill(-1);
  // Positions from a counter: the schema refuses an insert that leaves the position to SQLite
  // (migration 3's trigger sees it as -1, at or below the positions handed out).
  let position = 0;
  const put = (e: NewEvent, s: number): void => {
    revisions[s] = revisions[s]! + 1;
    insert.run(
      ++position,
      e.id,
      `case-${s}`,
      revisions[s],
      e.type,
      e.schemaVersion,
      JSON.stringify(e.data),
      JSON.stringify(e.metadata),
      new Date().toISOString(),
    );
  };
  const many = db.transaction((events: NewEvent[], s: number) => {
    for (const e of events) put(e, s);
  });
  return {
    single: (e: NewEvent, s: number) => put(e, s),
    batch: (events: NewEvent[], s: number) => many(events, s),
    close: () => db.close(),
  };
}

async function measure(
  mode: SqliteSynchronous,
  shape: Shape,
  dir: string,
  budgetMs: number,
  maxOpsPerRound: number,
): Promise<Row> {
  const store = new SqliteEventStore({
    filename: join(dir, `ours-${mode}-${shape.name}.sqlite`),
    synchronous: mode,
  });
  const raw = rawWriter(join(dir, `raw-${mode}-${shape.name}.sqlite`), mode);
  const revisions = new Array<number>(STREAMS).fill(-1);
  const ours: bigint[] = [];
  const baseline: bigint[] = [];
  let seq = 0;
  const make = (): NewEvent[] => Array.from({ length: shape.eventsPerOp }, () => inventedEvent(seq++));

  const deadline = Date.now() + budgetMs;
  // Alternate short rounds, ours first then baseline then the reverse, until the budget is spent.
  for (let round = 0; Date.now() < deadline; round++) {
    const sides = round % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const);
    for (const side of sides) {
      for (let i = 0; i < maxOpsPerRound; i++) {
        const s = ((seq / shape.eventsPerOp) % STREAMS) | 0;
        const events = make();
        const t0 = process.hrtime.bigint();
        if (side === 'ours') {
          const expected = revisions[s]!;
          const result = await store.append(`case-${s}`, events, {
            expectedRevision: expected === -1 ? 'no-stream' : expected,
          });
          revisions[s] = result.revision;
          ours.push(process.hrtime.bigint() - t0);
        } else {
          if (shape.eventsPerOp === 1) raw.single(events[0]!, s);
          else raw.batch(events, s);
          baseline.push(process.hrtime.bigint() - t0);
        }
      }
    }
  }
  await store.close();
  raw.close();
  const o = summarise(ours, shape.eventsPerOp);
  const b = summarise(baseline, shape.eventsPerOp);
  return { mode, shape: shape.name, ours: o, baseline: b, ratio: round(o.eventsPerSec / b.eventsPerSec, 3) };
}

/**
 * Durable appends under concurrency: `writers` appenders on their own streams at once, FULL.
 * Group commit lets them share fsyncs, so this may exceed the disk's fdatasync/s.
 */
async function durableConcurrent(dir: string, budgetMs: number, writers: number): Promise<Figures> {
  const store = new SqliteEventStore({
    filename: join(dir, 'durable-concurrent.sqlite'),
    synchronous: 'FULL',
  });
  const revisions = new Array<number>(writers).fill(-1);
  const samples: bigint[] = [];
  const deadline = Date.now() + budgetMs;
  let seq = 0;
  while (Date.now() < deadline) {
    const t0 = process.hrtime.bigint();
    await Promise.all(
      revisions.map(async (expected, s) => {
        const result = await store.append(`writer-${s}`, [inventedEvent(seq++)], {
          expectedRevision: expected === -1 ? 'no-stream' : expected,
        });
        revisions[s] = result.revision;
      }),
    );
    samples.push(process.hrtime.bigint() - t0);
  }
  await store.close();
  return summarise(samples, writers);
}

export async function runAppendBenchmark(options: { budgetMs?: number } = {}) {
  const budgetMs = options.budgetMs ?? Number(process.env.BENCH_BUDGET_MS ?? 4000);
  const dir = benchDir('append');
  try {
    const fsyncs = fdatasyncPerSecond(dir);
    const rows: Row[] = [];
    for (const mode of ['FULL', 'NORMAL'] as const) {
      rows.push(
        await measure(mode, { name: 'single', eventsPerOp: 1 }, dir, budgetMs, mode === 'FULL' ? 20 : 500),
      );
      rows.push(
        await measure(
          mode,
          { name: 'batch100', eventsPerOp: BATCH },
          dir,
          budgetMs,
          mode === 'FULL' ? 10 : 50,
        ),
      );
    }
    const full = rows.find((r) => r.mode === 'FULL' && r.shape === 'single')!;
    const concurrent = await durableConcurrent(dir, budgetMs, 16);
    const result = {
      name: 'append',
      ...environment(),
      aim: 'ratio >= 0.8 of raw better-sqlite3 inserts (same row shape, same pragmas)',
      fdatasyncPerSec: fsyncs,
      durable: {
        what: "one-event appends/s with synchronous=FULL vs this disk's fdatasync/s",
        appendsPerSec: full.ours.opsPerSec,
        fdatasyncPerSec: fsyncs,
        ratio: round(full.ours.opsPerSec / fsyncs, 3),
        aim: '>= 0.5',
        concurrent: {
          what: '16 appenders at once on their own streams, FULL: appends/s vs fdatasync/s (group commit shares fsyncs)',
          appendsPerSec: concurrent.eventsPerSec,
          ratio: round(concurrent.eventsPerSec / fsyncs, 3),
        },
      },
      results: rows,
    };
    print(result.fdatasyncPerSec, rows, result.durable.ratio);
    console.log(
      `durable, 16 concurrent appenders: ${concurrent.eventsPerSec} appends/s ÷ fdatasync/s = ${result.durable.concurrent.ratio}`,
    );
    const file = writeResult('append', result);
    console.log(`written ${file}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(fsyncs: number, rows: readonly Row[], durableRatio: number): void {
  console.log(`\nappend benchmark (node ${process.version}); this disk: ${fsyncs} fdatasync/s`);
  console.log('mode    shape     ours events/s  p50 ms   p99 ms   | raw events/s  p50 ms   p99 ms   | ratio');
  for (const r of rows) {
    const f = (x: Figures) =>
      `${String(x.eventsPerSec).padStart(13)}  ${x.p50Ms.toFixed(3).padStart(7)}  ${x.p99Ms.toFixed(3).padStart(7)}`;
    console.log(
      `${r.mode.padEnd(7)} ${r.shape.padEnd(9)} ${f(r.ours)}  | ${f(r.baseline)} | ${r.ratio.toFixed(3)}`,
    );
  }
  console.log(`durable: FULL one-event appends/s ÷ fdatasync/s = ${durableRatio}`);
}

if (require.main === module) {
  runAppendBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
