import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { REGISTRY_EVENT_TYPES, RegistryView, type RegistryEvent } from '@nrm/access';
import { EVENT_STORE, type EventStore, type Subscription } from '@nrm/event-store';
import { asDomainEvent } from '@nrm/runtime/commands';
import type { Actor } from '@nrm/shared-kernel';

/** How long the follower waits before subscribing again after its subscription failed. */
const RESUBSCRIBE_DELAY_MS = 1000;

/**
 * Keeps the registry view current: it reads registry events by type (an
 * indexed read) at start, then follows them with a subscription (woken at once
 * by appends in this process, polling for those of the CLI and other replicas),
 * and reads again after its own changes. Authentication never reads the store:
 * an unknown key id costs what a wrong secret costs.
 */
@Injectable()
export class RegistryService implements OnModuleInit, OnModuleDestroy {
  readonly view = new RegistryView();
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private subscription: Subscription | undefined;
  private following: Promise<void> | undefined;
  private stopped = false;
  private readonly logger = new Logger(RegistryService.name);

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.following = this.follow();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
    await this.following;
  }

  /** Applies registry events as they are stored, until the module stops; a failed subscription is renewed. */
  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        this.subscription = this.store.subscribe({
          fromPosition: { after: this.view.position },
          filter: { eventTypes: REGISTRY_EVENT_TYPES },
        });
        if (this.stopped) await this.subscription.close();
        for await (const event of this.subscription)
          this.view.apply(asDomainEvent<RegistryEvent>(event), event.position);
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'registry subscription failed; subscribing again',
        );
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, RESUBSCRIBE_DELAY_MS).unref());
    }
  }

  /**
   * Applies registry events stored since the last look. A caller always gets a
   * read that starts after its call; callers arriving during a read share the
   * one queued after it.
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

  /**
   * The actor of an API key, from the view only: a miss does not read the store
   * (that would tell an unknown key id from a wrong secret by its time). A key
   * issued in another process works once the subscription has seen it (at most
   * the store's poll interval, 200 ms on SQLite).
   */
  authenticateApiKey(apiKey: string): Actor | undefined {
    return this.view.authenticateApiKey(apiKey);
  }
}
