import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { SqliteEventStore } from '@nrm/event-store';
import { auditKeys, auditLogFile, loadConfig, openCosignatures, type LedgerConfig } from '@nrm/runtime';
import { appendInvented } from '../../../../libs/audit/test/invented-events';
import { AppendGate } from '../event-store/append-gate';
import { ProblemException } from '../http/problem';
import { AuditLogThread } from './audit-log-thread-client';
import type { ThreadLogger } from '../threads/worker-kit';
import { AuditProofs, type AuditAnswers } from './audit-proofs';
import { openMerkleLog, openWatch } from './audit-wiring';

const quiet: ThreadLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };
const quietLog = { info: () => undefined, error: () => undefined };

async function until(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`waited in vain for ${what}`);
}

/** An answer, or the problem it was refused with (status, code, field, detail). */
async function outcome(call: () => unknown): Promise<unknown> {
  try {
    return { answer: await call() };
  } catch (error) {
    if (!(error instanceof ProblemException)) throw error;
    return { problem: error.problem };
  }
}

/**
 * The audit log in its worker thread (AUDIT_LOG_THREAD=on, issue #16 item 2): it follows the API's
 * store from its own connections and answers the audit routes as the log on the loop does; a
 * finding closes the API's append gate; a thread that dies closes it too, and says so.
 */
describe('AuditLogThread', () => {
  let dir: string;
  let config: LedgerConfig;
  let store: SqliteEventStore;
  let gate: AppendGate;
  let thread: AuditLogThread;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-athread-'));
    config = loadConfig({
      DATA_DIR: dir,
      AUDIT_CHECKPOINT_EVERY: '7',
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1',
      AUDIT_INTEGRITY_CHECK_SECONDS: '1',
      AUDIT_REHASH_EVENTS_PER_SECOND: '100000',
      AUDIT_REHASH_PAUSE_SECONDS: '1',
    });
    store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    gate = new AppendGate();
    thread = new AuditLogThread(config, gate, quiet);
    gate.attach(() => thread.integrity());
  });
  afterEach(async () => {
    await thread.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The thread's log holds the store's head in a signed checkpoint. */
  async function signedHead(): Promise<number> {
    const head = await store.headPosition();
    await until(
      async () =>
        ((await outcome(() => thread.latestCheckpoint())) as { answer?: { treeSize: number } }).answer
          ?.treeSize === head,
      `a checkpoint of ${head} events`,
    );
    return head;
  }

  /** Every audit route's answer (or problem) over a log of `head` events. */
  async function everyAnswer(proofs: AuditAnswers, head: number): Promise<unknown[]> {
    const answers: unknown[] = [
      await outcome(() => proofs.publicKey()),
      await outcome(() => proofs.latestCheckpoint()),
      await outcome(() => proofs.checkpoints({})),
      await outcome(() => proofs.checkpoints({ cursor: 7, limit: 2 })),
      await outcome(() => proofs.inclusion(head + 1)),
      await outcome(() => proofs.consistency(5, 3)),
      await outcome(() => proofs.consistency(1, head + 1)),
      await outcome(() => proofs.submitCosignatures('not a note')),
    ];
    for (let position = 1; position <= head; position++)
      answers.push(await outcome(() => proofs.inclusion(position, position === head ? undefined : head)));
    for (let size = 1; size <= head; size += 3) answers.push(await outcome(() => proofs.consistency(size)));
    return answers;
  }

  it('answers every audit route as the log on the loop does, over the same files', async () => {
    await appendInvented(store, 30);
    expect(await thread.start()).toBeUndefined();
    await appendInvented(store, 12);
    const head = await signedHead();
    expect(thread.health()).toMatchObject({ role: 'writer' });
    const inThread = await everyAnswer(thread, head);
    await thread.close();

    // The log on the loop (AUDIT_LOG_THREAD=off), opened over the files the thread kept.
    const keys = auditKeys(config);
    const log = openMerkleLog(store, config, keys, quietLog);
    const watch = openWatch(store, log, config, keys, quietLog, (finding) => gate.close(finding));
    const cosignatures = openCosignatures(config);
    try {
      const onLoop = await everyAnswer(new AuditProofs(log, keys, cosignatures, watch), head);
      expect(inThread).toEqual(onLoop);
      expect(inThread.filter((a) => 'answer' in (a as object)).length).toBeGreaterThan(head);
    } finally {
      await watch.close();
      await log.close();
      cosignatures.close();
    }
    expect(gate.finding).toBeUndefined();
  });

  it('closes the append gate on a finding: a leaf of audit.sqlite changed behind its back', async () => {
    await appendInvented(store, 20);
    await thread.start();
    await signedHead();
    expect(() => gate.check()).not.toThrow();

    const raw = new Database(auditLogFile(config));
    raw.exec('DROP TRIGGER IF EXISTS merkle_nodes_are_immutable_update');
    raw.prepare('UPDATE merkle_nodes SET hash = ? WHERE level = 0 AND idx = 11').run(Buffer.alloc(32, 7));
    raw.close();

    await until(() => gate.finding !== undefined, 'the finding to close the gate');
    expect(gate.finding).toMatchObject({ kind: 'changed', position: 12 });
    expect(thread.integrity()).toMatchObject({ ok: false, finding: { kind: 'changed', position: 12 } });
    expect(() => gate.check()).toThrow(ProblemException);
    // The proofs are withheld too, as on the loop.
    expect(await outcome(() => thread.inclusion(12))).toMatchObject({
      problem: { status: 503, code: 'AUDIT.INTEGRITY_HALT' },
    });
  });

  it('a thread that dies fails loudly: gate closed, routes 503, health failed', async () => {
    await appendInvented(store, 10);
    await thread.start();
    await signedHead();
    const worker = (thread as unknown as { worker: Worker }).worker;
    await worker.terminate();

    await until(() => gate.halted !== undefined, 'the gate to close');
    expect(gate.halted).toMatch(/^The audit log thread exited \(code 1\)/);
    let refused: unknown;
    try {
      gate.check();
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ProblemException);
    expect((refused as ProblemException).problem).toMatchObject({ status: 503, code: 'AUDIT.UNAVAILABLE' });
    expect(await outcome(() => thread.latestCheckpoint())).toMatchObject({
      problem: { status: 503, code: 'AUDIT.UNAVAILABLE' },
    });
    expect(thread.health()).toMatchObject({ ok: false, state: 'failed' });
    expect(thread.integrity().ok).toBe(false);
  });
});
