/**
 * The writer thread of the SQLite store (a worker_thread started by SqliteEventStore): it owns
 * the store's write connection, commits each group of appends it is sent in one transaction with
 * the store's synchronous level, and answers the group only once the commit (and so, with FULL,
 * its fsync) has returned. The API's event loop never waits for the disk.
 *
 * Messages in: `{ group }` (a group of appends as one flat array, see `encodeGroup`; one at a time:
 * the store sends the next group when this one is answered) and `{ close: true }`. Out:
 * `{ ready: true, synchronous }` once open, then `{ answer }` (see `encodeAnswer`) or `{ failure }`
 * per group.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { decodeGroup, encodeAnswer, encodeError, SqliteWriter, type EncodedGroup } from './sqlite-writer';

export interface WriterThreadData {
  readonly filename: string;
  readonly synchronous: 'FULL' | 'NORMAL';
  readonly busyTimeoutMs: number;
}

type Inbound = { readonly group: EncodedGroup } | { readonly close: true };

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('sqlite-writer-thread runs as a worker thread only');
  const data = workerData as WriterThreadData;
  let db: Database.Database;
  let writer: SqliteWriter;
  try {
    db = new Database(data.filename);
    // The file is in WAL mode already (the store set it and migrated before starting this thread).
    db.pragma(`synchronous = ${data.synchronous}`);
    db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
    writer = new SqliteWriter(db);
  } catch (error) {
    port.postMessage({ openFailure: encodeError(error) });
    return;
  }
  port.postMessage({ ready: true, synchronous: db.pragma('synchronous', { simple: true }) as number });
  port.on('message', (message: Inbound) => {
    if ('close' in message) {
      db.close();
      port.close();
      return;
    }
    try {
      port.postMessage({ answer: encodeAnswer(writer.commit(decodeGroup(message.group))) });
    } catch (error) {
      port.postMessage({ failure: encodeError(error) });
    }
  });
}

main();
