import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** One erasure as the register keeps it: the subject's pseudonymous id and when its key was destroyed. */
export interface RegisteredErasure {
  readonly subjectId: string;
  readonly erasedAt: string;
}

/**
 * The erasure register: every subject whose key was destroyed, appended (and fsynced) as one JSON
 * line each time a key is destroyed. It is kept apart from the backups of DATA_DIR (a backup never
 * copies it; point it outside DATA_DIR with ERASURE_REGISTER_FILE), so that a restore of an older
 * backup can re-apply every erasure made since: a restore never brings back an erased subject's key.
 *
 * It holds subject ids (random pseudonyms, also in the events) and times, never identity data.
 */
export class ErasureRegister {
  constructor(readonly file: string) {}

  /** Appends one erasure (a repeat is harmless: `read` keeps the first). */
  record(subjectId: string, erasedAt: string): void {
    this.append([{ subjectId, erasedAt }]);
  }

  /** Appends the erasures the register does not hold yet; returns how many. */
  recordMissing(erasures: Iterable<RegisteredErasure>): number {
    const held = this.read();
    const missing = [...erasures].filter((e) => !held.has(e.subjectId));
    if (missing.length > 0) this.append(missing);
    return missing.length;
  }

  /** Every registered erasure by subject id; empty when the file does not exist. A torn last line is skipped. */
  read(): Map<string, string> {
    const out = new Map<string, string>();
    if (!existsSync(this.file)) return out;
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // a line cut short by a crash mid-append: its erasure is appended again at the next start
      }
      const { subjectId, erasedAt } = (parsed ?? {}) as Partial<RegisteredErasure>;
      if (typeof subjectId === 'string' && typeof erasedAt === 'string' && !out.has(subjectId))
        out.set(subjectId, erasedAt);
    }
    return out;
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  private append(erasures: readonly RegisteredErasure[]): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const fd = openSync(this.file, 'a', 0o600);
    try {
      // A line on its own: a torn previous line (a crash mid-append) must not swallow this one.
      const text = erasures
        .map((e) => JSON.stringify({ subjectId: e.subjectId, erasedAt: e.erasedAt }))
        .join('\n');
      writeSync(fd, `\n${text}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
