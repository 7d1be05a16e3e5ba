/**
 * Benchmark the PostgreSQL event store beside the embedded SQLite one (synchronous=FULL, the
 * default), both through the event-store port, in paired rounds that alternate which goes first:
 * one-event appends from one writer, from 16 writers at once, 100-event appends, and catch-up (a
 * subscription reading a stored backlog from the start). Each figure is the median of the
 * per-round ratios PostgreSQL ÷ SQLite.
 *
 * A third side, "pg unordered", inserts the same rows into a table whose positions come from a
 * plain sequence, without the row lock: what the global order costs on PostgreSQL (a reader of
 * that table can skip events, see postgres-ordering.int.spec.ts).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresEventStore, SqliteEventStore, type EventStore, type NewEvent } from '@nrm/event-store';
import { benchDir, environment, inventedEvent, round, summarise, writeResult, type Figures } from './lib';

const URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Math.max(5, Number(process.env.BENCH_ROUNDS ?? 5));
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 600);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 20_000);
const WRITERS = 16;

type SideName = 'sqlite' | 'postgres' | 'pg-unordered';

interface Side {
  readonly name: SideName;
  append(stream: string, events: NewEvent[], expected: number): Promise<number>;
  close(): Promise<void>;
}

function portSide(name: SideName, store: EventStore): Side {
  return {
    name,
    append: async (stream, events, expected) =>
      (
        await store.append(stream, events, {
          expectedRevision: expected === -1 ? 'no-stream' : expected,
        })
      ).revision,
    close: () => store.close(),
  };
}

/** The same rows into a bigserial table in one autocommit statement: no lock, no revision check. */
async function unorderedSide(schema: string): Promise<Side> {
  const pool = new pg.Pool({ connectionString: URL, max: 10, options: `-c search_path=${schema}` });
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await pool.query(`CREATE TABLE events (
    position bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, stream text NOT NULL,
    revision bigint NOT NULL, type text NOT NULL, schema_version integer NOT NULL, data text NOT NULL,
    metadata text NOT NULL, recorded_at timestamptz NOT NULL, UNIQUE (stream, revision))`);
  return {
    name: 'pg-unordered',
    append: async (stream, events, expected) => {
      await pool.query(
        `INSERT INTO events (event_id, stream, revision, type, schema_version, data, metadata, recorded_at)
         SELECT id, $2, $3 + ord, type, 1, data, metadata, now()
         FROM unnest($1::uuid[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(id, type, data, metadata, ord)`,
        [
          events.map((e) => e.id),
          stream,
          expected,
          events.map((e) => e.type),
          events.map((e) => JSON.stringify(e.data)),
          events.map((e) => JSON.stringify(e.metadata)),
        ],
      );
      return expected + events.length;
    },
    close: () => pool.end(),
  };
}

interface Shape {
  readonly name: string;
  readonly writers: number;
  readonly eventsPerOp: number;
}

const SHAPES: readonly Shape[] = [
  { name: 'single', writers: 1, eventsPerOp: 1 },
  { name: `${WRITERS} writers`, writers: WRITERS, eventsPerOp: 1 },
  { name: 'batch100', writers: 1, eventsPerOp: 100 },
];

/** Runs `shape` on `side` for `ms`: each writer appends to streams of its own, one after another. */
async function runFor(side: Side, shape: Shape, ms: number, tag: string): Promise<bigint[]> {
  const samples: bigint[] = [];
  const deadline = Date.now() + ms;
  let seq = 0;
  await Promise.all(
    Array.from({ length: shape.writers }, async (_, w) => {
      const revisions = new Map<string, number>();
      for (let i = 0; Date.now() < deadline; i++) {
        const stream = `${tag}-${w}-${i % 50}`;
        const events = Array.from({ length: shape.eventsPerOp }, () => inventedEvent(seq++));
        const t0 = process.hrtime.bigint();
        revisions.set(stream, await side.append(stream, events, revisions.get(stream) ?? -1));
        samples.push(process.hrtime.bigint() - t0);
      }
    }),
  );
  return samples;
}

/** Events/s of a subscription from the start of a store holding BACKLOG events. */
async function catchUp(store: EventStore): Promise<number> {
  const t0 = process.hrtime.bigint();
  const subscription = store.subscribe({ fromPosition: 'start' });
  let n = 0;
  for await (const e of subscription) {
    n++;
    if (e.position >= BACKLOG) break;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return round(n / seconds);
}

async function fill(store: EventStore): Promise<void> {
  for (let i = 0; i < BACKLOG; i += 500)
    await store.append(
      `backlog-${i}`,
      Array.from({ length: 500 }, (_, j) => inventedEvent(i + j)),
      { expectedRevision: 'no-stream' },
    );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

interface ShapeRow {
  readonly shape: string;
  readonly figures: Record<SideName, Figures>;
  readonly pgVsSqlite: number;
  readonly pgVsUnordered: number;
}

async function dropSchemas(schemas: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.end();
}

export async function runPostgresAppendBenchmark() {
  const dir = benchDir('append-postgres');
  const tag = randomUUID().replace(/-/g, '').slice(0, 10);
  const schemas = [`bench_es_${tag}`, `bench_raw_${tag}`, `bench_cu_${tag}`];
  try {
    const sides: Side[] = [
      portSide('sqlite', new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'FULL' })),
      portSide('postgres', new PostgresEventStore({ connectionString: URL, schema: schemas[0]! })),
      await unorderedSide(schemas[1]!),
    ];
    const rows: ShapeRow[] = [];
    for (const shape of SHAPES) {
      const samples: Record<SideName, bigint[]> = { sqlite: [], postgres: [], 'pg-unordered': [] };
      const ratios: number[] = [];
      const costs: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? sides : [...sides].reverse();
        const perRound: Partial<Record<SideName, number>> = {};
        for (const side of order) {
          const got = await runFor(side, shape, ROUND_MS, `${shape.writers}x${shape.eventsPerOp}-${r}`);
          samples[side.name].push(...got);
          perRound[side.name] = (got.length * shape.eventsPerOp) / (ROUND_MS / 1000);
        }
        ratios.push(perRound.postgres! / perRound.sqlite!);
        costs.push(perRound.postgres! / perRound['pg-unordered']!);
      }
      const figures = {
        sqlite: summarise(samples.sqlite, shape.eventsPerOp),
        postgres: summarise(samples.postgres, shape.eventsPerOp),
        'pg-unordered': summarise(samples['pg-unordered'], shape.eventsPerOp),
      };
      // Throughput from the wall clock of the rounds (writers overlap), latency from the samples.
      for (const name of Object.keys(figures) as SideName[]) {
        const eventsPerSec = round((samples[name].length * shape.eventsPerOp) / ((ROUNDS * ROUND_MS) / 1000));
        figures[name] = {
          ...figures[name],
          eventsPerSec,
          opsPerSec: round(eventsPerSec / shape.eventsPerOp),
        };
      }
      rows.push({
        shape: shape.name,
        figures,
        pgVsSqlite: round(median(ratios), 3),
        pgVsUnordered: round(median(costs), 3),
      });
    }
    await Promise.all(sides.map((s) => s.close()));

    // Catch-up: the same backlog in a fresh store of each kind, read from the start, paired rounds.
    const sqlite = new SqliteEventStore({ filename: join(dir, 'catch-up.sqlite'), synchronous: 'FULL' });
    const postgres = new PostgresEventStore({ connectionString: URL, schema: schemas[2]! });
    await fill(sqlite);
    await fill(postgres);
    const catchUps: Record<'sqlite' | 'postgres', number[]> = { sqlite: [], postgres: [] };
    const catchUpRatios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const pair = r % 2 === 0 ? (['sqlite', 'postgres'] as const) : (['postgres', 'sqlite'] as const);
      const got: Partial<Record<'sqlite' | 'postgres', number>> = {};
      for (const name of pair) got[name] = await catchUp(name === 'sqlite' ? sqlite : postgres);
      catchUps.sqlite.push(got.sqlite!);
      catchUps.postgres.push(got.postgres!);
      catchUpRatios.push(got.postgres! / got.sqlite!);
    }
    await sqlite.close();
    await postgres.close();

    const result = {
      name: 'append-postgres',
      ...environment(),
      what: 'PostgreSQL event store vs embedded SQLite (FULL), through the port; median of per-round ratios',
      rounds: ROUNDS,
      roundMs: ROUND_MS,
      results: rows,
      catchUp: {
        backlog: BACKLOG,
        sqliteEventsPerSec: round(median(catchUps.sqlite)),
        postgresEventsPerSec: round(median(catchUps.postgres)),
        pgVsSqlite: round(median(catchUpRatios), 3),
      },
    };
    print(result);
    console.log(`written ${writeResult('append-postgres', result)}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dropSchemas(schemas);
  }
}

function print(result: {
  results: readonly ShapeRow[];
  catchUp: { backlog: number; sqliteEventsPerSec: number; postgresEventsPerSec: number; pgVsSqlite: number };
  rounds: number;
}): void {
  console.log(`\nPostgreSQL vs SQLite event store (node ${process.version}), ${result.rounds} paired rounds`);
  console.log(
    'shape        sqlite ev/s  p50 ms  p99 ms | postgres ev/s  p50 ms  p99 ms | pg unordered ev/s | pg÷sqlite | pg÷unordered',
  );
  const f = (x: Figures, w: number) =>
    `${String(Math.round(x.eventsPerSec)).padStart(w)}  ${x.p50Ms.toFixed(3).padStart(6)}  ${x.p99Ms.toFixed(3).padStart(6)}`;
  for (const r of result.results)
    console.log(
      `${r.shape.padEnd(12)} ${f(r.figures.sqlite, 11)} | ${f(r.figures.postgres, 13)} | ${String(
        Math.round(r.figures['pg-unordered'].eventsPerSec),
      ).padStart(17)} | ${r.pgVsSqlite.toFixed(3).padStart(9)} | ${r.pgVsUnordered.toFixed(3).padStart(12)}`,
    );
  const c = result.catchUp;
  console.log(
    `catch-up of ${c.backlog} events: sqlite ${c.sqliteEventsPerSec} ev/s, postgres ${c.postgresEventsPerSec} ev/s, pg÷sqlite ${c.pgVsSqlite}`,
  );
}

if (require.main === module) {
  runPostgresAppendBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
