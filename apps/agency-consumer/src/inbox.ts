import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** What an agency's topic delivers: the relay's headers and the integration event as JSON. */
export interface Delivery {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly value: string;
}

export type Receipt =
  | { readonly kind: 'stored'; readonly eventId: string; readonly contract: string; readonly purged: number }
  | { readonly kind: 'duplicate'; readonly eventId: string }
  | { readonly kind: 'rejected'; readonly reason: string };

interface Envelope {
  readonly contract: string;
  readonly caseId: string;
  readonly categories: readonly string[];
  readonly payload: Record<string, unknown>;
  readonly stillEntitled?: readonly string[];
}

/**
 * A reference agency inbox: the relay delivers at least once, so the inbox keeps each event id it
 * has stored and ignores the same id delivered again, in the same transaction that stores the
 * event. On a consent-withdrawal notice it deletes what it holds of that case in categories no
 * longer covered, as the agency must.
 */
export class AgencyInbox {
  private readonly db: Database.Database;
  private readonly receiveTx: (eventId: string, envelope: Envelope) => Receipt;

  constructor(filename: string) {
    if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true });
    this.db = new Database(filename);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS inbox (
        event_id TEXT PRIMARY KEY, case_id TEXT NOT NULL, contract TEXT NOT NULL,
        categories TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS inbox_by_case ON inbox (case_id);
    `);
    const insert = this.db.prepare(
      `INSERT INTO inbox (event_id, case_id, contract, categories, payload, received_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
    );
    const ofCase = this.db.prepare<[string], { event_id: string; categories: string }>(
      'SELECT event_id, categories FROM inbox WHERE case_id = ?',
    );
    const remove = this.db.prepare<[string]>('DELETE FROM inbox WHERE event_id = ?');
    this.receiveTx = this.db.transaction((eventId: string, envelope: Envelope): Receipt => {
      const stored = insert.run(
        eventId,
        envelope.caseId,
        envelope.contract,
        JSON.stringify(envelope.categories),
        JSON.stringify(envelope.payload),
        new Date().toISOString(),
      );
      if (stored.changes === 0) return { kind: 'duplicate', eventId };
      let purged = 0;
      if (envelope.stillEntitled) {
        const keep = new Set(envelope.stillEntitled);
        for (const row of ofCase.all(envelope.caseId)) {
          const categories = JSON.parse(row.categories) as string[];
          if (categories.every((c) => keep.has(c))) continue;
          remove.run(row.event_id);
          purged++;
        }
      }
      return { kind: 'stored', eventId, contract: envelope.contract, purged };
    });
  }

  receive(delivery: Delivery): Receipt {
    const eventId = delivery.headers['event-id'];
    if (!eventId) return { kind: 'rejected', reason: 'no event-id header' };
    const envelope = parseEnvelope(delivery.value);
    if (!envelope) return { kind: 'rejected', reason: 'not an integration event' };
    return this.receiveTx(eventId, envelope);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM inbox').get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}

function parseEnvelope(value: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const e = parsed as Record<string, unknown>;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (typeof e.contract !== 'string' || typeof e.caseId !== 'string' || !strings(e.categories))
    return undefined;
  if (typeof e.payload !== 'object' || e.payload === null) return undefined;
  const payload = e.payload as Record<string, unknown>;
  const stillEntitled =
    e.contract.startsWith('nrm.consent.withdrawn.') && strings(payload.stillEntitledCategories)
      ? payload.stillEntitledCategories
      : undefined;
  return {
    contract: e.contract,
    caseId: e.caseId,
    categories: e.categories,
    payload,
    ...(stillEntitled ? { stillEntitled } : {}),
  };
}
