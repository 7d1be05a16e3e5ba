import { Worker } from 'node:worker_threads';
import type { IntegrityFinding, IntegrityStatus, MerkleLogHealth, SignedCheckpoint } from '@nrm/audit';
import type { LedgerConfig } from '@nrm/runtime';
import { ProblemException } from '../http/problem';
import type { AuditAnswers } from './audit-proofs';
import type {
  AuditLogStatus,
  AuditLogThreadData,
  AuditQuestion,
  FromAuditLogThread,
  ToAuditLogThread,
} from './audit-log-thread';
import { replayLog, threadEntry, type ThreadLogger } from '../threads/worker-kit';
import type { CheckpointPageDto, ConsistencyProofDto, InclusionProofDto, PublicKeyDto } from './audit.dto';

/** What the client does with the thread's findings and with the thread's death: the API's append gate. */
export interface AuditLogGate {
  close(finding: IntegrityFinding): void;
  halt(reason: string): void;
}

const NOT_STARTED: AuditLogStatus = {
  integrity: { ok: true, rehash: { passes: 0, cursor: 0 } },
  log: { ok: false, state: 'stopped', role: 'writer', treeSize: 0 },
};

/**
 * The audit log run in a worker thread (`audit-log-thread.ts`; AUDIT_LOG_THREAD=on, the default):
 * hashing each new event into the tree, signing checkpoints, the integrity watch's checks and
 * re-hash, and the proofs all run there. On the API's event loop this client only answers the
 * audit routes by asking the thread (the same `AuditProofs` answers there, problems included),
 * closes the append gate at once on a finding, and keeps the status the thread reports for
 * /health and the metrics. A thread that exits unasked closes the gate (`halt`): appends are
 * refused, /health answers 503 and the audit routes 503, until a restart.
 */
export class AuditLogThread implements AuditAnswers {
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private current: AuditLogStatus = NOT_STARTED;
  private readonly replies = new Map<
    'started' | 'stopped' | 'closed',
    Array<(m: FromAuditLogThread) => void>
  >();
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private closed = false;
  /** Why the thread is gone, once it exited unasked. */
  private death: string | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly config: LedgerConfig,
    private readonly gate: AuditLogGate,
    private readonly logger: ThreadLogger,
  ) {}

  /**
   * Starts the thread (once) and, in it, checks the store against the log and follows the store;
   * resolves once it does, with the finding standing at start, if any (the gate is closed then).
   */
  async start(): Promise<IntegrityFinding | undefined> {
    if (this.closed) throw new Error('the audit log thread is closed');
    this.worker ??= this.spawn();
    const answer = await this.lifecycle({ op: 'start' }, 'started');
    if (answer.op === 'startFailed') {
      // The boot fails with the thread's reason; the thread does not outlive it.
      await this.close().catch(() => undefined);
      throw new Error(answer.message);
    }
    return this.current.integrity.finding;
  }

  async stop(): Promise<void> {
    if (!this.worker) return;
    await this.lifecycle({ op: 'stop' }, 'stopped');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    if (worker) {
      await this.lifecycle({ op: 'close' }, 'closed');
      // Everything it opened is closed: it ends now. Should a connection keep it, it is ended.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
        timer.unref();
      });
      await Promise.race([this.exited, late]);
      clearTimeout(timer);
    }
  }

  /** The watch's status as the thread last reported it (for the gate: /health, the metrics). */
  integrity(): IntegrityStatus {
    return this.current.integrity;
  }

  /** The log's health as the thread last reported it (state, role, tree size, latest checkpoint). */
  health(): MerkleLogHealth {
    return this.current.log;
  }

  publicKey(): Promise<PublicKeyDto> {
    return this.ask('publicKey', []) as Promise<PublicKeyDto>;
  }

  latestCheckpoint(): Promise<SignedCheckpoint> {
    return this.ask('latestCheckpoint', []) as Promise<SignedCheckpoint>;
  }

  submitCosignatures(note: string): Promise<{ treeSize: number; cosignedBy: readonly string[] }> {
    return this.ask('submitCosignatures', [note]) as Promise<{ treeSize: number; cosignedBy: string[] }>;
  }

  checkpoints(query: { cursor?: number; limit?: number }): Promise<CheckpointPageDto> {
    // Only the fields AuditProofs reads: the query DTO is a class instance.
    const plain = {
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
    };
    return this.ask('checkpoints', [plain]) as Promise<CheckpointPageDto>;
  }

  inclusion(position: number, treeSize?: number): Promise<InclusionProofDto> {
    return this.ask(
      'inclusion',
      treeSize === undefined ? [position] : [position, treeSize],
    ) as Promise<InclusionProofDto>;
  }

  consistency(from: number, to?: number): Promise<ConsistencyProofDto> {
    return this.ask('consistency', to === undefined ? [from] : [from, to]) as Promise<ConsistencyProofDto>;
  }

  /** Asks the thread an audit route's question; its problem is thrown as `AuditProofs` threw it. */
  private ask(question: AuditQuestion, args: readonly unknown[]): Promise<unknown> {
    const worker = this.worker;
    if (!worker || this.death !== undefined) return Promise.reject(this.unavailable());
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: ToAuditLogThread = { op: 'ask', id, question, args };
      worker.postMessage(message);
    });
  }

  private unavailable(): ProblemException {
    return new ProblemException({
      status: 503,
      title: 'Audit unavailable',
      code: 'AUDIT.UNAVAILABLE',
      detail: this.death ?? 'The audit log is not running.',
    });
  }

  private spawn(): Worker {
    const entry = threadEntry(__dirname, 'audit-log-thread');
    const data: AuditLogThreadData = { config: { ...this.config } };
    const worker = new Worker(entry.file, {
      workerData: data,
      ...(entry.execArgv ? { execArgv: entry.execArgv } : {}),
    });
    worker.on('message', (message: FromAuditLogThread) => this.receive(message));
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => resolve());
    });
    worker.on('error', (error) => {
      this.lastError = error.message;
      this.logger.error({ err: error.message }, 'audit log thread failed');
    });
    worker.once('exit', (code) => {
      this.worker = undefined;
      const why = `the audit log thread exited (code ${code}${this.lastError ? `: ${this.lastError}` : ''})`;
      // Whoever waits for a lifecycle step hears why; a boot then fails with the thread's error.
      const waiting = [...this.replies.values()].flat();
      this.replies.clear();
      for (const handler of waiting) handler({ op: 'startFailed', message: this.lastError ?? why });
      if (!this.closed) {
        // Never a log that silently stops: the ledger refuses appends and /health answers 503.
        this.death = `${why[0]!.toUpperCase()}${why.slice(1)}`;
        this.logger.error({ code }, `${why}: appends are refused until the ledger restarts`);
        this.gate.halt(this.death);
        this.current = {
          integrity: { ...this.current.integrity, ok: false },
          log: { ...this.current.log, ok: false, state: 'failed', failure: { message: why } },
        };
      }
      for (const { reject } of this.pending.values()) reject(this.unavailable());
      this.pending.clear();
    });
    return worker;
  }

  /** Posts a lifecycle step and resolves with its answer (or `startFailed`). */
  private lifecycle(
    message: ToAuditLogThread,
    done: 'started' | 'stopped' | 'closed',
  ): Promise<FromAuditLogThread> {
    const worker = this.worker;
    if (!worker)
      return Promise.resolve({
        op: 'startFailed',
        message: this.death ?? 'the audit log thread is not running',
      });
    return new Promise((resolve) => {
      const list = this.replies.get(done) ?? [];
      const handler = (m: FromAuditLogThread): void => {
        list.splice(list.indexOf(handler), 1);
        resolve(m);
      };
      list.push(handler);
      this.replies.set(done, list);
      worker.postMessage(message);
    });
  }

  private receive(message: FromAuditLogThread): void {
    switch (message.op) {
      case 'log':
        replayLog(this.logger, message);
        return;
      case 'finding':
        // At once: the next append is refused.
        this.gate.close(message.finding);
        this.current = {
          ...this.current,
          integrity: { ...this.current.integrity, ok: false, finding: message.finding },
        };
        return;
      case 'status':
        this.current = message.status;
        return;
      case 'answer': {
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.problem) waiter.reject(new ProblemException(message.problem));
        else if (message.error !== undefined) waiter.reject(new Error(message.error));
        else waiter.resolve(message.value);
        return;
      }
      case 'started':
        this.current = message.status;
        return this.reply('started', message);
      case 'startFailed':
        return this.reply('started', message);
      case 'stopped':
      case 'closed':
        return this.reply(message.op, message);
    }
  }

  private reply(op: 'started' | 'stopped' | 'closed', message: FromAuditLogThread): void {
    const handlers = this.replies.get(op);
    if (handlers && handlers.length > 0) handlers[0]!(message);
  }
}
