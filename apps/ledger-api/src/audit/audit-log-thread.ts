/**
 * The audit log's thread (a worker_thread started by `AuditLogThread`; AUDIT_LOG_THREAD=on, the
 * default): it opens its own connections to the event store, the log's file (and, with
 * AUDIT_LOG_STORE=postgres, the shared log) and the cosignatures' file, and runs there the Merkle
 * log (hashing each new event into the tree, signing checkpoints), its integrity watch and the
 * answers of the audit routes (`AuditProofs`, the same code as on the loop). The API's event loop
 * keeps only the client: it asks for answers, and closes its append gate on a finding.
 *
 * Messages in: `start`, `stop`, `close`, `ask` (an audit route's question). Out:
 * `started`/`startFailed`, `stopped`, `closed`, `answer`, `finding` (at once, before anything
 * else the thread says), `status` (the watch's status and the log's health, when they change,
 * at most once a second) and `log` records for the API's logger.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IntegrityFinding, IntegrityStatus, MerkleLogHealth, MerkleLogLogger } from '@nrm/audit';
import { auditKeys, openCosignatures, type LedgerConfig } from '@nrm/runtime';
import { messageOf, openThreadEventStore, type ThreadLogRecord } from '../threads/worker-kit';
import { ProblemException, type Problem } from '../http/problem';
import { AuditProofs, type AuditAnswers } from './audit-proofs';
import { AuditLogRun, openMerkleLog, openWatch, shareCosigned } from './audit-wiring';

/**
 * How often the thread looks for new events on SQLite (it has no writer of its own to wake it):
 * under load each look hands the log every event appended since, hashed in one transaction.
 */
const BATCH_MS = 100;

export interface AuditLogThreadData {
  readonly config: LedgerConfig;
}

export type AuditQuestion = keyof AuditAnswers;

export type ToAuditLogThread =
  | { readonly op: 'start' }
  | { readonly op: 'stop' }
  | { readonly op: 'close' }
  | {
      readonly op: 'ask';
      readonly id: number;
      readonly question: AuditQuestion;
      readonly args: readonly unknown[];
    };

export interface AuditLogStatus {
  readonly integrity: IntegrityStatus;
  readonly log: MerkleLogHealth;
}

export type FromAuditLogThread =
  | { readonly op: 'started'; readonly status: AuditLogStatus }
  | { readonly op: 'startFailed'; readonly message: string }
  | { readonly op: 'stopped' }
  | { readonly op: 'closed' }
  | { readonly op: 'finding'; readonly finding: IntegrityFinding }
  | { readonly op: 'status'; readonly status: AuditLogStatus }
  | {
      readonly op: 'answer';
      readonly id: number;
      readonly value?: unknown;
      /** The problem `AuditProofs` threw, as it threw it. */
      readonly problem?: Problem;
      /** Anything else it threw: the route answers 500, as on the loop. */
      readonly error?: string;
    }
  | ThreadLogRecord;

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('audit-log-thread runs as a worker thread only');
  const { config } = workerData as AuditLogThreadData;
  const post = (message: FromAuditLogThread): void => port.postMessage(message);
  const logger = (): MerkleLogLogger => ({
    info: (obj, msg) => post({ op: 'log', level: 'info', obj, msg }),
    error: (obj, msg) => post({ op: 'log', level: 'error', obj, msg }),
  });

  // Reads only: the API's writer appends. On SQLite the store is polled every BATCH_MS.
  const store = openThreadEventStore(config, BATCH_MS, (message) =>
    post({ op: 'log', level: 'warn', obj: {}, msg: message }),
  );
  const keys = auditKeys(config);
  const log = openMerkleLog(store, config, keys, logger());
  const watch = openWatch(store, log, config, keys, logger(), (finding) => post({ op: 'finding', finding }));
  const cosignatures = openCosignatures(config);
  const run = new AuditLogRun(log, watch, cosignatures);
  const proofs = new AuditProofs(log, keys, cosignatures, watch, shareCosigned(log, logger()));

  const status = (): AuditLogStatus => ({ integrity: watch.status(), log: log.health() });
  // The status, when it changed, once a second: what /health and the metrics show.
  let reported = '';
  const report = (): void => {
    const now = status();
    const shown = JSON.stringify(now);
    if (shown === reported) return;
    reported = shown;
    post({ op: 'status', status: now });
  };
  let statusTimer: NodeJS.Timeout | undefined;

  /** The question put to the same `AuditProofs` the loop would run. */
  const ask = (question: AuditQuestion, args: readonly unknown[]): unknown => {
    const number = (i: number): number | undefined => args[i] as number | undefined;
    switch (question) {
      case 'publicKey':
        return proofs.publicKey();
      case 'latestCheckpoint':
        return proofs.latestCheckpoint();
      case 'submitCosignatures':
        return proofs.submitCosignatures(args[0] as string);
      case 'checkpoints':
        return proofs.checkpoints(args[0] as { cursor?: number; limit?: number });
      case 'inclusion':
        return proofs.inclusion(number(0)!, number(1));
      case 'consistency':
        return proofs.consistency(number(0)!, number(1));
    }
  };

  const answer = async (id: number, question: AuditQuestion, args: readonly unknown[]): Promise<void> => {
    try {
      post({ op: 'answer', id, value: await ask(question, args) });
    } catch (error) {
      if (error instanceof ProblemException) post({ op: 'answer', id, problem: error.problem });
      else post({ op: 'answer', id, error: messageOf(error) });
    }
  };

  // One lifecycle step at a time, in the order asked; questions are answered as they come.
  let steps: Promise<void> = Promise.resolve();
  const step = (work: () => Promise<void>): void => {
    steps = steps.then(work, work);
  };
  port.on('message', (message: ToAuditLogThread) => {
    switch (message.op) {
      case 'ask':
        void answer(message.id, message.question, message.args);
        return;
      case 'start':
        return step(() =>
          run.start().then(
            () => {
              reported = JSON.stringify(status());
              post({ op: 'started', status: JSON.parse(reported) as AuditLogStatus });
              if (!statusTimer) {
                statusTimer = setInterval(report, 1000);
                statusTimer.unref();
              }
            },
            (error: unknown) => post({ op: 'startFailed', message: messageOf(error) }),
          ),
        );
      case 'stop':
        return step(() => run.stop().finally(() => post({ op: 'stopped' })));
      case 'close':
        return step(async () => {
          if (statusTimer) clearInterval(statusTimer);
          statusTimer = undefined;
          try {
            await run.stop();
            await run.close();
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
