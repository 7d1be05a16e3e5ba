import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { REGISTRY_EVENT_TYPES, RegistryView, parseApiKey, type RegistryEvent } from '@nrm/access';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import type { Actor } from '@nrm/shared-kernel';

/** How often the registry looks for changes made by other processes (the CLI, other API replicas). */
const REFRESH_INTERVAL_MS = 1000;
/** An unknown key id triggers an immediate look, at most this often (so unknown keys cannot load the store). */
const MISS_REFRESH_MIN_INTERVAL_MS = 200;

/**
 * Keeps the registry view current: it reads registry events by type (an
 * indexed read) at start, every second, after its own changes, and when a
 * key it has never seen is presented.
 */
@Injectable()
export class RegistryService implements OnModuleInit, OnModuleDestroy {
  readonly view = new RegistryView();
  private refreshing: Promise<void> | undefined;
  private lastMissRefresh = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly logger = new Logger(RegistryService.name);

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'registry refresh failed',
        ),
      );
    }, REFRESH_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Applies registry events stored since the last look; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.readNew().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readNew(): Promise<void> {
    const events = this.store.readAll({
      fromPosition: { after: this.view.position },
      filter: { eventTypes: REGISTRY_EVENT_TYPES },
    });
    for await (const event of events) {
      this.view.apply(
        {
          type: event.type,
          schemaVersion: event.schemaVersion,
          data: event.data,
        } as unknown as RegistryEvent,
        event.position,
      );
    }
  }

  async authenticateApiKey(apiKey: string): Promise<Actor | undefined> {
    const actor = this.view.authenticateApiKey(apiKey);
    if (actor) return actor;
    const parsed = parseApiKey(apiKey);
    const now = Date.now();
    if (
      !parsed ||
      this.view.knowsKey(parsed.keyId) ||
      now - this.lastMissRefresh < MISS_REFRESH_MIN_INTERVAL_MS
    )
      return undefined;
    this.lastMissRefresh = now;
    await this.refresh();
    return this.view.authenticateApiKey(apiKey);
  }
}
