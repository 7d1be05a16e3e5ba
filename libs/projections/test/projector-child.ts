/**
 * A projector in its own process, for the crash-safety property: the test
 * SIGKILLs it at a random moment. Usage:
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register projector-child.ts <events.sqlite> <sqlite:file|postgres:schema> <batchSize>
 * Prints "ready" once subscribed, then projects until killed.
 */
import { SqliteEventStore } from '@nrm/event-store';
import { Projector } from '../src/projector';
import { countingProjection } from './counting-projection';
import { openSpec } from './read-model-backends';

async function main(): Promise<void> {
  const [storeFile, readModelSpec, batchSize] = process.argv.slice(2);
  if (!storeFile || !readModelSpec || !batchSize)
    throw new Error('usage: <events.sqlite> <sqlite:file|postgres:schema> <batchSize>');
  // The parent appends from another process: poll often so that the kill lands while events flow.
  const store = new SqliteEventStore({ filename: storeFile, pollIntervalMs: 5 });
  const projector = new Projector({
    store,
    readModels: openSpec(readModelSpec),
    projections: [countingProjection()],
    batchSize: Number(batchSize),
  });
  await projector.start();
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
