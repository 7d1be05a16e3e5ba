/**
 * An appender in its own process, for the durability test: the test SIGKILLs it mid-load.
 * Usage: node -r tsx/cjs appender-child.ts <events.sqlite> <writers>
 * Appends invented one-event appends on `writers` streams at once (synchronous=FULL, the writer
 * thread), and prints `ack <event id> <stream> <revision> <position>` for each append once the
 * store has acknowledged it, until killed.
 */
import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '../src/sqlite/sqlite-event-store';

async function main(): Promise<void> {
  const [filename, writersArg] = process.argv.slice(2);
  if (!filename || !writersArg) throw new Error('usage: <events.sqlite> <writers>');
  const store = new SqliteEventStore({ filename, synchronous: 'FULL' });
  if (!store.hasWriterThread) throw new Error('expected the writer thread');
  const run = randomUUID().slice(0, 8);
  await Promise.all(
    Array.from({ length: Number(writersArg) }, async (_, w) => {
      const stream = `crash-${run}-${w}`;
      for (let revision = 0; ; revision++) {
        const id = randomUUID();
        const result = await store.append(
          stream,
          [
            {
              id,
              type: 'Invented',
              schemaVersion: 1,
              data: { n: revision },
              metadata: { correlationId: id, occurredAt: '2026-12-07T10:00:00.000Z' },
            },
          ],
          { expectedRevision: revision === 0 ? 'no-stream' : revision - 1 },
        );
        process.stdout.write(`ack ${id} ${stream} ${result.revision} ${result.position}\n`);
      }
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
