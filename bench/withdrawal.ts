/**
 * Benchmark `withdrawal`: from the moment a consent withdrawal is acknowledged
 * to each agency's next read being refused. Every round grants consent to
 * several agencies, has each read once (served), withdraws, and the moment the
 * withdrawal's 200 arrives, every agency reads at once. The figure that must
 * hold is 0 reads served after the acknowledgement; beside it, the time from
 * the acknowledgement to each refusal (p50/p99).
 */
import { SqliteEventStore } from '@nrm/event-store';
import type { AgencyKind } from '@nrm/shared-kernel';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryCommands } from '@nrm/access';
import { ledgerMain, serve } from './http';
import { benchDir, environment, round, summarise, writeResult } from './lib';

interface Principal {
  readonly agencyId: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

/** Registers agencies and principals straight into the store, as the console does; returns their API keys. */
async function register(
  dataDir: string,
  agencies: ReadonlyArray<readonly [AgencyKind, string]>,
): Promise<Map<string, string>> {
  const store = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
  const keys = new Map<string, string>();
  try {
    const registry = new RegistryCommands(store);
    const context = () => ({ now: new Date().toISOString(), requestId: 'bench', fingerprint: 'bench' });
    for (const [kind, agencyId] of agencies) {
      await registry.registerAgency({ name: `Bench ${kind}`, kind, country: 'NL', agencyId }, context());
      const { principalId } = await registry.registerPrincipal(
        { agencyId, label: 'desk', roles: ['caseworker'] },
        context(),
      );
      keys.set(agencyId, (await registry.issueApiKey(principalId, context())).apiKey!);
    }
  } finally {
    await store.close();
  }
  return keys;
}

function principal(base: string, agencyId: string, apiKey: string): Principal {
  return {
    agencyId,
    async call(method, path, body, headers = {}) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
  };
}

const KINDS = [
  'ngo',
  'shelter',
  'health',
  'law-enforcement',
  'asylum-authority',
  'labour-inspectorate',
] as const;

export async function runWithdrawalBenchmark(options: { rounds?: number } = {}) {
  const rounds = options.rounds ?? Number(process.env.WITHDRAWAL_ROUNDS ?? 40);
  const dataDir = benchDir('withdrawal');
  const agencies: Array<readonly [AgencyKind, string]> = [
    ['health', 'clinic-bench'],
    ...KINDS.map((kind, i) => [kind, `${kind}-reader-${i}`] as const),
  ];
  const keys = await register(dataDir, agencies);
  // The built ledger in its own process, FULL, at the production log level, as production runs it.
  const ledger = await serve(
    [ledgerMain()],
    { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'info' },
    join(dataDir, 'ledger.log'),
  );
  try {
    const base = `http://127.0.0.1:${ledger.port}`;
    const reporter = principal(base, 'clinic-bench', keys.get('clinic-bench')!);
    const readers = agencies.slice(1).map(([, agencyId]) => principal(base, agencyId, keys.get(agencyId)!));
    const reported = await reporter.call('POST', '/cases', {
      indicators: ['debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    });
    const caseId = reported.body.caseId as string;
    const respondBy = new Date(Date.now() + 86_400_000).toISOString();
    for (const reader of readers) {
      const made = await reporter.call('POST', `/cases/${caseId}/referrals`, {
        toAgencyId: reader.agencyId,
        purpose: 'assistance',
        servicesRequested: ['accommodation'],
        urgency: 'urgent',
        respondBy,
        sharedCategories: [],
      });
      if (made.status !== 201) throw new Error(`referral to ${reader.agencyId}: ${made.status}`);
    }
    const read = (who: Principal) =>
      who.call('GET', `/cases/${caseId}`, undefined, { 'x-purpose': 'assistance' });

    let servedBefore = 0;
    let servedAfter = 0;
    let refusedAfter = 0;
    const toDenial: bigint[] = [];
    for (let round = 0; round < rounds; round++) {
      const granted = await reporter.call('POST', `/cases/${caseId}/consents`, {
        agencyIds: readers.map((r) => r.agencyId),
        categories: ['case-status'],
        purposes: ['assistance'],
        expiresAt: '2030-01-01T00:00:00Z',
        capture: { method: 'written', language: 'en', interpreterUsed: false },
      });
      for (const answer of await Promise.all(readers.map(read))) if (answer.status === 200) servedBefore++;
      const consentId = granted.body.consentId as string;
      const withdrawn = await reporter.call('POST', `/cases/${caseId}/consents/${consentId}/withdrawal`, {});
      const acknowledged = process.hrtime.bigint();
      if (withdrawn.status !== 200) throw new Error(`withdrawal: ${withdrawn.status}`);
      const answers = await Promise.all(
        readers.map(async (reader) => {
          const answer = await read(reader);
          return { status: answer.status, after: process.hrtime.bigint() - acknowledged };
        }),
      );
      for (const answer of answers) {
        if (answer.status === 200) servedAfter++;
        else refusedAfter++;
        toDenial.push(answer.after);
      }
    }
    const latency = summarise(toDenial, 1);
    const result = {
      name: 'withdrawal',
      ...environment(),
      what: `${KINDS.length} agencies read at once right after each of ${rounds} withdrawals is acknowledged`,
      aim: '0 reads served after the acknowledgement',
      rounds,
      agencies: KINDS.length,
      servedBeforeWithdrawal: servedBefore,
      readsAfterAcknowledgement: servedAfter + refusedAfter,
      servedAfterAcknowledgement: servedAfter,
      refusedAfterAcknowledgement: refusedAfter,
      timeToDenial: { p50Ms: round(latency.p50Ms, 2), p99Ms: round(latency.p99Ms, 2) },
    };
    console.log(
      `withdrawal: ${rounds} rounds × ${KINDS.length} agencies: served before ${servedBefore}; after the acknowledgement ${servedAfter} served, ${refusedAfter} refused; time to denial p50 ${result.timeToDenial.p50Ms} ms p99 ${result.timeToDenial.p99Ms} ms`,
    );
    console.log(`written ${writeResult('withdrawal', result)}`);
    if (servedBefore !== rounds * KINDS.length)
      throw new Error('reads before the withdrawal were not all served');
    return result;
  } finally {
    await ledger.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runWithdrawalBenchmark().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
