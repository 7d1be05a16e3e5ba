/**
 * The global order under commits that finish out of order: many connections append at once,
 * each transaction waiting a random time before it commits, while a catch-up subscription in
 * another store reads. It must see every event exactly once, in increasing positions.
 *
 * The same harness first runs against a plain sequence (what this adapter deliberately does not
 * do) to show that it catches a skip when there is one.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { newEvent } from '../../test/conformance';
import { dropSchema, openPostgresStore, rawClient, uniqueSchema } from '../../test/postgres';
import type { RecordedEvent } from '../event-store';
import { APPEND_SQL, notificationChannel } from './postgres-event-store';

const WRITERS = 6;
const APPENDS_PER_WRITER = 25;
const MAX_COMMIT_DELAY_S = 0.02;

const schema = uniqueSchema('order');
let clients: pg.Client[] = [];

beforeAll(async () => {
  const setup = openPostgresStore(schema);
  await setup.headPosition(); // migrates
  await setup.close();
  clients = await Promise.all(Array.from({ length: WRITERS }, () => rawClient(schema)));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await dropSchema(schema);
});

function delay(): number {
  return Math.random() * MAX_COMMIT_DELAY_S;
}

interface Tally {
  readonly written: number;
  readonly seen: number;
  readonly skipped: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
}

function tally(written: readonly string[], seen: readonly { id: string; position: number }[]): Tally {
  const seenIds = new Set(seen.map((e) => e.id));
  let outOfOrder = 0;
  for (let i = 1; i < seen.length; i++) if (seen[i]!.position <= seen[i - 1]!.position) outOfOrder++;
  return {
    written: written.length,
    seen: seen.length,
    skipped: written.filter((id) => !seenIds.has(id)).length,
    duplicated: seen.length - seenIds.size,
    outOfOrder,
  };
}

/** Each writer runs its appends one after another, each in a transaction that sleeps before COMMIT. */
async function writeConcurrently(
  appendInTransaction: (client: pg.Client, writer: number, n: number) => Promise<string>,
): Promise<string[]> {
  const written: string[] = [];
  await Promise.all(
    clients.map(async (client, writer) => {
      for (let n = 0; n < APPENDS_PER_WRITER; n++) {
        await client.query('BEGIN');
        try {
          const id = await appendInTransaction(client, writer, n);
          await client.query('SELECT pg_sleep($1)', [delay()]);
          await client.query('COMMIT');
          written.push(id);
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    }),
  );
  return written;
}

describe('the global order when transactions commit out of order', () => {
  it('control: a reader following a plain sequence misses events that commit after a higher number', async () => {
    await clients[0]!.query('CREATE TABLE naive_events (position bigserial PRIMARY KEY, id uuid NOT NULL)');
    const seen: { id: string; position: number }[] = [];
    let last = 0;
    let writing = true;
    const reader = await rawClient(schema);
    const readOnce = async (): Promise<number> => {
      const { rows } = await reader.query<{ id: string; position: string }>(
        'SELECT id, position FROM naive_events WHERE position > $1 ORDER BY position',
        [last],
      );
      for (const row of rows) {
        seen.push({ id: row.id, position: Number(row.position) });
        last = Number(row.position);
      }
      return rows.length;
    };
    const following = (async () => {
      while (writing) {
        await readOnce();
        await new Promise((r) => setTimeout(r, 1));
      }
      while ((await readOnce()) > 0);
    })();
    const written = await writeConcurrently(async (client) => {
      const id = randomUUID();
      await client.query('INSERT INTO naive_events (id) VALUES ($1)', [id]);
      return id;
    });
    writing = false;
    await following;
    await reader.end();
    const counts = tally(written, seen);
    console.log(`plain sequence (control): ${JSON.stringify(counts)}`);
    expect(counts.duplicated).toBe(0);
    expect(counts.skipped).toBeGreaterThan(0); // the harness sees a skip when one happens
  });

  it('attack: a catch-up subscription sees every event exactly once, in increasing positions', async () => {
    const reader = openPostgresStore(schema, { pollIntervalMs: 60_000, batchSize: 7 });
    const writer = openPostgresStore(schema);
    const subscription = reader.subscribe({ fromPosition: 'start' });
    const seen: RecordedEvent[] = [];
    let target = Infinity;
    let reached: () => void = () => undefined;
    const caughtUp = new Promise<void>((resolve) => (reached = resolve));
    const following = (async () => {
      for await (const event of subscription) {
        seen.push(event);
        if (event.position >= target) reached();
      }
    })();
    const channel = notificationChannel(schema);
    // Through the adapter's own SQL, in transactions that wait a random time before COMMIT...
    const raw = writeConcurrently(async (client, w, n) => {
      const event = newEvent('Ordered', { w, n });
      const { rows } = await client.query<{ last_position: string | null }>(APPEND_SQL, [
        [`order-${w}-${n}`],
        [-1],
        [1],
        [event.id],
        [event.type],
        [event.schemaVersion],
        [JSON.stringify(event.data)],
        [JSON.stringify(event.metadata)],
        new Date(),
        channel,
      ]);
      expect(rows[0]?.last_position).not.toBeNull();
      return event.id;
    });
    // ... and through the adapter at the same time.
    const direct = Promise.all(
      Array.from({ length: APPENDS_PER_WRITER }, async (_, n) => {
        const event = newEvent('Ordered', { direct: n });
        await writer.append(`order-direct-${n}`, [event], { expectedRevision: 'no-stream' });
        return event.id;
      }),
    );
    const written = [...(await raw), ...(await direct)];
    target = await writer.headPosition();
    if (seen.some((e) => e.position >= target)) reached();
    // Only the notifications can bring the last events before the test's timeout: the poll is 60 s.
    await caughtUp;
    await subscription.close();
    await following;
    const counts = tally(written, seen);
    console.log(
      `append-ordered positions: ${WRITERS} connections x ${APPENDS_PER_WRITER} delayed commits + ` +
        `${APPENDS_PER_WRITER} adapter appends: ${JSON.stringify(counts)}`,
    );
    expect(counts).toEqual({
      written: WRITERS * APPENDS_PER_WRITER + APPENDS_PER_WRITER,
      seen: written.length,
      skipped: 0,
      duplicated: 0,
      outOfOrder: 0,
    });
    await reader.close();
    await writer.close();
  });
});
