/**
 * `ledger backup <dir>` and `ledger restore <backup> <new-data-dir>`: an online, consistent copy of
 * every file the embedded ledger keeps in DATA_DIR, and its return into a new directory.
 *
 * Each SQLite file is copied with SQLite's online backup API (better-sqlite3 `.backup()`, all
 * pages in one step: a consistent snapshot of that file while the ledger keeps writing; WAL lets
 * the writers go on). Across files, the order makes the copy consistent with the events:
 *
 *   1. the files that only follow the events (audit log cosignatures, audit log, read models,
 *      the relay's checkpoint, agencies' inboxes), each copied BEFORE the events, so that each is
 *      at or behind the copied events: on restore the ledger catches them up (the audit log appends
 *      the missing leaves, the projector the missing events, the relay re-sends at most what it
 *      had not yet recorded). A copy ahead of the events (a leaf or a checkpoint for an event the
 *      backup lacks) would be a divergence the integrity watch halts on.
 *   2. the events (`events.sqlite`): the record.
 *   3. the subjects' keys AFTER the events: a key is made before the first event sealed with it,
 *      so every event in the copy finds its key in the copy.
 *
 * Other files (the signing key, the id-derivation secret) are copied as they are. The erasure
 * register is never copied: it must stay current, apart from the backups, so that `restore`
 * re-applies every erasure made after the backup was taken.
 */
import Database from 'better-sqlite3';
import { SqliteReadModelStore } from '@nrm/projections';
import { ErasureRegister, SubjectKeyStore } from '@nrm/privacy';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ERASURE_REGISTER_NAME } from '@nrm/runtime';

export const BACKUP_FORMAT = 'nrm-ledger-backup/1';
export const MANIFEST = 'manifest.json';

export interface BackedUpFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
  /** `sqlite`: SQLite's online backup; `copy`: the file as it is. */
  readonly method: 'sqlite' | 'copy';
}

export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  /** The position of the last event in the copy (every other copied file is at or behind it). */
  readonly eventsHead: number;
  /** The audit log's size in the copy, and its latest signed checkpoint's. */
  readonly auditTreeSize: number;
  readonly auditCheckpointTreeSize: number;
  readonly files: readonly BackedUpFile[];
  /** Files not copied, and why (e.g. a relay holding its checkpoint file exclusively while it runs). */
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

export class BackupError extends Error {}

const SQLITE = /\.sqlite$/;
/** SQLite's companions of a database file: part of it while open, never copied on their own. */
const COMPANION = /-(wal|shm|journal)$/;

/** Where a file goes in the copy order (lower first); see the module's comment. */
function rank(name: string): number {
  if (!SQLITE.test(name)) return 0;
  if (name === 'audit-cosignatures.sqlite') return 1;
  if (name === 'audit.sqlite') return 2;
  if (name === 'events.sqlite') return 8;
  if (name === 'keys.sqlite') return 9;
  return 5; // read models, relay checkpoints, inboxes: all follow the events
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function emptyOrMissing(dir: string): boolean {
  return !existsSync(dir) || (statSync(dir).isDirectory() && readdirSync(dir).length === 0);
}

/**
 * Copies one SQLite database online into `target`, then makes the copy a self-contained file
 * (rollback journal instead of WAL) and checks it. Returns undefined when the file is held
 * exclusively by another process.
 */
async function copyDatabase(source: string, target: string): Promise<'copied' | 'busy'> {
  let db: Database.Database;
  try {
    // Read-write, though it only reads: a read-only connection cannot open a WAL file whose -shm is gone.
    db = new Database(source, { fileMustExist: true, timeout: 2000 });
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return 'busy';
    throw error;
  }
  try {
    // A file another process holds exclusively answers BUSY here; the backup API would instead
    // finish at once having copied nothing.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    // All remaining pages in one step: one read transaction, so one consistent snapshot.
    await db.backup(target, { progress: () => 0x7fffffff });
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return 'busy';
    throw error;
  } finally {
    db.close();
  }
  if (!existsSync(target) || statSync(target).size === 0)
    throw new BackupError(`the copy of ${basename(source)} came out empty: try again`);
  const copy = new Database(target, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new BackupError(`the copy of ${basename(source)} fails SQLite's check: ${String(check)}`);
  } finally {
    copy.close();
  }
  return 'copied';
}

/** A number from a SQLite file of the copy, 0 when the file or table is absent. */
function scalar(file: string, sql: string): number {
  if (!existsSync(file)) return 0;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare(sql).pluck().get() as number | null) ?? 0);
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

/** Backs up `dataDir` into `target` (missing or empty), while the ledger runs. */
export async function backupDataDir(dataDir: string, target: string): Promise<BackupManifest> {
  const source = resolve(dataDir);
  const out = resolve(target);
  if (!existsSync(join(source, 'events.sqlite')))
    throw new BackupError(`${source} holds no events.sqlite: not the DATA_DIR of an embedded ledger`);
  if (!emptyOrMissing(out)) throw new BackupError(`${out} is not empty: back up into a new directory`);
  if (out === source || out.startsWith(`${source}/`))
    throw new BackupError('the backup must not be inside DATA_DIR');
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  await mkdir(out, { recursive: true, mode: 0o700 });
  await chmod(out, 0o700);
  const names = (await readdir(source, { withFileTypes: true }))
    .filter((e) => e.isFile() && !COMPANION.test(e.name) && e.name !== ERASURE_REGISTER_NAME)
    .map((e) => e.name)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const files: BackedUpFile[] = [];
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const name of names) {
    const from = join(source, name);
    const to = join(out, name);
    let method: BackedUpFile['method'] = 'copy';
    if (SQLITE.test(name)) {
      method = 'sqlite';
      if ((await copyDatabase(from, to)) === 'busy') {
        if (name === 'events.sqlite' || name === 'keys.sqlite')
          throw new BackupError(`${name} is locked by another process: try again`);
        skipped.push({
          name,
          reason: 'held exclusively by a running process (a relay): restored without it',
        });
        await rm(to, { force: true });
        continue;
      }
    } else await copyFile(from, to);
    await chmod(to, 0o600);
    files.push({ name, bytes: statSync(to).size, sha256: await sha256(to), method });
  }
  const finished = Date.now();
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    startedAt,
    finishedAt: new Date(finished).toISOString(),
    seconds: (finished - started) / 1000,
    eventsHead: scalar(join(out, 'events.sqlite'), 'SELECT max(position) FROM events'),
    auditTreeSize: scalar(join(out, 'audit.sqlite'), 'SELECT count(*) FROM merkle_nodes WHERE level = 0'),
    auditCheckpointTreeSize: scalar(join(out, 'audit.sqlite'), 'SELECT max(tree_size) FROM checkpoints'),
    files,
    skipped,
  };
  await writeFile(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  return manifest;
}

export interface RestoreResult {
  readonly target: string;
  readonly files: number;
  readonly bytes: number;
  readonly eventsHead: number;
  /** Erasures in the register that the backup's key store did not hold: their keys destroyed now. */
  readonly erasuresReapplied: number;
  readonly erasuresInRegister: number;
}

/** Reads and checks a backup's manifest. */
export function readManifest(backup: string): BackupManifest {
  const file = join(resolve(backup), MANIFEST);
  if (!existsSync(file))
    throw new BackupError(`${resolve(backup)} holds no ${MANIFEST}: not a ledger backup`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown };
  if (manifest.format !== BACKUP_FORMAT)
    throw new BackupError(`${file}: format ${JSON.stringify(manifest.format)}, expected ${BACKUP_FORMAT}`);
  return manifest as BackupManifest;
}

/**
 * Restores `backup` into `target` (missing or empty): checks every file against the manifest,
 * copies them into a directory beside the target, re-applies the erasure register to the copied
 * key store (a key erased after the backup is destroyed before the ledger can open it), then
 * renames the directory into place. `register` undefined: the caller vouches that no erasure
 * register exists (no subject was ever erased).
 */
export async function restoreBackup(
  backup: string,
  target: string,
  register: ErasureRegister | undefined,
): Promise<RestoreResult> {
  const from = resolve(backup);
  const out = resolve(target);
  const manifest = readManifest(from);
  if (!emptyOrMissing(out)) throw new BackupError(`${out} is not empty: restore into a new directory`);
  const staging = join(dirname(out), `.${basename(out)}.restoring-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    let bytes = 0;
    for (const file of manifest.files) {
      if (basename(file.name) !== file.name)
        throw new BackupError(`${MANIFEST} names ${file.name}: not a file name`);
      const source = join(from, file.name);
      if (!existsSync(source)) throw new BackupError(`${file.name} is missing from the backup`);
      const to = join(staging, file.name);
      await copyFile(source, to);
      await chmod(to, 0o600);
      if ((await sha256(to)) !== file.sha256)
        throw new BackupError(
          `${file.name} does not match its checksum in ${MANIFEST}: the backup is damaged`,
        );
      bytes += file.bytes;
    }
    const erasures = register?.read() ?? new Map<string, string>();
    let reapplied = 0;
    // No key store in the backup (KEY_STORE=postgres): nothing here to re-apply the register to.
    if (erasures.size > 0 && manifest.files.some((f) => f.name === 'keys.sqlite')) {
      // The restored ledger's own register starts with every erasure so far.
      const restoredRegister = new ErasureRegister(join(staging, ERASURE_REGISTER_NAME));
      restoredRegister.recordMissing([...erasures].map(([subjectId, erasedAt]) => ({ subjectId, erasedAt })));
      const keys = new SubjectKeyStore(
        new SqliteReadModelStore(join(staging, 'keys.sqlite'), { secureDelete: true, durable: true }),
        restoredRegister,
      );
      try {
        const held = await keys.erasedSubjects();
        for (const [subjectId, erasedAt] of erasures) {
          if (held.has(subjectId)) continue;
          await keys.destroy(subjectId, erasedAt);
          reapplied++;
        }
      } finally {
        await keys.close();
      }
    }
    if (existsSync(out)) await rmdir(out); // empty, checked above
    await rename(staging, out);
    return {
      target: out,
      files: manifest.files.length,
      bytes,
      eventsHead: manifest.eventsHead,
      erasuresReapplied: reapplied,
      erasuresInRegister: erasures.size,
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
