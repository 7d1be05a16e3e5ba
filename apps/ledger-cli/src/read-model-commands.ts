import { Logger } from '@nestjs/common';
import type { Command } from 'commander';
import { describeDivergences, ReadModelVerificationError, verifyReadModels } from '@nrm/projections';
import { openEventStore, PROJECTIONS, readModelFile, type LedgerConfig } from '@nrm/runtime';
import { EXIT, UsageError, commandRunner, consoleConfig, processIo, type ConsoleIo } from './audit-commands';

/**
 * `ledger verify-read-models`: the read models (the case directory and its parties, referrals, the
 * access log that the break-glass queue and the subject's access report answer from) against a
 * rebuild from the events, table by table up to the read models' own checkpoints. Exit 0 when they
 * are equal, 1 with the diverged tables (counts only) when not. Safe while the ledger runs: the
 * read-model file is only read, in one snapshot.
 */
export function registerReadModelCommands(
  cli: Command,
  dataDir: () => string | undefined,
  io: ConsoleIo = processIo,
): void {
  const { command, run } = commandRunner(
    cli,
    io,
    (error) => error instanceof UsageError || error instanceof ReadModelVerificationError,
  );
  const config = (): LedgerConfig => consoleConfig(dataDir());

  command(
    'verify-read-models',
    'compare the read models (SQLite) with a rebuild from the events, table by table; exit 1 when they diverge',
  ).action(
    run(async () => {
      const settings = config();
      if (settings.READ_MODEL_STORE !== 'sqlite')
        throw new UsageError('READ_MODEL_STORE is not sqlite: only the embedded read-model file is verified');
      const store = openEventStore(settings, new Logger('EventStore'));
      try {
        const result = await verifyReadModels({
          store,
          readModelFile: readModelFile(settings),
          projections: PROJECTIONS,
        });
        io.out(
          `${JSON.stringify(
            {
              verified: result.ok,
              positions: result.positions,
              tables: result.tables,
              rows: result.rows,
              eventsReplayed: result.eventsReplayed,
              seconds: Math.round(result.seconds * 1000) / 1000,
              skipped: result.skipped,
              divergences: result.divergences,
            },
            null,
            2,
          )}\n`,
        );
        if (result.ok) return EXIT.ok;
        io.err(
          `ledger: not verified: the read models diverge from the events: ${describeDivergences(result.divergences)}\n`,
        );
        return EXIT.fault;
      } finally {
        await store.close();
      }
    }),
  );
}
