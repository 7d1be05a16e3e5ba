import { ErasureRegister } from '@nrm/privacy';
import type { Command } from 'commander';
import { type LedgerConfig, erasureRegisterFile } from '@nrm/runtime';
import { EXIT, UsageError, commandRunner, consoleConfig, processIo, type ConsoleIo } from './audit-commands';
import { BackupError, backupDataDir, restoreBackup } from './backup';

/**
 * Adds `backup` and `restore` to the console (see backup.ts for what they copy and in which order).
 * `dataDir` gives the console's --data-dir, when set: the ledger backed up, and whose erasure
 * register a restore re-applies.
 */
export function registerBackupCommands(
  cli: Command,
  dataDir: () => string | undefined,
  io: ConsoleIo = processIo,
): void {
  const { command, run } = commandRunner(
    cli,
    io,
    (error) => error instanceof UsageError || error instanceof BackupError,
  );
  const config = (): LedgerConfig => consoleConfig(dataDir());

  command(
    'backup',
    'copy every file of the embedded ledger in DATA_DIR into <dir>, online and consistent (not the erasure register)',
  )
    .argument('<dir>', 'a new or empty directory (mode 0700): keep it as safe as DATA_DIR itself')
    .action(
      run(async (dir: string) => {
        const settings = config();
        if (settings.EVENT_STORE !== 'sqlite')
          throw new UsageError(
            'EVENT_STORE is not sqlite: back up PostgreSQL or EventStoreDB/KurrentDB with their own tools (see the README)',
          );
        if (settings.KEY_STORE !== 'sqlite' || settings.READ_MODEL_STORE !== 'sqlite')
          io.err(
            'ledger: KEY_STORE or READ_MODEL_STORE is postgres: that part is not in DATA_DIR and not in this backup\n',
          );
        const manifest = await backupDataDir(settings.DATA_DIR, dir);
        for (const skipped of manifest.skipped)
          io.err(`ledger: not copied: ${skipped.name}: ${skipped.reason}\n`);
        io.out(
          `${JSON.stringify({
            backup: dir,
            files: manifest.files.length,
            bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
            seconds: manifest.seconds,
            eventsHead: manifest.eventsHead,
            auditTreeSize: manifest.auditTreeSize,
            auditCheckpointTreeSize: manifest.auditCheckpointTreeSize,
            skipped: manifest.skipped.map((s) => s.name),
          })}\n`,
        );
        return EXIT.ok;
      }),
    );

  command(
    'restore',
    'restore a backup into a new DATA_DIR, re-applying every erasure in the erasure register (made since the backup too)',
  )
    .argument('<backup>', 'a directory written by `ledger backup`')
    .argument('<new-data-dir>', 'a new or empty directory')
    .option(
      '--erasure-register <file>',
      'the current erasure register (default: $ERASURE_REGISTER_FILE, or erasure-register.jsonl in the data dir)',
    )
    .option(
      '--without-erasure-register',
      'restore although no erasure register exists (only if no subject was ever erased)',
    )
    .action(
      run(
        async (
          backup: string,
          target: string,
          o: { erasureRegister?: string; withoutErasureRegister?: boolean },
        ) => {
          let register: ErasureRegister | undefined;
          if (!o.withoutErasureRegister) {
            const file = o.erasureRegister ?? erasureRegisterFile(config());
            register = new ErasureRegister(file);
            if (!register.exists())
              throw new UsageError(
                `no erasure register at ${file}: name the current one with --erasure-register <file> ` +
                  '(a restore must re-apply erasures made after the backup), or add --without-erasure-register ' +
                  'if no subject was ever erased',
              );
          }
          const result = await restoreBackup(backup, target, register);
          io.out(
            `${JSON.stringify({
              restored: target,
              files: result.files,
              bytes: result.bytes,
              eventsHead: result.eventsHead,
              erasuresInRegister: result.erasuresInRegister,
              erasuresReapplied: result.erasuresReapplied,
            })}\n`,
          );
          return EXIT.ok;
        },
      ),
    );
}
