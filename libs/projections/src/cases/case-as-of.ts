import type { EventStore, RecordedEvent } from '@nrm/event-store';
import { identificationStream } from '@nrm/identification';
import { referralStream } from '@nrm/referral';
import { supportStream } from '@nrm/support';
import { SqliteReadModelStore } from '../store/sqlite-read-model-store';
import type { SqlRunner } from '../store/read-model-store';
import { caseDirectory, CASE_DIRECTORY_EVENT_TYPES, type CaseDoc, type ReferralDoc } from './case-directory';

export interface CaseAsOf {
  readonly doc: CaseDoc;
  readonly referrals: ReferralDoc[];
}

const TYPES: ReadonlySet<string> = new Set(CASE_DIRECTORY_EVENT_TYPES);

/**
 * A case as it stood at `asOf`, rebuilt from its events rather than read from
 * the live read model: the case's identification and support streams and the
 * streams of its referrals, each event counted when it occurred at or before
 * `asOf` and was stored at or before `head`, applied in store order by the very
 * projection that keeps the live case directory, into a throwaway in-memory
 * table. `undefined` when the case had not been reported by then.
 *
 * `referralIds` are the case's referrals as known now; a referral made after
 * `asOf` simply contributes no event.
 */
export async function caseAsOf(
  store: EventStore,
  caseId: string,
  referralIds: readonly string[],
  asOf: string,
  head: number,
): Promise<CaseAsOf | undefined> {
  const until = Date.parse(asOf);
  const events: RecordedEvent[] = [];
  const streams = [identificationStream(caseId), supportStream(caseId), ...referralIds.map(referralStream)];
  for (const stream of streams)
    for await (const event of store.readStream(stream)) {
      if (event.position > head) break;
      if (TYPES.has(event.type) && Date.parse(event.metadata.occurredAt) <= until) events.push(event);
    }
  events.sort((a, b) => a.position - b.position);

  const scratch = new SqliteReadModelStore(':memory:');
  try {
    return await scratch.transaction(async (tx) => {
      await caseDirectory.setUp(tx);
      for (const event of events) await caseDirectory.apply(tx, event);
      const doc = await caseDocOf(tx, caseId);
      return doc ? { doc, referrals: await referralsOfCase(tx, caseId) } : undefined;
    });
  } finally {
    await scratch.close();
  }
}

/** A case's document from a case directory. */
export async function caseDocOf(db: SqlRunner, caseId: string): Promise<CaseDoc | undefined> {
  const row = await db.get<{ doc: string }>('SELECT doc FROM case_docs WHERE case_id = ?', [caseId]);
  return row ? (JSON.parse(row.doc) as CaseDoc) : undefined;
}

/** A case's referrals in a case directory, oldest first. */
export async function referralsOfCase(db: SqlRunner, caseId: string): Promise<ReferralDoc[]> {
  const rows = await db.all<{ doc: string }>(
    'SELECT doc FROM referral_docs WHERE case_id = ? ORDER BY made_at, referral_id',
    [caseId],
  );
  return rows.map((r) => JSON.parse(r.doc) as ReferralDoc);
}

/** The ids of a case's referrals in a case directory. */
export async function referralIdsOfCase(db: SqlRunner, caseId: string): Promise<string[]> {
  const rows = await db.all<{ referral_id: string }>(
    'SELECT referral_id FROM referral_docs WHERE case_id = ?',
    [caseId],
  );
  return rows.map((r) => r.referral_id);
}
