import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { SqliteEventStore } from '@nrm/event-store';
import { Projector, SqliteReadModelStore } from '@nrm/projections';
import { SubjectErasedError, SubjectKeyStore } from '@nrm/privacy';
import { SUBJECT_KEYS, PROJECTIONS, loadConfig } from '@nrm/runtime';
import { registerAuditCommands, type ConsoleIo } from '../../apps/ledger-cli/src/audit-commands';
import { registerBackupCommands } from '../../apps/ledger-cli/src/backup-commands';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { GENEROUS_RATE_LIMITS, Ledger, Principal } from './harness';

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** The console (`npm run ledger -- --data-dir <dir> …`), in this process. */
async function ledgerCli(dataDir: string, ...args: string[]): Promise<Run> {
  const result = { code: 0, out: '', err: '' };
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
  const cli = new Command('ledger').option('--data-dir <dir>').exitOverride();
  const dir = () => cli.opts<{ dataDir?: string }>().dataDir;
  registerAuditCommands(cli, dir, io);
  registerBackupCommands(cli, dir, io);
  await cli.parseAsync(['--data-dir', dataDir, ...args], { from: 'user' }).catch(() => undefined);
  return result;
}

const report = () => ({
  indicators: ['debt-bondage'],
  exploitationForms: ['labour'],
  minor: false,
  region: 'NL-ZH',
  identity: { fullName: `Invented ${randomUUID().slice(0, 8)}`, birthDate: '1999-04-01', nationality: 'MD' },
});

/** Every row of every table of a read-model file, but the projections' own bookkeeping, in a stable order. */
function tables(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const names = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    const out: Record<string, unknown[]> = {};
    for (const name of names) {
      const rows = db
        .prepare(`SELECT * FROM "${name}"`)
        .all()
        .map((row) => JSON.stringify(row));
      out[name] = rows.sort();
    }
    return out;
  } finally {
    db.close();
  }
}

/** Brings a read-model file up to the store's head with the ledger's projections. */
async function project(eventsFile: string, readModelFile: string): Promise<number> {
  const store = new SqliteEventStore({ filename: eventsFile });
  const readModels = new SqliteReadModelStore(readModelFile);
  const projector = new Projector({ store, readModels, projections: PROJECTIONS });
  try {
    const head = await store.headPosition();
    await projector.start();
    if (!(await projector.waitFor(head, 60_000))) throw new Error('the projector did not reach the head');
    return head;
  } finally {
    await projector.close();
    await readModels.close();
    await store.close();
  }
}

describe('backup and restore of the embedded ledger: a drill under write load (e2e)', () => {
  const work = mkdtempSync(join(tmpdir(), 'nrm-drill-'));
  let ledger: Ledger;
  let clinic: Principal;
  let oversight: Principal;

  beforeAll(async () => {
    ledger = await Ledger.boot({ AUDIT_CHECKPOINT_EVERY: '25', AUDIT_CHECKPOINT_INTERVAL_SECONDS: '1' });
    clinic = await ledger.principal('health', ['caseworker']);
    oversight = await ledger.principal('oversight-body', ['oversight']);
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('restores a consistent copy taken under load: the log verifies against the last checkpoint before it, read models equal a rebuild, no erased key comes back', async () => {
    const reportCase = async (): Promise<{ caseId: string; subjectId: string }> => {
      const answer = await clinic.post<{ caseId: string; subjectId: string }>('/cases', report(), {
        'idempotency-key': randomUUID(),
      });
      if (answer.status !== 201) throw new Error(`report answered ${answer.status}`);
      return answer.body;
    };
    const erase = async (subjectId: string) => {
      const answer = await oversight.post(`/subjects/${subjectId}/erasure`, {
        ground: 'subject-request',
        reference: 'DRILL-1',
      });
      expect(answer.status).toBe(200);
    };
    const seeded = [];
    for (let i = 0; i < 60; i++) seeded.push(await reportCase());
    const erasedBefore = seeded[0]!.subjectId;
    const erasedAfter = seeded[1]!.subjectId;
    const kept = seeded[2]!.subjectId;
    await erase(erasedBefore);

    // Write load: two writers reporting cases (each also reads: the audit of reads appends too).
    let stop = false;
    let written = 0;
    const writer = async () => {
      while (!stop) {
        await reportCase();
        written++;
        await clinic.get('/cases');
      }
    };
    const writers = [writer(), writer()];
    while (written < 40) await new Promise((resolve) => setTimeout(resolve, 20));

    // The last checkpoint the ledger signed before the backup, and its key, as an outside party keeps them.
    const trusted = await clinic.get('/audit/checkpoints/latest');
    expect(trusted.status).toBe(200);
    writeFileSync(join(work, 'trusted.json'), JSON.stringify(trusted.body));
    const publicKey = await clinic.get<{ publicKeyPem: string }>('/audit/public-key');
    writeFileSync(join(work, 'log.pub'), publicKey.body.publicKeyPem);

    const backupDir = join(work, 'backup');
    const writtenBefore = written;
    const started = Date.now();
    const backup = await ledgerCli(ledger.dataDir, 'backup', backupDir);
    const backupMs = Date.now() - started;
    const writtenDuring = written - writtenBefore;
    expect(backup.err).toBe('');
    expect(backup.code).toBe(0);
    const made = JSON.parse(backup.out) as {
      files: number;
      bytes: number;
      eventsHead: number;
      auditTreeSize: number;
      auditCheckpointTreeSize: number;
    };

    // After the backup: more writes, and an erasure the backup knows nothing of.
    // Read without writing: the backup's files must stay as its manifest says.
    const backupKeys = new Database(join(backupDir, 'keys.sqlite'), { readonly: true });
    const row = backupKeys.prepare('SELECT key FROM subject_keys WHERE subject_id = ?').get(erasedAfter) as
      { key: string } | undefined;
    backupKeys.close();
    const erasedKey = row ? Buffer.from(row.key, 'base64') : undefined;
    expect(erasedKey).toBeDefined(); // the backup holds it: the restore must not bring it back
    await erase(erasedAfter);
    while (written < writtenBefore + writtenDuring + 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    stop = true;
    await Promise.all(writers);
    const liveHead = await ledger.store.headPosition();

    // Restore into a non-empty directory is refused; without a register, too.
    const occupied = join(work, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'something'), 'x');
    const refused = await ledgerCli(ledger.dataDir, 'restore', backupDir, occupied);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/is not empty/);
    const noRegister = await ledgerCli(join(work, 'elsewhere'), 'restore', backupDir, join(work, 'r0'));
    expect(noRegister.code).toBe(2);
    expect(noRegister.err).toMatch(/no erasure register/);
    expect(existsSync(join(work, 'r0'))).toBe(false);

    const restoredDir = join(work, 'restored');
    const restore = await ledgerCli(ledger.dataDir, 'restore', backupDir, restoredDir);
    expect(restore.err).toBe('');
    expect(restore.code).toBe(0);
    const restored = JSON.parse(restore.out) as { erasuresReapplied: number; erasuresInRegister: number };
    expect(restored).toMatchObject({ erasuresInRegister: 2, erasuresReapplied: 1 });

    // No erased key is back: not through the key store, not as bytes anywhere in its file.
    const keys = new SubjectKeyStore(
      new SqliteReadModelStore(join(restoredDir, 'keys.sqlite'), { secureDelete: true, durable: true }),
    );
    const afterRestore = {
      erasedBefore: await keys.existingKey(erasedBefore),
      erasedAfter: await keys.existingKey(erasedAfter),
      kept: await keys.existingKey(kept),
      erased: await keys.erasedSubjects(),
    };
    await keys.close();
    const keyFile = readFileSync(join(restoredDir, 'keys.sqlite'));
    const keyBytesFound =
      keyFile.includes(erasedKey!) || keyFile.includes(Buffer.from(erasedKey!.toString('base64')));
    expect(afterRestore.erasedBefore).toBeUndefined();
    expect(afterRestore.erasedAfter).toBeUndefined();
    expect(afterRestore.kept).toBeDefined();
    expect([...afterRestore.erased].sort()).toEqual([erasedBefore, erasedAfter].sort());
    expect(keyBytesFound).toBe(false);

    // The restored log, caught up to the restored events, verifies against the checkpoint taken before.
    const exported = await ledgerCli(
      restoredDir,
      'export',
      ...['--from', '1', '--out', join(work, 'restored.ndjson')],
      ...['--purpose', 'oversight-review', '--reason', 'DRILL-1'],
    );
    expect(exported.err).toBe('');
    expect(exported.code).toBe(0);
    const verify = await ledgerCli(
      restoredDir,
      'verify',
      ...['--file', join(work, 'restored.ndjson')],
      ...['--checkpoint', join(work, 'trusted.json'), '--public-key', join(work, 'log.pub')],
    );
    expect(verify.err).toBe('');
    expect(verify.code).toBe(0);
    const verdict = JSON.parse(verify.out) as {
      verified: boolean;
      events: number;
      trustedTreeSize: number;
      coversTrustedCheckpoint: boolean;
    };
    expect(verdict.verified).toBe(true);
    expect(verdict.coversTrustedCheckpoint).toBe(true);
    expect(verdict.events).toBeGreaterThanOrEqual(made.eventsHead);

    // The restored read models, caught up, equal a rebuild from the restored events.
    const eventsFile = join(restoredDir, 'events.sqlite');
    const caughtUp = await project(eventsFile, join(restoredDir, 'read-models.sqlite'));
    const rebuiltFile = join(work, 'rebuilt-read-models.sqlite');
    const rebuilt = await project(eventsFile, rebuiltFile);
    expect(caughtUp).toBe(rebuilt);
    const ours = tables(join(restoredDir, 'read-models.sqlite'));
    const theirs = tables(rebuiltFile);
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    let rows = 0;
    for (const name of Object.keys(theirs)) {
      expect({ table: name, rows: ours[name] }).toEqual({ table: name, rows: theirs[name] });
      rows += theirs[name]!.length;
    }

    // The restored ledger starts: no divergence found (every copied file at or behind the events),
    // it takes commands, and the subject erased after the backup reads as erased.
    const app = await createApp(
      loadConfig({
        DATA_DIR: restoredDir,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        AUDIT_INTEGRITY_CHECK_SECONDS: '1',
        ...GENEROUS_RATE_LIMITS,
      }),
    );
    let keyRefused = false;
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const there = new Principal(await app.getUrl(), clinic.agencyId, clinic.principalId, clinic.apiKey);
      const newCase = await there.post('/cases', report(), { 'idempotency-key': randomUUID() });
      expect(newCase.status).toBe(201);
      // The running ledger's key store: the subject erased after the backup gets no key, old or new.
      const subjectKeys = app.get<SubjectKeyStore>(SUBJECT_KEYS);
      keyRefused = await subjectKeys.keyFor(erasedAfter).then(
        () => false,
        (error: unknown) => error instanceof SubjectErasedError,
      );
      expect(await subjectKeys.keyFor(kept)).toEqual(afterRestore.kept);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // one integrity check at least
      const health = await fetch(`${await app.getUrl()}/health`);
      expect(health.status).toBe(200);
    } finally {
      await app.close();
    }
    expect(keyRefused).toBe(true);

    console.log(
      `backup drill: backup ${made.files} files, ${made.bytes} bytes in ${backupMs} ms under load ` +
        `(${writtenDuring} cases reported during it, ${written} in all); events in backup ${made.eventsHead} ` +
        `(audit log ${made.auditTreeSize}, last checkpoint ${made.auditCheckpointTreeSize}; live head ${liveHead}); ` +
        `restored: ${verdict.events} events verified against the checkpoint at ${verdict.trustedTreeSize} taken before; ` +
        `read models ${Object.keys(theirs).length} tables, ${rows} rows equal to a rebuild; ` +
        `erasures re-applied ${restored.erasuresReapplied} of ${restored.erasuresInRegister}, erased key bytes found ${keyBytesFound ? 1 : 0}`,
    );
  });
});
