import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { SqliteEventStore } from '@nrm/event-store';
import {
  appendMixed,
  collect,
  COUNTED_TYPES,
  countingProjection,
  expectedCounts,
  readCounts,
  type CountRow,
} from '../test/counting-projection';
import { SqliteProjector } from './sqlite-projector';

const ROOT = resolve(__dirname, '../../..');
const CHILD = resolve(__dirname, '../test/projector-child.ts');

/** Starts the projector in its own process and resolves once it has subscribed. */
function spawnProjector(storeFile: string, readModelFile: string, batchSize: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      CHILD,
      storeFile,
      readModelFile,
      String(batchSize),
    ],
    { cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') }, stdio: 'pipe' },
  );
  return new Promise((ready, failed) => {
    let stderr = '';
    const timer = setTimeout(() => failed(new Error(`child not ready in time: ${stderr}`)), 20_000);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('ready')) return;
      clearTimeout(timer);
      ready(child);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      failed(new Error(`child exited (${code}) before ready: ${stderr}`));
    });
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

/** What the killed child left behind, read straight from its file. */
function crashState(readModelFile: string): { checkpoint: number; counts: CountRow[] } {
  const db = new Database(readModelFile);
  try {
    const hasCheckpoints = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'")
      .get();
    const row = hasCheckpoints
      ? db
          .prepare<[], { position: number }>(
            "SELECT position FROM projection_checkpoints WHERE name = 'counts'",
          )
          .get()
      : undefined;
    return { checkpoint: row?.position ?? 0, counts: readCounts(db) };
  } finally {
    db.close();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('SqliteProjector, crash safety', () => {
  it('after a SIGKILL at any moment, the data matches its checkpoint and a restart matches a rebuild', async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    console.log(`crash-safety property: seed ${seed} (replay with FC_SEED=${seed})`);
    const landed = { atZero: 0, inCatchUp: 0, live: 0, caughtUp: 0 };

    await fc.assert(
      fc.asyncProperty(
        fc.record({
          before: fc.integer({ min: 1000, max: 2500 }), // stored before the projector starts: catch-up
          during: fc.integer({ min: 500, max: 1500 }), // appended while it runs: live
          perAppend: fc.integer({ min: 1, max: 20 }),
          batchSize: fc.constantFrom(1, 7, 64, 500),
          killAfterMs: fc.integer({ min: 0, max: 200 }),
        }),
        async ({ before, during, perAppend, batchSize, killAfterMs }) => {
          const dir = mkdtempSync(join(tmpdir(), 'nrm-proj-crash-'));
          const storeFile = join(dir, 'events.sqlite');
          const readModelFile = join(dir, 'read.sqlite');
          const store = new SqliteEventStore({
            filename: storeFile,
            synchronous: 'NORMAL',
            pollIntervalMs: 10,
          });
          // The child takes about a second to boot (ts-node): store the backlog meanwhile.
          const booting = spawnProjector(storeFile, readModelFile, batchSize);
          booting.catch(() => undefined); // awaited below, after the backlog
          try {
            const backlog = await appendMixed(store, before, { perAppend });
            const child = await booting;
            // Paced so that the live phase lasts about as long as the kill window, whatever the append size.
            const appends = Math.ceil(during / perAppend);
            const between =
              appends >= 200
                ? () => new Promise<void>((r) => setImmediate(r))
                : () => sleep(Math.round(200 / appends));
            const writer = appendMixed(store, during, { perAppend, between });
            await sleep(killAfterMs);
            await killed(child);
            const head = await writer;

            // The property: the data covers exactly the events up to the checkpoint, never more, never fewer.
            const crash = crashState(readModelFile);
            const upToCheckpoint = (await collect(store.readAll())).filter(
              (e) => e.position <= crash.checkpoint,
            );
            expect(crash.counts).toEqual(expectedCounts(upToCheckpoint));
            const applied = crash.counts.reduce((sum, row) => sum + row.n, 0);
            expect(applied).toBe(
              upToCheckpoint.filter((e) => COUNTED_TYPES.some((t) => t === e.type)).length,
            );
            if (crash.checkpoint === 0) landed.atZero++;
            else if (crash.checkpoint < backlog) landed.inCatchUp++;
            else if (crash.checkpoint < head) landed.live++;
            else landed.caughtUp++;

            // Restarted to completion, it equals a full rebuild into a fresh database.
            const restarted = new SqliteProjector({
              store,
              filename: readModelFile,
              projections: [countingProjection()],
            });
            const fresh = new SqliteProjector({
              store,
              filename: ':memory:',
              projections: [countingProjection()],
            });
            try {
              await restarted.start();
              expect(await restarted.waitFor(head, 10_000)).toBe(true);
              await restarted.stop();
              await fresh.rebuild('counts');
              expect(readCounts(restarted.db)).toEqual(readCounts(fresh.db));
              expect(restarted.position()).toBe(head);
            } finally {
              await restarted.close();
              await fresh.close();
            }
          } finally {
            const child = await booting.catch(() => undefined);
            if (child) await killed(child);
            await store.close();
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { seed, numRuns: Number(process.env.FC_RUNS ?? 20) },
    );
    console.log(`crash-safety property: kills landed ${JSON.stringify(landed)}`);
    // The runs must actually have interrupted projection work, not only killed an idle process.
    expect(landed.inCatchUp + landed.live).toBeGreaterThan(0);
  }, 120_000);
});
