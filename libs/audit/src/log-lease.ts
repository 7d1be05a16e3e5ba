import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The right to extend the audit log and sign its checkpoints: one process at a
 * time holds it; the others follow the log read-only and try again now and
 * then. A lease is lost only with its holder (the process ends, or its
 * connection breaks): there is no expiry to renew, so a paused writer cannot
 * come back to find another writing beside it.
 */
export interface LogLease {
  /** What the lease is, for logs (no credentials). */
  readonly description: string;
  /** True while this process holds the lease. */
  readonly held: boolean;
  /** Takes the lease if no other process holds it; true if this process holds it now. */
  tryAcquire(): Promise<boolean>;
  /** Gives the lease up (a follower may take it then). */
  release(): Promise<void>;
}

/**
 * The embedded default's lease: an exclusive lock on a small SQLite file beside
 * the log (SQLite's exclusive locking mode, a lock the operating system drops
 * when the process dies, as the relay's own lock). It binds processes sharing
 * the data directory on one machine: the API and the console.
 */
export class FileLease implements LogLease {
  readonly description: string;
  private db: Database.Database | undefined;

  constructor(private readonly filename: string) {
    this.description = `file lock ${filename}`;
  }

  get held(): boolean {
    return this.db?.open === true;
  }

  tryAcquire(): Promise<boolean> {
    if (this.held) return Promise.resolve(true);
    mkdirSync(dirname(this.filename), { recursive: true, mode: 0o700 });
    const db = new Database(this.filename);
    try {
      db.pragma('busy_timeout = 0');
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY); COMMIT');
      this.db = db;
      return Promise.resolve(true);
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return Promise.resolve(false);
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  release(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    return Promise.resolve();
  }
}
