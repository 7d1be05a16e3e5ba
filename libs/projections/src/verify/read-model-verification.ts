import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { EventStore, RecordedEvent } from '@nrm/event-store';
import type { Projection } from '../projection';
import type { SqlRunner, SqlValue } from '../store/read-model-store';
import { CHECKPOINT_TABLE_DDL, type CheckpointRow } from '../projector';

/**
 * Whether a SQLite read-model file holds exactly what the events justify.
 *
 * The projections' own `setUp` and `apply` rebuild every projection from the event store into a
 * scratch database in memory, each up to the checkpoint the live file records for it; then every
 * table of the rebuild is compared row by row with the live file, in one read snapshot of it (the
 * projector may go on writing meanwhile: events it committed after the rebuild's first pass are
 * applied to the rebuild inside that snapshot before comparing). A row the events do not justify,
 * or a row they justify that is missing, is a divergence; it is reported by table with counts only,
 * never a row's content (read models hold personal data).
 *
 * The live file is only ever read, through a read-only connection; the scratch database is never
 * attached to it, so a projection's unqualified table names can only reach the scratch copy.
 */

export interface TableDivergence {
  readonly table: string;
  /** The projection whose tables these are. */
  readonly projection: string;
  readonly liveRows: number;
  readonly rebuiltRows: number;
  /** Rows the events justify that the live table lacks. */
  readonly missing: number;
  /** Rows in the live table the events do not justify (added or changed). */
  readonly unjustified: number;
  /** Set when the live table is absent or its columns differ: rows were not compared. */
  readonly schema?: 'table-missing' | 'columns-differ';
}

export interface ReadModelVerification {
  /** True when every compared table equals its rebuild. */
  readonly ok: boolean;
  /** Checkpoint of each projection compared: the rebuild covers the events up to it. */
  readonly positions: Readonly<Record<string, number>>;
  /** Projections not compared, and why (never built yet, or built by another version being replaced). */
  readonly skipped: ReadonlyArray<{ readonly projection: string; readonly reason: string }>;
  readonly tables: number;
  readonly rows: number;
  readonly eventsReplayed: number;
  readonly divergences: readonly TableDivergence[];
  readonly seconds: number;
}

export interface ReadModelVerificationOptions {
  readonly store: EventStore;
  /** The live read-model file (`DATA_DIR/read-models.sqlite`). */
  readonly readModelFile: string;
  readonly projections: readonly Projection[];
  /** Events applied per scratch transaction, between which the event loop gets a turn. Default 512. */
  readonly batchSize?: number;
  /** Stops the check at its next turn (ReadModelVerificationError): a ledger shutting down. */
  readonly signal?: AbortSignal;
}

export class ReadModelVerificationError extends Error {}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A synchronous better-sqlite3 connection behind the read-model port's runner shape. */
function scratchRunner(db: Database.Database): SqlRunner {
  const cache = new Map<string, Database.Statement>();
  const prepare = (sql: string): Database.Statement => {
    let statement = cache.get(sql);
    if (!statement) cache.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
  const settle = <T>(call: () => T): Promise<T> => {
    try {
      return Promise.resolve(call());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return {
    dialect: 'sqlite',
    run: (sql, params: readonly SqlValue[] = []) => settle(() => prepare(sql).run(...params).changes),
    get: <T extends object>(sql: string, params: readonly SqlValue[] = []) =>
      settle(() => prepare(sql).get(...params) as T | undefined),
    all: <T extends object>(sql: string, params: readonly SqlValue[] = []) =>
      settle(() => prepare(sql).all(...params) as T[]),
    exec: (sql) =>
      settle(() => {
        db.exec(sql);
        cache.clear();
      }),
  };
}

function liveCheckpoints(live: Database.Database): Map<string, CheckpointRow> {
  const exists = live
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'`)
    .get();
  if (!exists) return new Map();
  const rows = live
    .prepare('SELECT name, version, position FROM projection_checkpoints')
    .all() as CheckpointRow[];
  return new Map(rows.map((row) => [row.name, { ...row, position: Number(row.position) }]));
}

function tablesOf(db: Database.Database): string[] {
  return db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
    .pluck()
    .all() as string[];
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A digest per row (its values in the rebuild's column order), counted: rows are compared as multisets. */
async function rowDigests(
  db: Database.Database,
  table: string,
  columns: readonly string[],
  yieldEvery: number,
  turn: () => Promise<void> = nextTurn,
): Promise<Map<string, number>> {
  const digests = new Map<string, number>();
  const statement = db.prepare(`SELECT ${columns.map(quoted).join(', ')} FROM ${quoted(table)}`).raw();
  let seen = 0;
  // The connection is this check's own: nothing else runs a statement on it while the iterator waits.
  for (const row of statement.iterate()) {
    const digest = createHash('sha256').update(JSON.stringify(row)).digest('base64');
    digests.set(digest, (digests.get(digest) ?? 0) + 1);
    if (++seen % yieldEvery === 0) await turn();
  }
  return digests;
}

/** Rebuilds every projection from the store up to the live file's checkpoints and compares them. */
export async function verifyReadModels(
  options: ReadModelVerificationOptions,
): Promise<ReadModelVerification> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 512;
  const turn = async (): Promise<void> => {
    await nextTurn();
    if (options.signal?.aborted) throw new ReadModelVerificationError('the check was stopped');
  };
  if (!existsSync(options.readModelFile))
    throw new ReadModelVerificationError('no read-model file to verify');
  const live = new Database(options.readModelFile, { readonly: true, fileMustExist: true });
  const scratch = new Database(':memory:');
  const runner = scratchRunner(scratch);
  try {
    live.pragma('busy_timeout = 5000');
    const skipped: Array<{ projection: string; reason: string }> = [];
    /** The projections compared, with the checkpoint the rebuild has reached for each. */
    const reached = new Map<Projection, number>();
    const first = liveCheckpoints(live);
    for (const projection of options.projections) {
      const row = first.get(projection.name);
      if (!row) skipped.push({ projection: projection.name, reason: 'not built yet' });
      else if (Number(row.version) !== projection.version)
        skipped.push({ projection: projection.name, reason: `version ${row.version} awaits its rebuild` });
      else reached.set(projection, 0);
    }
    await runner.exec(CHECKPOINT_TABLE_DDL);
    for (const projection of reached.keys()) await projection.setUp(runner);

    const types = new Map(
      [...reached.keys()].map((p) => [p, p.eventTypes ? new Set(p.eventTypes) : undefined] as const),
    );
    let replayed = 0;
    /** Applies the events after what the rebuild has reached, up to `targets`. */
    const replay = async (targets: ReadonlyMap<Projection, number>, yieldBetween: boolean): Promise<void> => {
      const from = Math.min(...[...reached.values()]);
      const to = Math.max(0, ...targets.values());
      if (to <= from) return;
      let batch: RecordedEvent[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const events = batch;
        batch = [];
        scratch.exec('BEGIN');
        try {
          for (const [projection, at] of reached) {
            const target = targets.get(projection) ?? at;
            const wanted = types.get(projection);
            const mine = events.filter(
              (e) => e.position > at && e.position <= target && (!wanted || wanted.has(e.type)),
            );
            if (mine.length === 0) continue;
            if (projection.applyBatch) await projection.applyBatch(runner, mine);
            else for (const event of mine) await projection.apply(runner, event);
          }
          scratch.exec('COMMIT');
        } catch (error) {
          if (scratch.inTransaction) scratch.exec('ROLLBACK');
          throw error;
        }
        const last = events[events.length - 1]!.position;
        for (const [projection, at] of reached)
          reached.set(projection, Math.max(at, Math.min(last, targets.get(projection) ?? at)));
        replayed += events.length;
        if (yieldBetween) await turn();
      };
      for await (const event of options.store.readAll({
        fromPosition: from === 0 ? 'start' : { after: from },
      })) {
        if (event.position > to) break;
        batch.push(event);
        if (batch.length >= batchSize) await flush();
      }
      await flush();
      // Positions are not dense on every store: what was read covers every target.
      for (const [projection] of reached) reached.set(projection, targets.get(projection) ?? 0);
    };

    const targetsOf = (rows: Map<string, CheckpointRow>): Map<Projection, number> =>
      new Map([...reached.keys()].map((p) => [p, rows.get(p.name)?.position ?? 0]));
    await replay(targetsOf(first), true);

    // One read snapshot of the live file from here to the end of the comparison.
    live.exec('BEGIN');
    try {
      const now = liveCheckpoints(live);
      for (const projection of reached.keys()) {
        const row = now.get(projection.name);
        if (!row || Number(row.version) !== projection.version || row.position < reached.get(projection)!)
          throw new ReadModelVerificationError(
            `the checkpoint of '${projection.name}' moved back while it was verified (a rebuild ran): verify again`,
          );
      }
      // Whatever the projector committed during the first pass: applied inside the snapshot, not yielding.
      await replay(targetsOf(now), false);

      const tableOwners = new Map<string, string>();
      for (const projection of reached.keys()) {
        const blank = new Database(':memory:');
        try {
          await projection.setUp(scratchRunner(blank));
          for (const table of tablesOf(blank)) tableOwners.set(table, projection.name);
        } finally {
          blank.close();
        }
      }
      const liveTables = new Set(tablesOf(live));
      const divergences: TableDivergence[] = [];
      let tables = 0;
      let rows = 0;
      for (const table of tablesOf(scratch)) {
        const projection = tableOwners.get(table);
        if (projection === undefined) continue; // the scratch copy's own checkpoint table
        tables++;
        const columns = (scratch.pragma(`table_info(${quoted(table)})`) as Array<{ name: string }>).map(
          (c) => c.name,
        );
        const rebuilt = await rowDigests(scratch, table, columns, batchSize * 4, turn);
        const rebuiltRows = [...rebuilt.values()].reduce((a, b) => a + b, 0);
        rows += rebuiltRows;
        if (!liveTables.has(table)) {
          divergences.push({
            table,
            projection,
            liveRows: 0,
            rebuiltRows,
            missing: rebuiltRows,
            unjustified: 0,
            schema: 'table-missing',
          });
          continue;
        }
        const liveColumns = new Set(
          (live.pragma(`table_info(${quoted(table)})`) as Array<{ name: string }>).map((c) => c.name),
        );
        const liveRows = Number(
          live
            .prepare(`SELECT count(*) FROM ${quoted(table)}`)
            .pluck()
            .get(),
        );
        if (liveColumns.size !== columns.length || columns.some((c) => !liveColumns.has(c))) {
          divergences.push({
            table,
            projection,
            liveRows,
            rebuiltRows,
            missing: 0,
            unjustified: 0,
            schema: 'columns-differ',
          });
          continue;
        }
        const theirs = await rowDigests(live, table, columns, batchSize * 4, turn);
        let missing = 0;
        let unjustified = 0;
        for (const [digest, count] of rebuilt) missing += Math.max(0, count - (theirs.get(digest) ?? 0));
        for (const [digest, count] of theirs) unjustified += Math.max(0, count - (rebuilt.get(digest) ?? 0));
        if (missing > 0 || unjustified > 0)
          divergences.push({ table, projection, liveRows, rebuiltRows, missing, unjustified });
      }
      return {
        ok: divergences.length === 0,
        positions: Object.fromEntries([...reached].map(([p, at]) => [p.name, at])),
        skipped,
        tables,
        rows,
        eventsReplayed: replayed,
        divergences,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      if (live.inTransaction) live.exec('COMMIT');
    }
  } finally {
    scratch.close();
    live.close();
  }
}

/** One line per diverged table, counts only: for logs, health and the CLI. */
export function describeDivergences(divergences: readonly TableDivergence[]): string {
  return divergences
    .map((d) =>
      d.schema
        ? `${d.table}: ${d.schema}`
        : `${d.table}: ${d.missing} missing, ${d.unjustified} unjustified (${d.liveRows} rows, ${d.rebuiltRows} justified)`,
    )
    .join('; ');
}
