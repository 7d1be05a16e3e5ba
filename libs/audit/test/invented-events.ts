import { SqliteEventStore, type EventStore, type NewEvent, type RecordedEvent } from '@nrm/event-store';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Invented events only: codes and ids, a few words in several scripts, nothing about a real person. */
const TYPES = [
  'CaseReported',
  'IndicatorsAssessed',
  'ConsentGranted',
  'ReferralMade',
  'ReferralAcknowledged',
];
const REGIONS = ['NL-ZH', 'NL-NH', 'BE-VAN', 'RO-B', 'PL-MZ'];
const NOTES = ['intake desk', 'bureau d’accueil', 'recepție', 'przyjęcie', 'приём', '受付', '🛈 follow-up'];

function invented(i: number): NewEvent {
  return {
    id: randomUUID(),
    type: TYPES[i % TYPES.length]!,
    schemaVersion: 1,
    data: {
      sequence: i,
      region: REGIONS[i % REGIONS.length]!,
      note: NOTES[i % NOTES.length]!,
      indicators: ['debt-bondage', 'restricted-movement'].slice(0, 1 + (i % 2)),
      minor: i % 11 === 0,
      score: (i * 37) % 101,
    },
    metadata: {
      correlationId: randomUUID(),
      occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      agencyId: `agency-${i % 8}`,
    },
  };
}

/** Appends `count` invented events over a handful of case streams, in appends of up to 50. */
export async function appendInvented(store: EventStore, count: number, streams = 25): Promise<void> {
  let written = 0;
  const revisions = new Map<string, number>();
  const names = Array.from({ length: streams }, () => `case-${randomUUID()}`);
  while (written < count) {
    const stream = names[written % names.length]!;
    const size = Math.min(count - written, 1 + (written % 50));
    const events = Array.from({ length: size }, (_, i) => invented(written + i));
    const expected = revisions.get(stream);
    const result = await store.append(stream, events, {
      expectedRevision: expected === undefined ? 'no-stream' : expected,
    });
    revisions.set(stream, result.revision);
    written += size;
  }
}

export async function readEverything(store: SqliteEventStore): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readAll()) events.push(event);
  return events;
}

/** A temporary directory with an event store in it; `dispose` removes both. */
export function scratch(prefix = 'nrm-audit-'): {
  dir: string;
  store: SqliteEventStore;
  dispose: () => Promise<void>;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = new SqliteEventStore({
    filename: join(dir, 'events.sqlite'),
    synchronous: 'NORMAL',
    pollIntervalMs: 50,
  });
  return {
    dir,
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
