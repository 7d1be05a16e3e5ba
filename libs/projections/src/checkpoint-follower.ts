import type { Projection } from './projection';
import { readCheckpoints, type CheckpointRow } from './projector';
import type { ReadModelStore } from './store/read-model-store';

export interface CheckpointFollowerOptions {
  readonly readModels: ReadModelStore;
  /** The projections the reader relies on, at the versions it was built for. */
  readonly projections: readonly Pick<Projection, 'name' | 'version'>[];
  /** How often the checkpoints are read while someone waits. Default 25 ms. */
  readonly pollIntervalMs?: number;
}

export interface FollowerHealth {
  readonly ok: boolean;
  /** Checkpoint of each expected projection; 0 while it is missing or at another version. */
  readonly positions: Readonly<Record<string, number>>;
  readonly detail?: string;
}

/**
 * What the API uses when the projector runs in another process: it learns
 * how far the read models have got by reading the projector's checkpoint
 * table, which the projector commits with the data. A projection stored at
 * another version than the one this reader expects counts as not caught up,
 * so a reader never answers from tables it does not understand.
 */
export class CheckpointFollower {
  private readonly pollIntervalMs: number;
  private tableReady = false;

  constructor(private readonly options: CheckpointFollowerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 25;
  }

  get readModelStore(): ReadModelStore {
    return this.options.readModels;
  }

  /** The lowest checkpoint of the expected projections (of those named, when names are given). */
  async position(names?: readonly string[]): Promise<number> {
    const stored = await this.stored();
    let lowest = Infinity;
    for (const { name, version } of this.options.projections) {
      if (names !== undefined && !names.includes(name)) continue;
      const row = stored.get(name);
      lowest = Math.min(lowest, row?.version === version ? row.position : 0);
    }
    return lowest === Infinity ? 0 : lowest;
  }

  /**
   * True once every expected projection (every one named, when names are given) covers
   * `position`; false after `timeoutMs` or while the store is unreachable.
   */
  async waitFor(position: number, timeoutMs: number, projections?: readonly string[]): Promise<boolean> {
    const deadline = performance.now() + Math.max(0, timeoutMs);
    for (;;) {
      try {
        if ((await this.position(projections)) >= position) return true;
      } catch {
        // unreachable for now: the deadline decides
      }
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.pollIntervalMs, left)));
    }
  }

  async health(): Promise<FollowerHealth> {
    try {
      const stored = await this.stored();
      const positions: Record<string, number> = {};
      const missing: string[] = [];
      for (const { name, version } of this.options.projections) {
        const row = stored.get(name);
        positions[name] = row?.version === version ? row.position : 0;
        if (row?.version !== version) missing.push(name);
      }
      return missing.length === 0
        ? { ok: true, positions }
        : { ok: false, positions, detail: `not built at the expected version: ${missing.join(', ')}` };
    } catch (error) {
      return {
        ok: false,
        positions: {},
        detail: `read-model store unreachable: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  private async stored(): Promise<Map<string, CheckpointRow>> {
    const store = this.options.readModels;
    let rows: CheckpointRow[];
    if (this.tableReady) {
      rows = await store.all<CheckpointRow>('SELECT name, version, position FROM projection_checkpoints');
    } else {
      rows = await readCheckpoints(store); // creates the table when the projector has not yet
      this.tableReady = true;
    }
    return new Map(rows.map((row) => [row.name, row]));
  }
}
