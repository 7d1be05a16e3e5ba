import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { REGISTRY_EVENT_TYPES, RegistryView, parseApiKey, type RegistryEvent } from '@nrm/access';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { asDomainEvent } from '../commands/command-executor';
import type { Actor } from '@nrm/shared-kernel';

/** How often the registry looks for changes made by other processes (the CLI, other API replicas). */
const REFRESH_INTERVAL_MS = 1000;

/**
 * Keeps the registry view current: it reads registry events by type (an
 * indexed read) at start, every second, after its own changes, and when a
 * well-formed key it has never seen is presented.
 */
@Injectable()
export class RegistryService implements OnModuleInit, OnModuleDestroy {
  readonly view = new RegistryView();
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
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

  /**
   * Applies registry events stored since the last look. A caller always gets a
   * read that starts after its call; callers arriving during a read share the
   * one queued after it, so a flood of unknown keys costs one indexed read at a time.
   */
  refresh(): Promise<void> {
    if (!this.running) {
      this.running = this.readNew().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    return this.refresh();
  }

  private async readNew(): Promise<void> {
    const events = this.store.readAll({
      fromPosition: { after: this.view.position },
      filter: { eventTypes: REGISTRY_EVENT_TYPES },
    });
    for await (const event of events) {
      this.view.apply(asDomainEvent<RegistryEvent>(event), event.position);
    }
  }

  async authenticateApiKey(apiKey: string): Promise<Actor | undefined> {
    const actor = this.view.authenticateApiKey(apiKey);
    if (actor) return actor;
    const parsed = parseApiKey(apiKey);
    if (!parsed || this.view.knowsKey(parsed.keyId)) return undefined;
    await this.refresh(); // a key issued a moment ago by the CLI or another replica
    return this.view.authenticateApiKey(apiKey);
  }
}
