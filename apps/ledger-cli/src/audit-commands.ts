/**
 * The verifiable log at the console: `export` a range of the log with its
 * signed checkpoints (itself audited as `LogExported`), `verify` an export
 * against a trusted checkpoint and the public key, and print the latest
 * `checkpoint` and the `public-key`.
 *
 * Exit codes: 0 verified (or done), 1 a fault (one line saying which, where),
 * 2 a usage error.
 */
import {
  AuditKeyError,
  checkCosignatures,
  completeRotation,
  prepareNextKey,
  rotationFiles,
  rotationSigner,
  type CheckpointSigner,
  type NoteVerifier,
  CHECKPOINT_FUTURE_SKEW_SECONDS,
  describeFault,
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  parseSignedCheckpoint,
  parseVerifierKey,
  verifyCheckpointSignature,
  IntegrityWatch,
  LogDiverged,
  LogGap,
  type IntegrityFinding,
  MerkleLog,
  MerkleRangeError,
  publicKeyFrom,
  verifyExport,
  writeExport,
  type AuditKeys,
  type ExportSummary,
} from '@nrm/audit';
import {
  accessStream,
  LOG_EXPORT_PURPOSES,
  LOG_EXPORT_REASON,
  type LogExported,
  type LogExportPurpose,
} from '@nrm/access';
import { SqliteEventStore, type EventStore, type NewEvent } from '@nrm/event-store';
import { Presets, SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { once } from 'node:events';
import {
  AUDIT_DEFAULTS,
  auditKeys,
  auditLogFile,
  auditLogPlacement,
  ConfigError,
  eventStoreFile,
  loadConfig,
  openEventStore,
  type AuditConfig,
  type LedgerConfig,
} from '@nrm/runtime';

export const EXIT = { ok: 0, fault: 1, usage: 2 } as const;

/** Where the commands write and how they end; the default is the process's. Tests pass their own. */
export interface ConsoleIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The exit code once the command has finished and closed what it opened. */
  readonly setExitCode: (code: number) => void;
  /** Ends at once: a usage error found while parsing the command line. */
  readonly exitNow: (code: number) => never;
  /** Progress bars on stderr for long runs. */
  readonly progress: boolean;
}

export const processIo: ConsoleIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  setExitCode: (code) => {
    process.exitCode = code;
  },
  exitNow: (code) => process.exit(code),
  progress: true,
};

/** A wrong invocation: exit code 2. */
export class UsageError extends Error {}

/** The console's configuration: the environment, `--data-dir` over it; a bad setting is a usage error. */
export function consoleConfig(dir: string | undefined): LedgerConfig {
  try {
    return loadConfig({ ...process.env, ...(dir ? { DATA_DIR: dir } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** Runs long enough for a progress bar from this many events. */
const LONG_RUN = 10_000;

function position(name: string) {
  return (value: string): number => {
    if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1)
      throw new InvalidArgumentError(`${name} must be a whole number from 1`);
    return Number(value);
  };
}

function reason(value: string): string {
  if (!LOG_EXPORT_REASON.test(value))
    throw new InvalidArgumentError(
      'the reason must be a reference (e.g. a file number): letters, digits, ".", "_", ":", "/" and "-", up to 200 characters, no prose',
    );
  return value;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * How the console's commands are declared and run: commander's output and exit go through `io`, an
 * action's result is the exit code, and an error is one line on stderr with exit 2 when `isUsage`
 * says the invocation was wrong, else 1.
 */
export function commandRunner(
  cli: Command,
  io: ConsoleIo,
  isUsage: (error: unknown) => boolean = (error) => error instanceof UsageError,
) {
  const command = (name: string, description: string): Command =>
    cli
      .command(name)
      .description(description)
      .configureOutput({ writeOut: io.out, writeErr: io.err })
      .exitOverride((error: CommanderError) => io.exitNow(error.exitCode === 0 ? EXIT.ok : EXIT.usage));
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      try {
        io.setExitCode(await action(...args));
      } catch (error) {
        io.err(`ledger: ${messageOf(error)}\n`);
        io.setExitCode(isUsage(error) ? EXIT.usage : EXIT.fault);
      }
    };
  return { command, run };
}

function bar(
  io: ConsoleIo,
  label: string,
  total: number,
): { update(done: number, rate: number): void; stop(): void } {
  if (!io.progress || total < LONG_RUN) return { update: () => undefined, stop: () => undefined };
  const progress = new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s`, hideCursor: true },
    Presets.shades_classic,
  );
  progress.start(total, 0, { rate: 0 });
  return {
    update: (done, rate) => progress.update(done, { rate: Math.round(rate) }),
    stop: () => progress.stop(),
  };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}

/**
 * Adds `export`, `verify`, `checkpoint` and `public-key` to the console.
 * `dataDir` gives the console's --data-dir, when set.
 */
export function registerAuditCommands(
  cli: Command,
  dataDir: () => string | undefined,
  io: ConsoleIo = processIo,
): void {
  const config = (): LedgerConfig & AuditConfig => consoleConfig(dataDir());

  /**
   * Opens the store and the log (catching it up to the store's head), runs `work`, closes both.
   * A catch-up the store refuses (a changed or missing event) is passed on to `work`, which
   * throws it unless it reports it as a finding.
   */
  const withLog = async <T>(
    work: (store: EventStore, log: MerkleLog, keys: AuditKeys, catchUpError?: unknown) => Promise<T>,
    signer?: CheckpointSigner,
  ): Promise<T> => {
    const settings = config();
    const keys = auditKeys(settings);
    // The configured event store: the embedded file, or the deployment's (EVENT_STORE=postgres …).
    const store: EventStore =
      settings.EVENT_STORE === 'sqlite'
        ? new SqliteEventStore({
            filename: eventStoreFile(settings),
            synchronous: settings.SQLITE_SYNCHRONOUS,
          })
        : openEventStore(settings, { warn: (message) => io.err(`ledger: ${message}\n`) });
    try {
      // One writer: the console extends the log and signs only when no running API holds the lease
      // (the file lock of the embedded log, or the PostgreSQL log's advisory lock). With
      // AUDIT_LOG_STORE=postgres, DATA_DIR holds the console's replica of the one log: it reads
      // the shared log first (retired keys included) and pushes what it signed.
      const placement = auditLogPlacement(settings);
      const lease = placement.lease!;
      const log = new MerkleLog({
        store,
        filename: auditLogFile(settings),
        signer: signer ?? keys,
        ...placement,
        checkpointEvery: settings.AUDIT_CHECKPOINT_EVERY ?? AUDIT_DEFAULTS.checkpointEvery,
        checkpointIntervalMs: 0,
      });
      try {
        let catchUpError: unknown;
        if (await lease.tryAcquire()) {
          if (placement.shared) await placement.shared.pull(log);
          const head = await store.headPosition();
          const progress = bar(io, 'audit log', head - log.treeSize);
          try {
            await log.catchUp((p) => progress.update(p.processed, p.leavesPerSec));
          } catch (error) {
            catchUpError = error;
          }
          progress.stop();
        } else {
          if (placement.shared) await placement.shared.pull(log);
          io.err(
            'ledger: the running ledger holds the audit log’s lease: the console reads the log as that process keeps it\n',
          );
        }
        const result = await work(store, log, keys, catchUpError);
        // What the console signed reaches the shared log before the lease is let go.
        await log.flushed();
        if (placement.shared && lease.held) await placement.shared.push(log);
        return result;
      } finally {
        await log.close();
      }
    } finally {
      await store.close();
    }
  };

  const settingsFile = (): string => auditLogFile(config());

  const { command, run } = commandRunner(
    cli,
    io,
    (error) =>
      error instanceof UsageError || error instanceof AuditKeyError || error instanceof MerkleRangeError,
  );

  command('export', 'export a range of the verifiable log, with its signed checkpoints, as NDJSON (audited)')
    .requiredOption('--from <position>', 'first position (inclusive)', position('--from'))
    .option('--to <position>', 'last position (inclusive; default: the last stored event)', position('--to'))
    .requiredOption('--out <file>', 'the export file to write (mode 0600)')
    .addOption(
      new Option('--purpose <purpose>', 'why the log is exported')
        .choices(LOG_EXPORT_PURPOSES)
        .makeOptionMandatory(),
    )
    .requiredOption(
      '--reason <reference>',
      'a reference for the request, e.g. a file number (no prose)',
      reason,
    )
    .option('--force', 'replace --out if it exists')
    .action(
      run(
        async (o: {
          from: number;
          to?: number;
          out: string;
          purpose: LogExportPurpose;
          reason: string;
          force?: boolean;
        }) => {
          if (o.to !== undefined && o.from > o.to) throw new UsageError('--from must not be after --to');
          if (!o.force && existsSync(o.out))
            throw new UsageError(`${o.out} exists; choose another --out, or add --force`);
          return withLog(async (store, log, _keys, catchUpError) => {
            // The store against the log first: a deleted tail, an older copy, a reused position
            // is a finding, reported with what can still be exported, never a usage error.
            const findings = await storeFindings(store, log, settingsFile());
            if (catchUpError !== undefined && findings.length === 0)
              findings.push(catchUpFinding(catchUpError));
            if (findings.length === 0) await log.requestCheckpoint();
            const head = await store.headPosition();
            const askedTo = o.to ?? head; // the last stored event, unless asked otherwise
            // Positions never handed out (not by the store, not in the log) are a wrong request.
            const known = Math.max(head, log.treeSize, (await store.positionsHandedOut?.()) ?? 0);
            if (askedTo > known && findings.length === 0)
              throw new UsageError(
                `--to ${askedTo} is beyond the last position the ledger ever handed out, ${known}`,
              );
            if (o.from > known && findings.length === 0)
              throw new UsageError(`--from ${o.from} is beyond the last stored event, at position ${head}`);
            const signed = log.latestCheckpoint()?.treeSize ?? 0;
            const to = Math.min(askedTo, head, signed);
            // A follower does not sign: events the writer has not signed yet are left out, not missing.
            const unsigned = log.role === 'follower' && askedTo <= head && to === signed;
            if (unsigned && to < askedTo)
              io.err(
                `ledger: the log's latest checkpoint covers ${signed} events; the running ledger signs the rest on its schedule\n`,
              );
            if (to < askedTo && findings.length === 0 && !unsigned)
              findings.push({
                kind: 'truncated',
                position: to + 1,
                detail: `asked to cover position ${askedTo}; the event store ends at ${head} and the log's latest checkpoint at ${signed}`,
              });
            for (const finding of findings)
              io.err(`ledger: finding: ${finding.kind} at position ${finding.position}: ${finding.detail}\n`);
            if (to < o.from) {
              io.out(
                `${JSON.stringify({ out: null, askedFrom: o.from, askedTo: askedTo, recorded: false, findings })}\n`,
              );
              return EXIT.fault;
            }
            const summary = await writeFile(o.out, async (sink) => {
              const progress = bar(io, 'export', to - o.from + 1);
              const result = await writeExport(store, log, { from: o.from, to }, sink, (p) =>
                progress.update(p.processed, p.eventsPerSec),
              );
              progress.stop();
              // Fail closed: an export that cannot be recorded is not kept. While a finding stands
              // nothing is appended (a position might be handed out again): the export is kept as
              // evidence and says it was not recorded.
              if (findings.length === 0) await recordExport(store, result, o.purpose, o.reason);
              return result;
            });
            io.out(
              `${JSON.stringify({
                out: o.out,
                askedTo,
                recorded: findings.length === 0,
                ...(findings.length > 0 ? { findings } : {}),
                fromPosition: summary.fromPosition,
                toPosition: summary.toPosition,
                events: summary.events,
                checkpoints: summary.checkpoints,
                treeSize: summary.treeSize,
                rootHash: summary.rootHash,
                sha256: summary.sha256,
                eventsPerSec: Math.round(summary.eventsPerSec),
              })}\n`,
            );
            const changed = summary.changedPositions;
            if (findings.length > 0) return EXIT.fault;
            if (changed.length === 0) return EXIT.ok;
            io.err(
              `ledger: ${changed.length} exported event(s) no longer match what the log recorded, the first at position ${changed[0]}: the event store was changed; verify names each\n`,
            );
            return EXIT.fault;
          });
        },
      ),
    );

  command('verify', 'verify an export against a trusted checkpoint and the log’s public key')
    .requiredOption('--file <export>', 'the export file (NDJSON)')
    .requiredOption(
      '--checkpoint <file>',
      'a trusted checkpoint (JSON), e.g. from GET /audit/checkpoints/latest',
    )
    .option(
      '--public-key <file>',
      'the log’s public key (PEM, JWK, or its C2SP verifier key), e.g. from GET /audit/public-key',
    )
    .option(
      '--trusted-key <vkey>',
      'instead of --public-key, to follow key rotations: a log verifier key (text, or a file of one per line), oldest first (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--witness <vkey>',
      'require a valid cosignature of the trusted checkpoint by this witness (verifier key, text or file; repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--range-only',
      'check only that the exported range is in the trusted tree (by default an export that ends before the checkpoint’s tree size is a finding: truncated, rolled-back or reused)',
    )
    .action(
      run(
        async (o: {
          file: string;
          checkpoint: string;
          publicKey?: string;
          trustedKey?: string[];
          witness?: string[];
          rangeOnly?: boolean;
        }) => {
          const read = (file: string, option: string): string => {
            try {
              return readFileSync(file, 'utf8');
            } catch (error) {
              throw new UsageError(`${option}: cannot read ${file} (${messageOf(error)})`);
            }
          };
          let trusted: unknown;
          const checkpointText = read(o.checkpoint, '--checkpoint');
          try {
            // A checkpoint note as it is, or its JSON view.
            trusted = checkpointText.trimStart().startsWith('{')
              ? JSON.parse(checkpointText)
              : checkpointText;
          } catch {
            throw new UsageError(`--checkpoint: ${o.checkpoint} is neither a checkpoint note nor JSON`);
          }
          if ((o.publicKey === undefined) === (o.trustedKey === undefined))
            throw new UsageError(
              'give --public-key, or --trusted-key for each key the log had (oldest first)',
            );
          const trustedKeys = o.trustedKey?.flatMap((value): NoteVerifier[] => {
            const text = existsSync(value) ? read(value, '--trusted-key') : value;
            return text
              .split('\n')
              .map((line) => line.trim())
              .filter((line) => line !== '' && !line.startsWith('#'))
              .map((line) => {
                const parsed = parseVerifierKey(line);
                if (!parsed.ok) throw new UsageError(`--trusted-key: ${parsed.reason}`);
                if (parsed.value.type !== NOTE_ED25519)
                  throw new UsageError(`--trusted-key: ${parsed.value.name} is not a log key (type 0x01)`);
                return parsed.value;
              });
          });
          const keyText = o.publicKey === undefined ? '' : read(o.publicKey, '--public-key');
          const vkey = parseVerifierKey(keyText.trim());
          const key = trustedKeys ? undefined : vkey.ok ? vkey.value.publicKey : publicKeyFrom(keyText);
          if (vkey.ok) {
            const signed = parseSignedCheckpoint(trusted);
            const verdict = signed.ok ? verifyCheckpointSignature(signed.value, vkey.value) : undefined;
            if (verdict && !verdict.valid) {
              io.out(`not verified: the trusted checkpoint: ${verdict.reason}\n`);
              return EXIT.fault;
            }
          }
          const dated = parseSignedCheckpoint(trusted);
          if (dated.ok && Date.parse(dated.value.time) > Date.now() + CHECKPOINT_FUTURE_SKEW_SECONDS * 1000) {
            io.out(`not verified: the trusted checkpoint is dated ${dated.value.time}, in the future\n`);
            return EXIT.fault;
          }
          const witnesses = (o.witness ?? []).map((value) => {
            const text = existsSync(value) ? read(value, '--witness') : value;
            const parsed = parseVerifierKey(text.trim());
            if (!parsed.ok) throw new UsageError(`--witness: ${parsed.reason}`);
            if (parsed.value.type !== NOTE_COSIGNATURE_V1)
              throw new UsageError(`--witness: ${parsed.value.name} is not a witness key (type 0x04)`);
            return parsed.value;
          });
          let cosignedBy: string[] = [];
          if (witnesses.length > 0) {
            const signed = parseSignedCheckpoint(trusted);
            const report = signed.ok
              ? checkCosignatures(signed.value.note, witnesses)
              : { malformed: signed.reason };
            if ('malformed' in report) {
              io.out(`not verified: the trusted checkpoint: ${report.malformed}\n`);
              return EXIT.fault;
            }
            const problems = [
              ...report.refused.map((r) => `${r.name}: ${r.reason}`),
              ...report.missing.map((name) => `${name}: no cosignature`),
            ];
            if (problems.length > 0) {
              io.out(
                `not verified: the trusted checkpoint lacks required witness cosignatures: ${problems.join('; ')}\n`,
              );
              return EXIT.fault;
            }
            cosignedBy = report.cosignedBy.map((c) => c.name);
          }
          if (!existsSync(o.file)) throw new UsageError(`--file: ${o.file} does not exist`);
          let progress: ReturnType<typeof bar> | undefined;
          const verdict = await verifyExport(createReadStream(o.file), {
            trustedCheckpoint: trusted,
            ...(trustedKeys ? { trustedKeys } : { publicKey: key! }),
            rangeOnly: o.rangeOnly === true,
            progressEvery: 5000,
            onProgress: (p) => {
              progress ??= bar(io, 'verify', p.total);
              progress.update(p.processed, p.eventsPerSec);
            },
          });
          progress?.stop();
          if (!verdict.ok) {
            io.out(`not verified: ${describeFault(verdict.fault)}\n`);
            return EXIT.fault;
          }
          io.out(
            `${JSON.stringify({
              verified: true,
              fromPosition: verdict.fromPosition,
              toPosition: verdict.toPosition,
              events: verdict.events,
              checkpoints: verdict.checkpoints,
              trustedTreeSize: verdict.trustedTreeSize,
              ...(witnesses.length > 0 ? { cosignedBy } : {}),
              coversTrustedCheckpoint: verdict.coversTrustedCheckpoint,
              seconds: Number(verdict.seconds.toFixed(3)),
              eventsPerSec: Math.round(verdict.eventsPerSec),
            })}\n`,
          );
          return EXIT.ok;
        },
      ),
    );

  command(
    'checkpoint',
    'bring the log up to date, sign a checkpoint if it grew, and print the latest one (JSON)',
  ).action(
    run(async () =>
      withLog(async (_store, log) => {
        const latest = await log.requestCheckpoint();
        if (!latest) throw new UsageError('the event store is empty: there is nothing to sign');
        io.out(`${JSON.stringify(latest)}\n`);
        return EXIT.ok;
      }),
    ),
  );

  command(
    'rotate-audit-key',
    'start a new audit signing key: the next checkpoint is signed by the old key and the new one, then the old key is retired',
  ).action(
    run(async () => {
      const settings = config();
      const old = auditKeys(settings);
      const next = prepareNextKey(old);
      let rotated = false;
      let armed = false;
      try {
        return await withLog(
          async (store, log, _keys, catchUpError) => {
            if (log.role !== 'writer')
              throw new UsageError(
                'the running ledger holds the audit log’s lease: stop it, rotate the key, then start it again',
              );
            if (catchUpError !== undefined)
              throw catchUpError instanceof Error ? catchUpError : new Error(messageOf(catchUpError));
            log.checkpoint(); // what came before, signed by the old key alone
            armed = true;
            // An audited event makes the log grow, so that the rotation has a checkpoint of its own.
            const rotationId = randomUUID();
            const now = new Date().toISOString();
            await store.append(
              accessStream(rotationId),
              [
                {
                  id: rotationId,
                  type: 'AuditKeyRotated',
                  schemaVersion: 1,
                  data: {
                    rotationId,
                    origin: old.origin,
                    retiredKeyId: old.keyId,
                    keyId: next.keyId,
                    rotatedBy: { via: 'console', osUser: osUser(), host: hostname() },
                    rotatedAt: now,
                  },
                  metadata: { correlationId: `cli-${rotationId}`, occurredAt: now },
                },
              ],
              { expectedRevision: 'no-stream' },
            );
            await log.catchUp();
            log.checkpoint();
            log.retireKey(old.keyId, next.keyId);
            completeRotation(old);
            rotated = true;
            io.out(
              `${JSON.stringify({
                rotated: true,
                origin: old.origin,
                retiredKeyId: old.keyId,
                keyId: next.keyId,
                retiredVerifierKey: old.verifierKey(),
                verifierKey: next.verifierKey(),
                checkpoint: log.latestCheckpoint(),
              })}\n`,
            );
            return EXIT.ok;
          },
          rotationSigner(old, next, () => armed),
        );
      } finally {
        // The new key never signed alone: a rotation that did not finish leaves the old key in place.
        if (!rotated && old.file !== undefined)
          rmSync(rotationFiles(old.file, old.keyId).next, { force: true });
      }
    }),
  );

  command('public-key', 'print the public key that signs checkpoints (PEM, --jwk, or --vkey)')
    .option('--jwk', 'as a JSON Web Key')
    .option('--vkey', 'as a C2SP verifier key <origin>+<key ID>+<key>, what a witness keeps')
    .action(
      run(async (o: { jwk?: boolean; vkey?: boolean }) => {
        const keys = auditKeys(config());
        io.out(
          o.vkey
            ? `${keys.verifierKey()}\n`
            : o.jwk
              ? `${JSON.stringify(keys.publicKeyJwk())}\n`
              : keys.publicKeyPem(),
        );
        return EXIT.ok;
      }),
    );
}

/** The log's refusal to follow the store, as a finding; anything else is rethrown. */
function catchUpFinding(error: unknown): Pick<IntegrityFinding, 'kind' | 'position' | 'detail'> {
  if (error instanceof LogDiverged)
    return { kind: 'changed', position: error.position, detail: error.message };
  if (error instanceof LogGap) return { kind: 'missing', position: error.expected, detail: error.message };
  throw error instanceof Error ? error : new Error(String(error));
}

/** What the integrity watch finds now, comparing the store with the log (head, last event, kept findings). */
async function storeFindings(
  store: EventStore,
  log: MerkleLog,
  filename: string,
): Promise<Pick<IntegrityFinding, 'kind' | 'position' | 'detail'>[]> {
  const watch = new IntegrityWatch({ log, store, filename, headCheckMs: 0, rehashEventsPerSecond: 0 });
  try {
    const finding = await watch.start();
    return finding ? [{ kind: finding.kind, position: finding.position, detail: finding.detail }] : [];
  } finally {
    await watch.close();
  }
}

/**
 * Writes a file through a temporary one beside it (mode 0600: an export holds
 * case data), flushed to disk, renamed into place only once `write` succeeds.
 */
async function writeFile<T>(
  out: string,
  write: (sink: { write(line: string): Promise<void> }) => Promise<T>,
): Promise<T> {
  const temporary = `${out}.partial-${randomUUID()}`;
  const stream = createWriteStream(temporary, { flags: 'wx', mode: 0o600 });
  try {
    await once(stream, 'open');
    const result = await write({
      write: async (line) => {
        if (!stream.write(line)) await once(stream, 'drain');
      },
    });
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    const handle = await open(temporary, 'r+');
    await handle.sync();
    await handle.close();
    await rename(temporary, out);
    return result;
  } catch (error) {
    stream.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Appends the `LogExported` event: who exported which range, why, and the file's hash. */
async function recordExport(
  store: EventStore,
  summary: ExportSummary,
  purpose: LogExportPurpose,
  reasonReference: string,
): Promise<void> {
  const exportId = randomUUID();
  const requestId = `cli-${randomUUID()}`;
  const now = new Date().toISOString();
  const data: LogExported['data'] = {
    exportId,
    exportedBy: { via: 'console', osUser: osUser(), host: hostname() },
    fromPosition: summary.fromPosition,
    toPosition: summary.toPosition,
    events: summary.events,
    treeSize: summary.treeSize,
    rootHash: summary.rootHash,
    purpose,
    reason: reasonReference,
    fileSha256: summary.sha256,
    requestId,
    exportedAt: now,
  };
  const event: NewEvent = {
    id: exportId,
    type: 'LogExported',
    schemaVersion: 1,
    data: JSON.parse(JSON.stringify(data)) as NewEvent['data'],
    metadata: { correlationId: requestId, occurredAt: now },
  };
  await store.append(accessStream(exportId), [event], { expectedRevision: 'no-stream' });
}
