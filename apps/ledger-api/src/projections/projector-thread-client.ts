import { Worker } from 'node:worker_threads';
import { traceApplied, type ProjectorHealth } from '@nrm/projections';
import { tracingEnabled, type LedgerConfig } from '@nrm/runtime';
import { replayLog, threadEntry, type ThreadLogger } from '../threads/worker-kit';
import type { FromProjectorThread, ProjectorThreadData, ToProjectorThread } from './projector-thread';

interface Waiter {
  readonly position: number;
  readonly projections: readonly string[] | undefined;
  readonly settle: (reached: boolean) => void;
}

/**
 * The embedded projector, run in a worker thread (`projector-thread.ts`; PROJECTOR_THREAD=on, the
 * default): the API's event loop only hears, after each of the thread's commits, the checkpoints
 * it reached, and settles the reads waiting for them. The thread gathers new events for a few
 * milliseconds and applies them in one transaction; a read that has to wait for them tells it to
 * look at once (`wake`), so read-your-writes costs no gathering delay.
 */
export class ProjectorThread {
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private current: ProjectorHealth = { ok: false, state: 'stopped', positions: {} };
  private readonly waiters = new Set<Waiter>();
  private readonly replies = new Map<FromProjectorThread['op'], Array<(m: FromProjectorThread) => void>>();
  private foreignCounter = 0;
  private probeId = 0;
  private probing: Promise<void> | undefined;
  private probeQueued: Promise<void> | undefined;
  /** A `wake` was posted in this turn of the event loop. */
  private wakeSent = false;
  private closed = false;

  constructor(
    private readonly config: LedgerConfig,
    private readonly logger: ThreadLogger,
  ) {}

  /** Starts the thread (once) and the projector in it; resolves once it follows the store. */
  async start(): Promise<void> {
    if (this.closed) throw new Error('the projector thread is closed');
    this.worker ??= this.spawn();
    const answer = await this.ask({ op: 'start' }, ['started', 'startFailed']);
    if (answer.op === 'startFailed') throw new Error(answer.message);
  }

  async stop(): Promise<void> {
    if (!this.worker) return;
    await this.ask({ op: 'stop' }, ['stopped']);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.worker) {
      await this.ask({ op: 'close' }, ['closed']);
      await this.exited;
    }
    this.abandon();
  }

  health(): ProjectorHealth {
    return this.current;
  }

  /** As `Projector.waitFor`: every projection (or every one named) covers `position`. */
  waitFor(position: number, timeoutMs: number, projections?: readonly string[]): Promise<boolean> {
    if (this.covers(position, projections)) return Promise.resolve(true);
    if (this.current.state === 'failed' || this.current.state === 'closed' || this.closed)
      return Promise.resolve(false);
    // The thread gathers new events for a while before it applies them; a waiting read has it look now.
    if (!this.wakeSent) {
      this.wakeSent = true;
      this.post({ op: 'wake' });
      setImmediate(() => {
        this.wakeSent = false; // one wake for the reads of one turn of the loop
      });
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        projections,
        settle: (reached) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(reached);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), Math.max(0, timeoutMs));
      this.waiters.add(waiter);
    });
  }

  /** The projector's last reported foreign-write counter (SQLite's data_version on its connection). */
  foreignWrites(): number {
    return this.foreignCounter;
  }

  /**
   * Has the thread read its foreign-write counter after this call: callers that come while a probe
   * is in flight share the next one, posted once that one is answered.
   */
  probe(): Promise<void> {
    if (this.probeQueued) return this.probeQueued;
    if (!this.probing) return this.probeNow();
    this.probeQueued = this.probing.then(() => {
      this.probeQueued = undefined;
      return this.probeNow();
    });
    return this.probeQueued;
  }

  private probeNow(): Promise<void> {
    const probing = (async () => {
      if (!this.worker) return;
      await this.ask({ op: 'probe', id: ++this.probeId }, ['probed']);
    })().finally(() => {
      if (this.probing === probing) this.probing = undefined;
    });
    this.probing = probing;
    return probing;
  }

  private covers(position: number, projections: readonly string[] | undefined): boolean {
    const positions = this.current.positions;
    const names = projections ?? Object.keys(positions);
    if (names.length === 0) return false;
    for (const name of names) if ((positions[name] ?? 0) < position) return false;
    return true;
  }

  private spawn(): Worker {
    const entry = threadEntry(__dirname, 'projector-thread');
    const data: ProjectorThreadData = { config: { ...this.config }, traced: tracingEnabled() };
    const worker = new Worker(entry.file, {
      workerData: data,
      ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
    });
    worker.on('message', (message: FromProjectorThread) => this.receive(message));
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => resolve());
    });
    worker.on('error', (error) => {
      this.logger.error({ err: error.message }, 'projector thread failed');
    });
    worker.once('exit', (code) => {
      this.worker = undefined;
      // Anyone waiting for an answer from it gets none.
      const pending = [...this.replies.values()].flat();
      this.replies.clear();
      for (const handler of pending) handler({ op: 'startFailed', message: 'the projector thread exited' });
      if (this.closed) return;
      this.current = {
        ok: false,
        state: 'failed',
        positions: this.current.positions,
        failure: { message: `the projector thread exited (code ${code})` },
      };
      this.abandon();
    });
    return worker;
  }

  private post(message: ToProjectorThread): void {
    this.worker?.postMessage(message);
  }

  /** Posts `message` and resolves with the first of the expected answers. */
  private ask(
    message: ToProjectorThread,
    answers: FromProjectorThread['op'][],
  ): Promise<FromProjectorThread> {
    return new Promise((resolve) => {
      let done = false;
      const handler = (m: FromProjectorThread): void => {
        if (done) return;
        done = true;
        for (const op of answers) {
          const list = this.replies.get(op);
          if (list) list.splice(list.indexOf(handler), 1);
        }
        resolve(m);
      };
      for (const op of answers) {
        const list = this.replies.get(op) ?? [];
        list.push(handler);
        this.replies.set(op, list);
      }
      this.post(message);
    });
  }

  private receive(message: FromProjectorThread): void {
    switch (message.op) {
      case 'log':
        replayLog(this.logger, message);
        return;
      case 'health':
        this.current = message.health;
        if (message.foreignWrites !== undefined) this.foreignCounter = message.foreignWrites;
        this.settle();
        break;
      case 'applied':
        traceApplied(message.applied, message.startedAt);
        return;
      case 'probed':
        if (message.foreignWrites !== undefined) this.foreignCounter = message.foreignWrites;
        break;
      default:
        break;
    }
    const handlers = this.replies.get(message.op);
    if (handlers && handlers.length > 0) handlers[0]!(message);
  }

  private settle(): void {
    if (this.current.state === 'failed' || this.current.state === 'closed') {
      this.abandon();
      return;
    }
    for (const waiter of [...this.waiters])
      if (this.covers(waiter.position, waiter.projections)) waiter.settle(true);
  }

  private abandon(): void {
    for (const waiter of [...this.waiters]) waiter.settle(false);
  }
}
