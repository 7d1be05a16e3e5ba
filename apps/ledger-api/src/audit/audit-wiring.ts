import {
  IntegrityWatch,
  MerkleLog,
  parseSignedCheckpoint,
  PostgresSharedLog,
  verifyCheckpointSignature,
  type AuditKeys,
  type CosignatureStore,
  type IntegrityFinding,
  type MerkleLogLogger,
  type SignedCheckpoint,
} from '@nrm/audit';
import { readFileSync } from 'node:fs';
import type { EventStore } from '@nrm/event-store';
import { AUDIT_DEFAULTS, auditLogFile, auditLogPlacement, type AuditConfig } from '@nrm/runtime';

/*
 * How the verifiable log, its integrity watch and the witnesses' cosignatures are put together:
 * shared by the audit module (AUDIT_LOG_THREAD=off, on the API's event loop) and the audit log's
 * worker thread (audit-log-thread.ts, the default). No Nest here: the thread loads none.
 */

/** The log over the store, with the configured key and checkpoint schedule. */
export function openMerkleLog(
  store: EventStore,
  config: AuditConfig,
  keys: AuditKeys,
  logger: MerkleLogLogger,
): MerkleLog {
  return new MerkleLog({
    store,
    filename: auditLogFile(config),
    ...auditLogPlacement(config),
    signer: keys,
    checkpointEvery: config.AUDIT_CHECKPOINT_EVERY ?? AUDIT_DEFAULTS.checkpointEvery,
    checkpointIntervalMs:
      (config.AUDIT_CHECKPOINT_INTERVAL_SECONDS ?? AUDIT_DEFAULTS.checkpointIntervalSeconds) * 1000,
    logger,
  });
}

/** The anchor checkpoint: read, parsed and its signature checked at boot; a bad one stops the boot. */
export function loadAnchor(config: AuditConfig, keys: AuditKeys): SignedCheckpoint | undefined {
  const file = config.AUDIT_ANCHOR_CHECKPOINT_FILE;
  if (file === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new Error(
      `AUDIT_ANCHOR_CHECKPOINT_FILE: cannot read ${file} as JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const parsed = parseSignedCheckpoint(value);
  if (!parsed.ok) throw new Error(`AUDIT_ANCHOR_CHECKPOINT_FILE: ${parsed.reason}`);
  const signature = verifyCheckpointSignature(parsed.value, keys.publicKey);
  if (!signature.valid) throw new Error(`AUDIT_ANCHOR_CHECKPOINT_FILE: ${signature.reason}`);
  return parsed.value;
}

/** Watches the store against the log, fed the leaves the log records; `onFinding` closes the appends. */
export function openWatch(
  store: EventStore,
  log: MerkleLog,
  config: AuditConfig,
  keys: AuditKeys,
  logger: MerkleLogLogger,
  onFinding: (finding: IntegrityFinding) => void,
): IntegrityWatch {
  const anchor = loadAnchor(config, keys);
  const watch = new IntegrityWatch({
    log,
    store,
    filename: auditLogFile(config),
    headCheckMs: (config.AUDIT_INTEGRITY_CHECK_SECONDS ?? 5) * 1000,
    rehashEventsPerSecond: config.AUDIT_REHASH_EVENTS_PER_SECOND ?? 1000,
    rehashPauseMs: (config.AUDIT_REHASH_PAUSE_SECONDS ?? 3600) * 1000,
    ...(anchor ? { anchor } : {}),
    logger,
    onFinding,
  });
  log.onAdded((first, last) => watch.recorded(first, last));
  return watch;
}

/** Hands a cosigned note one replica took to the shared log, for the others (nothing without one). */
export function shareCosigned(
  log: MerkleLog,
  logger: MerkleLogLogger,
): ((treeSize: number, note: string) => void) | undefined {
  const shared = log.sharedLog;
  if (!(shared instanceof PostgresSharedLog)) return undefined;
  return (treeSize, note) =>
    void shared
      .addCosignedNote(treeSize, note)
      .catch((error: unknown) =>
        logger.error(
          { message: error instanceof Error ? error.message : String(error) },
          'cosignature not shared',
        ),
      );
}

/**
 * Takes into this replica's cosignature store the cosigned notes other replicas took, every
 * second: each verified again (a note for a checkpoint this replica has not read yet waits).
 */
export class CosignatureFollower {
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly shared: PostgresSharedLog,
    private readonly log: MerkleLog,
    private readonly cosignatures: CosignatureStore,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.step().finally(() => {
        this.running = undefined;
      });
    }, 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async step(): Promise<void> {
    try {
      for (const row of await this.shared.cosignedNotesAfter(this.cursor)) {
        const result = this.cosignatures.submit(row.note, (size) => this.log.checkpointAt(size));
        if (!result.ok && result.code === 'AUDIT.UNKNOWN_CHECKPOINT' && this.log.treeSize < row.tree_size)
          return;
        this.cursor = row.id;
      }
    } catch {
      // The shared log unreachable now: tried again in a second.
    }
  }
}

/**
 * The log, its watch and the cosignatures, started and stopped together, wherever they run. At
 * start the store is checked against the log first: with a finding standing, the log does not
 * follow it.
 */
export class AuditLogRun {
  private follower: CosignatureFollower | undefined;

  constructor(
    readonly log: MerkleLog,
    readonly watch: IntegrityWatch,
    readonly cosignatures: CosignatureStore,
  ) {}

  /** Resolves with the finding standing at start, if any. */
  async start(): Promise<IntegrityFinding | undefined> {
    // A replica of the shared log (AUDIT_LOG_STORE=postgres) reads it first.
    await this.log.sync();
    const finding = await this.watch.start();
    if (!finding) await this.log.start();
    const shared = this.log.sharedLog;
    if (shared instanceof PostgresSharedLog) {
      this.follower = new CosignatureFollower(shared, this.log, this.cosignatures);
      this.follower.start();
    }
    return finding;
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
    await this.watch.stop();
    await this.log.stop();
  }

  async close(): Promise<void> {
    await this.watch.close();
    await this.log.close();
    this.cosignatures.close();
  }
}
