import type { EventStore, RecordedEvent } from '@nrm/event-store';
import { identificationStream } from '@nrm/identification';
import { referralStream } from '@nrm/referral';
import { supportStream } from '@nrm/support';
import { SqliteReadModelStore } from '../store/sqlite-read-model-store';
import { caseDirectory, CASE_DIRECTORY_EVENT_TYPES, type CaseDoc, type ReferralDoc } from './case-directory';
import { caseDocOf, referralsOfCase } from './queries';

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
