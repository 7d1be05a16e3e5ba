import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';

/**
 * The seal a ledger leaves on its read-model file when it closes it vouched for: the file had
 * equalled its rebuild from the events (the check at start, or a seal before), and nobody but the
 * ledger's own projector had written it since (SQLite's data_version, watched while it ran).
 *
 * The seal names the file as the file system last saw it: inode, size, modification and change
 * times in nanoseconds, for the database and its WAL. Any write to the file while the ledger is
 * stopped changes them (the change time cannot be set back by a program), and so does a copy or a
 * restore. A start that finds its seal intact serves at once and checks the whole file against its
 * rebuild in the background; a start without one (first start, crash, copy, edit) checks before it
 * serves. The seal is taken (removed) at start: only a clean close writes the next one.
 *
 * What the seal does not do: vouch against someone who edits the file and then writes a matching
 * seal. That edit is found by the full check the start runs in the background at once and then
 * every READ_MODEL_CHECK_SECONDS (and by `ledger verify-read-models`): queries are refused from then.
 */
export interface ReadModelSeal {
  readonly version: 1;
  readonly db: FileMark;
  /** The WAL as it stood at close: absent, or its mark. */
  readonly wal: FileMark | null;
}

interface FileMark {
  readonly ino: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

const sealFile = (readModelFile: string) => `${readModelFile}.seal.json`;

function markOf(file: string): FileMark | null {
  if (!existsSync(file)) return null;
  const s = statSync(file, { bigint: true });
  // An empty WAL holds nothing: the same as none.
  if (file.endsWith('-wal') && s.size === 0n) return null;
  return { ino: String(s.ino), size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
}

/** The seal of the read-model file as it stands now (closed by every writer). */
export function currentSeal(readModelFile: string): ReadModelSeal | undefined {
  const db = markOf(readModelFile);
  if (!db) return undefined;
  return { version: 1, db, wal: markOf(`${readModelFile}-wal`) };
}

/** Seals the closed file: called by the ledger after closing read models it vouched for. */
export function writeSeal(readModelFile: string): void {
  const seal = currentSeal(readModelFile);
  if (!seal) return;
  const target = sealFile(readModelFile);
  writeFileSync(`${target}.tmp`, `${JSON.stringify(seal)}\n`, { mode: 0o600 });
  renameSync(`${target}.tmp`, target);
}

/**
 * Takes the seal at start, before the read models are opened: true when it names the file exactly
 * as it stands. The seal is removed either way, so a crash later leaves none.
 */
export function takeSeal(readModelFile: string): boolean {
  const target = sealFile(readModelFile);
  if (!existsSync(target)) return false;
  let stored: unknown;
  try {
    stored = JSON.parse(readFileSync(target, 'utf8'));
  } catch {
    stored = undefined;
  }
  rmSync(target, { force: true });
  const now = currentSeal(readModelFile);
  return now !== undefined && JSON.stringify(stored) === JSON.stringify(now);
}
