import type { EventStore } from '@nrm/event-store';

/** The event store's port (libs/event-store/src/event-store.ts), as the application layers name it. */
export type { EventStore };
