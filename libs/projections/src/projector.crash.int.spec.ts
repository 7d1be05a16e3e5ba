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
import { READ_MODEL_BACKENDS } from '../test/read-model-backends';
import { Projector } from './projector';
import type { ReadModelStore } from './store/read-model-store';

const ROOT = resolve(__dirname, '../../..');
const CHILD = resolve(__dirname, '../test/projector-child.ts');

/** Starts the projector in its own process and resolves once it has subscribed. */
function spawnProjector(storeFile: string, readModelSpec: string, batchSize: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      CHILD,
      storeFile,
      readModelSpec,
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

/** What the killed child left behind, read from its store. */
async function crashState(readModels: ReadModelStore): Promise<{ checkpoint: number; counts: CountRow[] }> {
  let checkpoint = 0;
  try {
    const row = await readModels.get<{ position: number }>(
      "SELECT position FROM projection_checkpoints WHERE name = 'counts'",
    );
    checkpoint = row?.position ?? 0;
  } catch (error) {
    // killed before it created its checkpoint table
    if (!/no such table|does not exist/.test(String(error))) throw error;
  }
  return { checkpoint, counts: await readCounts(readModels) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(READ_MODEL_BACKENDS)('Projector on $name read models, crash safety', (backend) => {
  it('after a SIGKILL at any moment, the data matches its checkpoint and a restart matches a rebuild', async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
    console.log(`crash-safety property (${backend.name}): seed ${seed} (replay with FC_SEED=${seed})`);
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
          const location = backend.location();
          const store = new SqliteEventStore({
            filename: storeFile,
            synchronous: 'NORMAL',
            pollIntervalMs: 10,
          });
          // The child takes about a second to boot (ts-node): store the backlog meanwhile.
          const booting = spawnProjector(storeFile, location.spec, batchSize);
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
            const inspector = location.open();
            const crash = await crashState(inspector);
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
            const restarted = new Projector({
              store,
              readModels: location.open(),
              projections: [countingProjection()],
            });
            const freshLocation = backend.location();
            const fresh = new Projector({
              store,
              readModels: freshLocation.open(),
              projections: [countingProjection()],
            });
            try {
              await restarted.start();
              expect(await restarted.waitFor(head, 10_000)).toBe(true);
              await restarted.stop();
              await fresh.rebuild('counts');
              expect(await readCounts(restarted.readModelStore)).toEqual(
                await readCounts(fresh.readModelStore),
              );
              expect(restarted.position()).toBe(head);
            } finally {
              await restarted.close();
              await fresh.close();
              await freshLocation.dispose();
            }
          } finally {
            const child = await booting.catch(() => undefined);
            if (child) await killed(child);
            await store.close();
            await location.dispose();
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      {
        seed,
        numRuns: Number(
          process.env.FC_RUNS ?? (process.env.NRM_LONG ? 40 : 10) / (backend.name === 'sqlite' ? 1 : 2),
        ),
      },
    );
    console.log(`crash-safety property (${backend.name}): kills landed ${JSON.stringify(landed)}`);
    // The runs must actually have interrupted projection work, not only killed an idle process.
    expect(landed.inCatchUp + landed.live).toBeGreaterThan(0);
  }, 120_000);
});
