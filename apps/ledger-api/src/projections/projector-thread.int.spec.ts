import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@nrm/event-store';
import { SqliteReadModelStore } from '@nrm/projections';
import {
  awaitReadModel,
  CASE_DIRECTORY_USED,
  CaseRecords,
  loadConfig,
  readModelFile,
  type LedgerConfig,
  type ReadModel,
} from '@nrm/runtime';
import { IdentificationCommands } from '@nrm/identification';
import { ProjectorThread } from './projector-thread-client';
import type { ThreadLogger } from '../threads/worker-kit';

const quiet: ThreadLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The embedded projector in its worker thread (PROJECTOR_THREAD=on, issue #16 item 2): it follows
 * the API's store from its own connections, the API hears its checkpoints, and a case read waits
 * for the last event of the case directory's types, not for the audit events after it.
 */
describe('ProjectorThread', () => {
  let dir: string;
  let config: LedgerConfig;
  let store: SqliteEventStore;
  let thread: ProjectorThread;
  let readModels: SqliteReadModelStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-pthread-'));
    config = loadConfig({ DATA_DIR: dir });
    store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    thread = new ProjectorThread(config, quiet);
    readModels = new SqliteReadModelStore(readModelFile(config));
  });
  afterEach(async () => {
    await thread.close();
    await readModels.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A case reported by an invented NGO caseworker: case-directory events, through the command handler. */
  async function report(): Promise<{ caseId: string }> {
    return new IdentificationCommands(
      store,
      { competentKinds: ['law-enforcement'] },
      new CaseRecords(store),
    ).report(
      { indicators: ['debt-bondage'], exploitationForms: ['labour'], minor: false, region: 'NL-ZH' } as never,
      {
        actor: { principalId: 'p-ngo-a', agencyId: 'ngo-a', agencyKind: 'ngo', roles: ['caseworker'] },
        now: new Date().toISOString(),
        requestId: `r-${randomUUID()}`,
        fingerprint: 'f',
      },
    );
  }

  function readModel(): ReadModel {
    return {
      store: readModels,
      waitFor: (position, timeoutMs, projections) => thread.waitFor(position, timeoutMs, projections),
      health: () => Promise.resolve({ ok: true, state: 'running', positions: {} }),
    };
  }

  it('projects what the API appends; the API reads it through its own connection', async () => {
    await thread.start();
    const demo = await report();
    await report();
    const head = await store.headPosition();
    expect(await thread.waitFor(head, 10_000)).toBe(true);
    expect(thread.health()).toMatchObject({ ok: true, state: 'running' });
    for (const position of Object.values(thread.health().positions)) expect(position).toBe(head);
    const row = await readModels.get<{ case_id: string }>('SELECT case_id FROM case_docs WHERE case_id = ?', [
      demo.caseId,
    ]);
    expect(row?.case_id).toBe(demo.caseId);
  });

  it('a case read waits for the last case event, not for the audit events appended after it', async () => {
    await thread.start();
    await report();
    const lastCaseEvent = await store.lastPositionOf(CASE_DIRECTORY_USED[0]!.eventTypes!);
    // Events of a type the case directory does not follow (the audit events of reads are such).
    for (let i = 0; i < 3; i++)
      await store.append(
        `other-${randomUUID()}`,
        [
          {
            id: randomUUID(),
            type: 'SomethingTheCaseDirectoryIgnores',
            schemaVersion: 1,
            data: {},
            metadata: { correlationId: randomUUID(), occurredAt: new Date().toISOString() },
          },
        ],
        { expectedRevision: 'no-stream' },
      );
    const head = await store.headPosition();
    expect(head).toBe(lastCaseEvent + 3);
    // The position the read's answer covers: the case directory's, below the head.
    expect(await awaitReadModel(store, readModel(), CASE_DIRECTORY_USED)).toBe(lastCaseEvent);
    // Without saying what it uses, a read waits for every projection to reach the head.
    expect(await awaitReadModel(store, readModel())).toBe(head);
  });

  it('reports a projection that fails as failed, with the projection and the position', async () => {
    await thread.start();
    await report();
    expect(await thread.waitFor(await store.headPosition(), 10_000)).toBe(true);
    // A table taken from under the projection: the next case event cannot be applied.
    const tamper = new Database(readModelFile(config));
    tamper.exec('DROP TABLE case_docs');
    tamper.close();
    await report();
    const position = await store.headPosition();
    expect(await thread.waitFor(position, 10_000)).toBe(false);
    const health = thread.health();
    expect(health).toMatchObject({ ok: false, state: 'failed', failure: { projection: 'case-directory' } });
    expect(typeof health.failure?.position).toBe('number');
  });

  it('reports the foreign-write counter of its own connection, which moves when someone else writes', async () => {
    await thread.start();
    await thread.probe();
    const before = thread.foreignWrites();
    const tamper = new Database(readModelFile(config));
    tamper.exec('CREATE TABLE someone_elses (x INTEGER)');
    tamper.close();
    await thread.probe();
    expect(thread.foreignWrites()).not.toBe(before);
  });
});
