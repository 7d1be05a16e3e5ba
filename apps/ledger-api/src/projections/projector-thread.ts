/**
 * The embedded projector's thread (a worker_thread started by `ProjectorThread`): it opens its
 * own connections to the event store and the read-model store and runs the projector there, so
 * that applying events (the audit event each read appends, to the access log) and committing the
 * read models' transactions never run on the API's event loop. The API reads the same read-model
 * file through its own connection (WAL: it sees each commit whole) and learns how far the
 * projections have got from the checkpoints this thread reports after each commit.
 *
 * Messages in: `start`, `stop`, `close`, `wake` (a read waits: look at the store now), `probe` (report the
 * foreign-write counter now). Out: `started`/`startFailed`, `stopped`, `closed`, `health` after
 * each commit and change of state, `probed`, `log` records for the API's logger and, when the API
 * exports spans, `applied` (what each commit applied, for the spans `project <type>`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteEventStore } from '@nrm/event-store';
import { Projector, SqliteReadModelStore, type AppliedEvent, type ProjectorHealth } from '@nrm/projections';
import { openReadModelStore, PROJECTIONS, type LedgerConfig } from '@nrm/runtime';
import { messageOf, openThreadEventStore, type ThreadLogRecord } from '../threads/worker-kit';

/** How long new events may gather before the thread applies them, when no read waits for them. */
const BATCH_MS = 25;

export interface ProjectorThreadData {
  readonly config: LedgerConfig;
  /** Whether the API exports spans: the thread then hands it the events each commit applied. */
  readonly traced: boolean;
}

export type ToProjectorThread =
  | { readonly op: 'start' }
  | { readonly op: 'stop' }
  | { readonly op: 'close' }
  | { readonly op: 'wake' }
  | { readonly op: 'probe'; readonly id: number };

export type FromProjectorThread =
  | { readonly op: 'started' }
  | { readonly op: 'startFailed'; readonly message: string }
  | { readonly op: 'stopped' }
  | { readonly op: 'closed' }
  | { readonly op: 'health'; readonly health: ProjectorHealth; readonly foreignWrites?: number }
  | { readonly op: 'probed'; readonly id: number; readonly foreignWrites?: number }
  | { readonly op: 'applied'; readonly applied: readonly AppliedEvent[]; readonly startedAt: number }
  | ThreadLogRecord;

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('projector-thread runs as a worker thread only');
  const { config, traced } = workerData as ProjectorThreadData;
  const post = (message: FromProjectorThread): void => port.postMessage(message);
  const log = (level: 'info' | 'warn' | 'error', obj: object, msg: string): void =>
    post({ op: 'log', level, obj, msg });

  // This thread only reads the events: no writer thread of its own. On SQLite it looks for new
  // events every BATCH_MS, so that under load each transaction applies many of them, and at once
  // when the API says a read is waiting (`wake`).
  const store = openThreadEventStore(config, BATCH_MS, (message) => log('warn', {}, message));
  const readModels = openReadModelStore(config);
  /** SQLite's data_version on the projector's write connection: it moves only when another connection writes. */
  const foreignWrites = (): number | undefined => {
    try {
      return readModels instanceof SqliteReadModelStore ? readModels.foreignWriteCounter() : undefined;
    } catch {
      return undefined; // closing
    }
  };
  const projector = new Projector({
    store,
    readModels,
    projections: PROJECTIONS,
    logger: { info: (obj, msg) => log('info', obj, msg), error: (obj, msg) => log('error', obj, msg) },
    // This thread starts no tracing SDK: the API's thread makes the spans, when it exports any.
    onApplied: traced ? (applied, startedAt) => post({ op: 'applied', applied, startedAt }) : () => undefined,
    onChange: (health) => {
      const counter = foreignWrites();
      post({ op: 'health', health, ...(counter !== undefined ? { foreignWrites: counter } : {}) });
    },
  });

  // A write by someone else is reported within a second even when the projector commits nothing.
  let reported = foreignWrites();
  const probeTimer = setInterval(() => {
    const counter = foreignWrites();
    if (counter === undefined || counter === reported) return;
    reported = counter;
    post({ op: 'health', health: projector.health(), foreignWrites: counter });
  }, 1000);
  probeTimer.unref();

  // One lifecycle step at a time, in the order asked.
  let steps: Promise<void> = Promise.resolve();
  const step = (work: () => Promise<void>): void => {
    steps = steps.then(work, work);
  };
  port.on('message', (message: ToProjectorThread) => {
    switch (message.op) {
      case 'wake':
        if (store instanceof SqliteEventStore) store.wake();
        return;
      case 'probe': {
        const counter = foreignWrites();
        post({ op: 'probed', id: message.id, ...(counter !== undefined ? { foreignWrites: counter } : {}) });
        return;
      }
      case 'start':
        return step(() =>
          projector.start().then(
            () => post({ op: 'started' }),
            (error: unknown) => post({ op: 'startFailed', message: messageOf(error) }),
          ),
        );
      case 'stop':
        return step(() => projector.stop().finally(() => post({ op: 'stopped' })));
      case 'close':
        return step(async () => {
          clearInterval(probeTimer);
          try {
            await projector.close();
            await readModels.close();
            await store.close();
          } finally {
            post({ op: 'closed' });
            port.close();
          }
        });
    }
  });
}

main();
