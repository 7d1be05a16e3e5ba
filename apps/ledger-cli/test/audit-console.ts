import { SqliteEventStore } from '@nrm/event-store';
import { Command } from 'commander';
import { join } from 'node:path';
import { registerAuditCommands, type ConsoleIo } from '../src/audit-commands';

/** How a run of the console ended: its exit code and what it wrote. */
export interface Run {
  code: number;
  out: string;
  err: string;
}

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Runs the console's audit commands on `dir`, as `npm run ledger -- …` would, and says how it ended. */
export async function runAuditConsole(dir: string, ...args: string[]): Promise<Run> {
  const result = { code: 0, out: '', err: '' };
  const io: ConsoleIo = {
    out: (text) => void (result.out += text),
    err: (text) => void (result.err += text),
    setExitCode: (code) => void (result.code = code),
    exitNow: (code) => {
      throw new Exit(code);
    },
    progress: false,
  };
  const cli = new Command('ledger').option('--data-dir <dir>').exitOverride();
  registerAuditCommands(cli, () => cli.opts<{ dataDir?: string }>().dataDir, io);
  try {
    await cli.parseAsync(['--data-dir', dir, ...args], { from: 'user' });
  } catch (error) {
    if (!(error instanceof Exit)) throw error;
    result.code = error.code;
  }
  return result;
}

/** Opens the embedded event store of `dir` for `work`, and closes it after. */
export async function withStoreIn<T>(dir: string, work: (store: SqliteEventStore) => Promise<T>): Promise<T> {
  const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
