/**
 * Benchmark `rebuild`: events/s of a projection rebuilt from zero (the case
 * directory) against a raw ordered scan of the same store with the same JSON
 * parsing, in the same process, on a store of realistic case events.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore, type NewEvent } from '@nrm/event-store';
import { caseDirectory, Projector, SqliteReadModelStore } from '@nrm/projections';
import { benchDir, environment, round, writeResult } from './lib';

function event(type: string, data: Record<string, unknown>, at: string): NewEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data: data as NewEvent['data'],
    metadata: { correlationId: randomUUID(), principalId: 'bench', agencyId: 'bench', occurredAt: at },
  };
}

/** Cases with a report, an assessment, two referrals through to handoff and some support: ~12 events each. */
async function seed(store: SqliteEventStore, cases: number): Promise<number> {
  const at = '2026-11-30T10:00:00.000Z';
  for (let i = 0; i < cases; i++) {
    const caseId = randomUUID();
    await store.append(
      `identification-${caseId}`,
      [
        event(
          'PotentialVictimReported',
          {
            caseId,
            subjectId: randomUUID(),
            reportedByAgencyId: 'clinic',
            reportedByAgencyKind: 'health',
            indicators: ['debt-bondage', 'withheld-documents'],
            exploitationForms: ['labour'],
            minor: false,
            region: 'NL-ZH',
            reportedAt: at,
          },
          at,
        ),
        event(
          'IndicatorsAssessed',
          {
            caseId,
            outcome: 'indicators-present',
            indicatorsConfirmed: ['debt-bondage'],
            exploitationForms: ['labour'],
            assessedByAgencyId: 'clinic',
            assessedAt: at,
          },
          at,
        ),
      ],
      { expectedRevision: 'no-stream' },
    );
    for (const to of ['ngo', 'shelter']) {
      const referralId = randomUUID();
      await store.append(
        `referral-${referralId}`,
        [
          event(
            'ReferralMade',
            {
              referralId,
              caseId,
              fromAgencyId: 'clinic',
              fromAgencyKind: 'health',
              toAgencyId: to,
              toAgencyKind: to,
              transnational: false,
              purpose: 'assistance',
              servicesRequested: ['accommodation'],
              urgency: 'urgent',
              respondBy: at,
              sharedCategories: ['case-status'],
              madeByPrincipalId: 'p',
              madeAt: at,
            },
            at,
          ),
          event('ReferralAcknowledged', { referralId, caseId, byAgencyId: to, acknowledgedAt: at }, at),
          event('ReferralAccepted', { referralId, caseId, byAgencyId: to, acceptedAt: at }, at),
          event('HandoffCompleted', { referralId, caseId, byAgencyId: to, completedAt: at }, at),
        ],
        { expectedRevision: 'no-stream' },
      );
    }
    await store.append(
      `support-${caseId}`,
      [
        event(
          'SupportPlanAgreed',
          {
            caseId,
            planId: randomUUID(),
            services: ['accommodation', 'legal'],
            reviewOn: '2026-12-30',
            agreedByAgencyId: 'ngo',
            agreedAt: at,
          },
          at,
        ),
        event(
          'SupportServiceProvided',
          {
            caseId,
            serviceType: 'legal',
            providedOn: '2026-11-30',
            providedByAgencyId: 'ngo',
            recordedAt: at,
          },
          at,
        ),
      ],
      { expectedRevision: 'no-stream' },
    );
  }
  return store.headPosition();
}

/** The baseline: every stored event read in position order and its JSON parsed, nothing else. */
function rawScan(filename: string): { events: number; seconds: number } {
  const db = new Database(filename, { readonly: true });
  const started = process.hrtime.bigint();
  let events = 0;
  for (const row of db
    .prepare(
      'SELECT position, event_id, stream, revision, type, schema_version, data, metadata, recorded_at FROM events ORDER BY position',
    )
    .iterate() as Iterable<{ data: string; metadata: string }>) {
    JSON.parse(row.data);
    JSON.parse(row.metadata);
    events++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return { events, seconds };
}

export async function runRebuildBenchmark(options: { cases?: number; rounds?: number } = {}) {
  const cases = options.cases ?? Number(process.env.BENCH_REBUILD_CASES ?? 4000);
  const rounds = options.rounds ?? 3;
  const dir = benchDir('rebuild');
  try {
    const filename = join(dir, 'events.sqlite');
    const store = new SqliteEventStore({ filename, synchronous: 'NORMAL' });
    const events = await seed(store, cases);
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const readModels = new SqliteReadModelStore(join(dir, `read-models-${i}.sqlite`));
      const projector = new Projector({ store, readModels, projections: [caseDirectory] });
      const result = await projector.rebuild('case-directory');
      await projector.close();
      await readModels.close();
      ours.push(result.events / result.seconds);
      const raw = rawScan(filename);
      baseline.push(raw.events / raw.seconds);
    }
    await store.close();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const o = round(median(ours));
    const b = round(median(baseline));
    const result = {
      name: 'rebuild',
      ...environment(),
      what: `case-directory projection rebuilt from zero into a new SQLite file: ${events} events (${cases} cases), median of ${rounds}`,
      baselineWhat:
        'raw better-sqlite3 scan of the same events in position order with JSON.parse of data and metadata',
      aim: 'ratio >= 0.3',
      events,
      oursEventsPerSec: o,
      baselineEventsPerSec: b,
      ratio: round(o / b, 3),
    };
    console.log(`\nrebuild benchmark: ${events} events`);
    console.log(`  ours     ${o} events/s (case-directory rebuilt from zero)`);
    console.log(`  baseline ${b} events/s (ordered scan + JSON.parse)`);
    console.log(`  ratio    ${result.ratio} (aim >= 0.3)`);
    console.log(`written ${writeResult('rebuild', result)}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runRebuildBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
