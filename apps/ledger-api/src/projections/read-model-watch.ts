import type { ReadModelVerification } from '@nrm/projections';
import { describeDivergences } from '@nrm/projections';
import type { ReadModelCheck, ReadModelFinding, ReadModelIntegrity } from '@nrm/runtime';

export type { ReadModelCheck, ReadModelFinding, ReadModelIntegrity };

/** How often the foreign-write counter is read when no query reads it. */
const FOREIGN_WRITE_PROBE_MS = 1000;

/** The two calls the watch makes; Nest's Logger fits. */
export interface WatchLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Runs the read-model verification at start and then every `intervalMs`, one at a time, and keeps
 * its standing finding. While a finding stands the read side answers no query (the read gate
 * reports the read model as not caught up), /health is 503 and the metrics show it: the ledger does
 * not serve from read models that hold rows the events do not justify, or lack rows they do.
 * Cleared by a check that passes (after `ledger rebuild`, or the start check of a restart).
 */
export class ReadModelWatch implements ReadModelIntegrity {
  finding: ReadModelFinding | undefined;
  lastCheck: ReadModelCheck | undefined;
  readonly checks = { ok: 0, diverged: 0, error: 0 };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  /** The foreign-write counter when the last passing check began: what that check vouched for. */
  private vouchedFor: number | undefined;
  private probeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly verify: () => Promise<ReadModelVerification>,
    /** 0: no periodic check (only the one at start). */
    private readonly intervalMs: number,
    private readonly logger: WatchLogger,
    /**
     * Where the projector is the file's only writer: a counter that moves when another connection
     * writes the file (SQLite's data_version). A move refuses queries and starts a check at once.
     */
    private readonly foreignWrites?: () => number,
  ) {}

  /**
   * True when the read models were written by someone other than the projector since the last
   * check that passed: the check is started (if not running) and queries wait for its verdict.
   */
  writtenSinceVouched(): boolean {
    if (!this.foreignWrites || this.vouchedFor === undefined) return false;
    let now: number;
    try {
      now = this.foreignWrites();
    } catch {
      return false; // the store is closing
    }
    if (now === this.vouchedFor) return false;
    void this.check();
    return true;
  }

  /** One check now (joins the one in flight, if any). */
  check(): Promise<void> {
    this.running ??= this.checkNow().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The check at start, awaited before the ledger serves, then the periodic one. */
  async start(): Promise<void> {
    await this.check();
    if (this.stopped) return;
    if (this.intervalMs > 0) this.schedule();
    if (this.foreignWrites) {
      // A write by another process is noticed within a second even when no query comes.
      this.probeTimer = setInterval(() => this.writtenSinceVouched(), FOREIGN_WRITE_PROBE_MS);
      this.probeTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.timer = undefined;
    this.probeTimer = undefined;
    await this.running;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.check().finally(() => {
        if (!this.stopped) this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  private async checkNow(): Promise<void> {
    const at = new Date().toISOString();
    const started = performance.now();
    // Read before the check reads the file: a write during the check moves it again.
    let version: number | undefined;
    try {
      version = this.foreignWrites?.();
    } catch {
      version = undefined;
    }
    let result: ReadModelVerification;
    try {
      result = await this.verify();
    } catch (error) {
      this.checks.error++;
      const message = error instanceof Error ? error.message : String(error);
      this.lastCheck = { at, result: 'error', seconds: (performance.now() - started) / 1000, error: message };
      this.logger.warn(`read-model check could not finish (tried again at the next interval): ${message}`);
      return;
    }
    const figures = {
      seconds: result.seconds,
      tables: result.tables,
      rows: result.rows,
      eventsReplayed: result.eventsReplayed,
    };
    if (result.ok) {
      this.checks.ok++;
      this.lastCheck = { at, result: 'ok', ...figures };
      if (this.finding) this.logger.log('read models equal their rebuild again: queries are served');
      this.finding = undefined;
      this.vouchedFor = version;
      return;
    }
    this.checks.diverged++;
    this.lastCheck = { at, result: 'diverged', ...figures };
    this.finding = { detectedAt: at, positions: result.positions, divergences: result.divergences };
    this.logger.error(
      `read models diverge from the events (${describeDivergences(result.divergences)}): queries refused ` +
        'until they equal a rebuild again (stop the ledger, run `ledger rebuild`, start it)',
    );
  }
}
