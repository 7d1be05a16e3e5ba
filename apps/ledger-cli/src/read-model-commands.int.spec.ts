import Database from 'better-sqlite3';
import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@nrm/event-store';
import { Projector, SqliteReadModelStore } from '@nrm/projections';
import { PROJECTIONS } from '@nrm/runtime';
import type { ConsoleIo } from './audit-commands';
import { registerReadModelCommands } from './read-model-commands';

async function run(dataDir: string): Promise<{ code: number; out: string; err: string }> {
  const result = { code: -1, out: '', err: '' };
  const io: ConsoleIo = {
    out: (text) => void (result.out += text),
    err: (text) => void (result.err += text),
    setExitCode: (code) => void (result.code = code),
    exitNow: (code) => {
      result.code = code;
      throw new Error(`exit ${code}`);
    },
    progress: false,
  };
  const cli = new Command('ledger').exitOverride();
  registerReadModelCommands(cli, () => dataDir, io);
  await cli.parseAsync(['verify-read-models'], { from: 'user' });
  return result;
}

describe('ledger verify-read-models', () => {
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nrm-cli-rm-'));
    const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite') });
    const at = '2026-03-01T09:00:00.000Z';
    for (let i = 0; i < 3; i++) {
      const caseId = randomUUID();
      await store.append(
        `identification-${caseId}`,
        [
          {
            id: randomUUID(),
            type: 'PotentialVictimReported',
            schemaVersion: 1,
            data: {
              caseId,
              subjectId: randomUUID(),
              reportedByAgencyId: 'clinic',
              reportedByAgencyKind: 'health',
              indicators: ['debt-bondage'],
              exploitationForms: ['labour'],
              minor: false,
              region: 'NL-ZH',
              reportedAt: at,
            },
            metadata: { correlationId: 'cli-test', occurredAt: at },
          },
        ],
        { expectedRevision: 'no-stream' },
      );
    }
    const readModels = new SqliteReadModelStore(join(dir, 'read-models.sqlite'));
    const projector = new Projector({ store, readModels, projections: PROJECTIONS });
    await projector.start();
    expect(await projector.waitFor(await store.headPosition(), 10_000)).toBe(true);
    await projector.close();
    await readModels.close();
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 on read models equal to their rebuild, then 1 naming the table once a row is added', async () => {
    const clean = await run(dir);
    expect(clean).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(clean.out)).toMatchObject({ verified: true, eventsReplayed: 3, divergences: [] });

    const db = new Database(join(dir, 'read-models.sqlite'));
    db.exec(
      `INSERT INTO case_parties (case_id, agency_id, relation, since)
       SELECT case_id, 'police', 'referral-receiver', since FROM case_parties LIMIT 1`,
    );
    db.close();
    const tampered = await run(dir);
    expect(tampered.code).toBe(1);
    expect(tampered.err).toBe(
      'ledger: not verified: the read models diverge from the events: case_parties: 0 missing, 1 unjustified (4 rows, 3 justified)\n',
    );
    expect(JSON.parse(tampered.out)).toMatchObject({
      verified: false,
      divergences: [{ table: 'case_parties', projection: 'case-directory', missing: 0, unjustified: 1 }],
    });
  });

  it('is a usage error (exit 2) where there is no read-model file', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'nrm-cli-rm-empty-'));
    try {
      const result = await run(empty);
      expect(result.code).toBe(2);
      expect(result.err).toBe('ledger: no read-model file to verify\n');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
