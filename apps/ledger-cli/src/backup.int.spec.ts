import { SqliteEventStore } from '@nrm/event-store';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ErasureRegister } from '@nrm/privacy';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendInvented } from '../../../libs/audit/test/invented-events';
import { RelayStore } from '../../relay/src/relay-store';
import { BackupError, backupDataDir, MANIFEST, readManifest, restoreBackup } from './backup';

describe('ledger backup / restore: what they refuse and what they cannot copy', () => {
  let work: string;
  let dataDir: string;
  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'nrm-backup-'));
    dataDir = join(work, 'data');
    const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
    await appendInvented(store, 120);
    await store.close();
    writeFileSync(join(dataDir, 'id-derivation.secret'), 'x'.repeat(64), { mode: 0o600 });
    writeFileSync(
      join(dataDir, 'erasure-register.jsonl'),
      '{"subjectId":"s-1","erasedAt":"2026-12-01T00:00:00Z"}\n',
    );
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('copies what it can while a relay holds its checkpoint file, says what it skipped, and never the register', async () => {
    // A relay's checkpoint file, then held the way a running relay holds it, from another process.
    new RelayStore(join(dataDir, 'relay.sqlite')).close();
    const relay = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]);
         db.pragma('locking_mode = EXCLUSIVE'); db.pragma('journal_mode = WAL'); db.exec('BEGIN EXCLUSIVE; COMMIT');
         db.prepare('SELECT count(*) FROM relay_checkpoint').get();
         console.log('held'); setInterval(() => undefined, 1000);`,
        join(dataDir, 'relay.sqlite'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let manifest;
    try {
      const [held] = (await once(relay.stdout, 'data')) as [Buffer];
      expect(held.toString().trim()).toBe('held');
      manifest = await backupDataDir(dataDir, join(work, 'backup'));
    } finally {
      relay.kill();
      await once(relay, 'exit');
    }
    const names = manifest.files.map((f) => f.name).sort();
    console.log(
      `backup with a running relay: copied ${names.join(', ')}; skipped ${manifest.skipped.map((s) => s.name).join(', ')}; ` +
        `events head ${manifest.eventsHead}`,
    );
    expect(names).toEqual(['events.sqlite', 'id-derivation.secret']);
    expect(manifest.skipped.map((s) => s.name)).toEqual(['relay.sqlite']);
    expect(manifest.eventsHead).toBe(120);
    expect(existsSync(join(work, 'backup', 'erasure-register.jsonl'))).toBe(false);
    expect(existsSync(join(work, 'backup', 'relay.sqlite'))).toBe(false);
    expect(statSync(join(work, 'backup')).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(join(work, 'backup')))
      expect({ name, mode: statSync(join(work, 'backup', name)).mode & 0o777 }).toEqual({
        name,
        mode: 0o600,
      });
    // Self-contained copies: no WAL or shared-memory file beside them.
    expect(readdirSync(join(work, 'backup')).filter((n) => /-(wal|shm)$/.test(n))).toEqual([]);
  });

  it('refuses a non-empty target, a backup inside DATA_DIR, a damaged or missing file, and leaves nothing half-restored', async () => {
    const backup = join(work, 'backup');
    await backupDataDir(dataDir, backup);
    const register = new ErasureRegister(join(dataDir, 'erasure-register.jsonl'));
    const refusals: string[] = [];
    const refused = async (what: string, attempt: Promise<unknown>, message: RegExp) => {
      await expect(attempt).rejects.toThrow(message);
      await attempt.catch((error: unknown) => expect(error).toBeInstanceOf(BackupError));
      refusals.push(what);
    };
    await refused('backup into a non-empty dir', backupDataDir(dataDir, backup), /is not empty/);
    await refused('backup inside DATA_DIR', backupDataDir(dataDir, join(dataDir, 'b')), /inside DATA_DIR/);
    await refused('backup of a non-ledger dir', backupDataDir(work, join(work, 'b2')), /no events.sqlite/);
    writeFileSync(join(work, 'occupied'), 'x');
    await refused(
      'restore over a file',
      restoreBackup(backup, join(work, 'occupied'), register),
      /is not empty/,
    );
    await refused(
      'restore of a non-backup',
      restoreBackup(dataDir, join(work, 'r1'), register),
      /not a ledger backup/,
    );

    // One byte changed in the events copy: the checksum catches it.
    const events = join(backup, 'events.sqlite');
    const bytes = readFileSync(events);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    writeFileSync(events, bytes);
    await refused(
      'restore of a damaged file',
      restoreBackup(backup, join(work, 'r2'), register),
      /does not match its checksum/,
    );
    rmSync(events);
    await refused(
      'restore with a file missing',
      restoreBackup(backup, join(work, 'r3'), register),
      /missing from the backup/,
    );
    const leftovers = readdirSync(work).filter((n) => n.startsWith('.') || /^r\d$/.test(n));
    console.log(
      `backup/restore refusals: ${refusals.length} (${refusals.join('; ')}); leftovers ${leftovers.length}`,
    );
    expect(leftovers).toEqual([]);
    expect(readManifest(backup).files.length).toBe(2);
    expect(existsSync(join(backup, MANIFEST))).toBe(true);
  });
});
