/**
 * A store of realistic size for the HTTP benchmarks, written as real traffic
 * writes it: through the ledger's own command handlers (decide, fold, append
 * through the event-store port), each command with an Idempotency-Key, cases
 * advancing side by side so that one case's events are spread over the log.
 *
 * 8,000 cases of 14 events (report, assessment, consent, a referral to the
 * police acknowledged and accepted, reasonable grounds, a referral to an NGO
 * through to handoff, a reflection period, a support plan and a service):
 * ≈ 112,000 events. Seeding takes a minute or two on 2 cores, so the store is
 * written once into `bench/.work/seed-v<N>-<cases>/` and copied for each
 * benchmark (`BENCH_SEED_FRESH=1` writes it again).
 */
import { SqliteEventStore } from '@nrm/event-store';
import type { Actor, AgencyKind, Role } from '@nrm/shared-kernel';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryCommands } from '@nrm/access';
import { ConsentCommands } from '@nrm/consent';
import { IdentificationCommands } from '@nrm/identification';
import { ReferralCommands } from '@nrm/referral';
import { CaseRecords } from '@nrm/runtime';
import { idDerivationSecret, type CommandContext, type CommandOptions } from '@nrm/runtime/commands';
import { SupportCommands } from '@nrm/support';
import { fingerprintOf } from '../apps/ledger-api/src/commands/request-context';

/** Bump when what the seed writes changes: the cached store is then written again. */
const SEED_VERSION = 1;

/** Competent authorities for grounds decisions, as the ledger's default configuration names them. */
export const COMPETENT_KINDS: readonly AgencyKind[] = [
  'law-enforcement',
  'asylum-authority',
  'national-coordinator',
];

interface SeedAgency {
  readonly agencyId: string;
  readonly kind: AgencyKind;
  readonly roles: Role[];
}

const AGENCIES: readonly SeedAgency[] = [
  { agencyId: 'clinic-1', kind: 'health', roles: ['caseworker'] },
  { agencyId: 'clinic-2', kind: 'health', roles: ['caseworker'] },
  { agencyId: 'clinic-3', kind: 'health', roles: ['caseworker'] },
  { agencyId: 'police-1', kind: 'law-enforcement', roles: ['caseworker', 'decision-maker'] },
  { agencyId: 'police-2', kind: 'law-enforcement', roles: ['caseworker', 'decision-maker'] },
  { agencyId: 'ngo-1', kind: 'ngo', roles: ['caseworker'] },
  { agencyId: 'ngo-2', kind: 'ngo', roles: ['caseworker'] },
  { agencyId: 'shelter-1', kind: 'shelter', roles: ['caseworker'] },
];

export interface Seeded {
  readonly version: number;
  readonly cases: number;
  readonly events: number;
  readonly seconds: number;
  /** API key of each agency's desk. */
  readonly keys: Record<string, string>;
  /** Cases each NGO may read for assistance (it received and completed their referral; consent covers it). */
  readonly readable: Record<string, string[]>;
}

const FILES = ['events.sqlite', 'id-derivation.secret'];

/**
 * Copies a seeded store (events and the id secret its Idempotency-Keys were derived with) into
 * `dataDir`, writing it first when no cached copy exists.
 */
export async function seededDataDir(
  dataDir: string,
  cases = Number(process.env.BENCH_CASES ?? 8000),
): Promise<Seeded> {
  const cache = join(
    process.env.BENCH_DIR ?? join(process.cwd(), 'bench', '.work'),
    `seed-v${SEED_VERSION}-${cases}`,
  );
  const manifest = join(cache, 'seed.json');
  if (process.env.BENCH_SEED_FRESH === '1' || !existsSync(manifest)) {
    rmSync(cache, { recursive: true, force: true });
    mkdirSync(cache, { recursive: true });
    const seeded = await seed(cache, cases);
    writeFileSync(manifest, `${JSON.stringify(seeded)}\n`);
  }
  mkdirSync(dataDir, { recursive: true });
  for (const file of FILES) copyFileSync(join(cache, file), join(dataDir, file));
  return JSON.parse(readFileSync(manifest, 'utf8')) as Seeded;
}

function isoDay(now: Date, plusDays = 0): string {
  return new Date(now.getTime() + plusDays * 86_400_000).toISOString().slice(0, 10);
}

/** Writes `cases` cases into `dir`/events.sqlite, interleaved in waves of 400. */
export async function seed(dir: string, cases: number): Promise<Seeded> {
  const started = performance.now();
  state = 12345;
  const store = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), synchronous: 'NORMAL' });
  const idSecret = idDerivationSecret({ DATA_DIR: dir });
  try {
    const registry = new RegistryCommands(store);
    const consoleCtx = (): CommandContext => ({
      now: new Date().toISOString(),
      requestId: `seed-${randomUUID()}`,
      fingerprint: 'seed',
    });
    const actors = new Map<string, Actor>();
    const keys: Record<string, string> = {};
    for (const a of AGENCIES) {
      await registry.registerAgency(
        { agencyId: a.agencyId, name: `Bench ${a.agencyId}`, kind: a.kind, country: 'NL' },
        consoleCtx(),
      );
      const { principalId } = await registry.registerPrincipal(
        { agencyId: a.agencyId, label: `${a.agencyId} desk`, roles: a.roles },
        consoleCtx(),
      );
      keys[a.agencyId] = (await registry.issueApiKey(principalId, consoleCtx())).apiKey ?? '';
      actors.set(a.agencyId, { principalId, agencyId: a.agencyId, agencyKind: a.kind, roles: a.roles });
    }
    // As the HTTP layer builds them: a keyed digest of the request, and an Idempotency-Key.
    const as = (agencyId: string, path: string, body: unknown): CommandContext => ({
      actor: actors.get(agencyId)!,
      now: new Date().toISOString(),
      requestId: `seed-${randomUUID()}`,
      fingerprint: fingerprintOf('POST', path, body, idSecret),
    });
    const keyed = (): CommandOptions => ({ idempotency: { key: randomUUID(), idSecret } });

    const identification = new IdentificationCommands(
      store,
      { competentKinds: COMPETENT_KINDS },
      new CaseRecords(store),
    );
    const consent = new ConsentCommands(store, new CaseRecords(store));
    const referral = new ReferralCommands(store, new CaseRecords(store));
    const support = new SupportCommands(store, new CaseRecords(store));
    const now = new Date();
    const respondBy = new Date(now.getTime() + 2 * 86_400_000).toISOString();
    const expiresAt = new Date(now.getTime() + 365 * 86_400_000).toISOString();
    const readable: Record<string, string[]> = { 'ngo-1': [], 'ngo-2': [] };

    /** One case's life, step by step; each step is one command. */
    const lifeOf = (i: number): Array<() => Promise<unknown>> => {
      const clinic = `clinic-${(i % 3) + 1}`;
      const police = `police-${(i % 2) + 1}`;
      const ngo = `ngo-${(Math.floor(i / 2) % 2) + 1}`;
      let caseId = '';
      let toPolice = '';
      let toNgo = '';
      const step =
        <T>(
          agencyId: string,
          path: () => string,
          body: T,
          run: (ctx: CommandContext, options: CommandOptions) => Promise<unknown>,
        ) =>
        () =>
          run(as(agencyId, path(), body), keyed());
      const report = {
        indicators: ['restricted-movement', 'debt-bondage'],
        exploitationForms: ['labour'] as const,
        minor: false,
        region: ['NL-ZH', 'NL-NH', 'NL-UT'][i % 3]!,
      };
      const assess = {
        outcome: 'indicators-present' as const,
        indicatorsConfirmed: ['debt-bondage'],
        exploitationForms: ['labour' as const],
      };
      const grant = {
        agencyIds: [ngo, 'shelter-1'],
        categories: ['case-status', 'support-needs'] as const,
        purposes: ['assistance', 'referral'] as const,
        expiresAt,
        capture: { method: 'written' as const, language: 'en', interpreterUsed: false },
      };
      const policeReferral = {
        toAgencyId: police,
        purpose: 'protection' as const,
        servicesRequested: [],
        urgency: 'urgent' as const,
        respondBy,
        sharedCategories: [],
      };
      const ngoReferral = {
        toAgencyId: ngo,
        purpose: 'assistance' as const,
        servicesRequested: ['accommodation' as const, 'legal' as const],
        urgency: 'urgent' as const,
        respondBy,
        sharedCategories: ['case-status' as const, 'support-needs' as const],
      };
      const reflection = { startsOn: isoDay(now), days: 30 };
      const plan = { services: ['accommodation' as const, 'legal' as const], reviewOn: isoDay(now, 21) };
      const service = { serviceType: 'legal' as const, providedOn: isoDay(now) };
      return [
        step(
          clinic,
          () => '/cases',
          report,
          async (ctx, options) => {
            caseId = (
              await identification.report(
                { ...report, exploitationForms: [...report.exploitationForms] },
                ctx,
                options,
              )
            ).caseId;
          },
        ),
        step(
          clinic,
          () => `/cases/${caseId}/indicators`,
          assess,
          (ctx, options) => identification.assessIndicators({ caseId, ...assess }, ctx, options),
        ),
        step(
          clinic,
          () => `/cases/${caseId}/consent`,
          grant,
          (ctx, options) =>
            consent.grant(
              { caseId, ...grant, categories: [...grant.categories], purposes: [...grant.purposes] },
              ctx,
              options,
            ),
        ),
        step(
          clinic,
          () => `/cases/${caseId}/referrals`,
          policeReferral,
          async (ctx, options) => {
            toPolice = (await referral.make({ caseId, ...policeReferral }, ctx, options)).referralId;
          },
        ),
        step(
          police,
          () => `/referrals/${toPolice}/acknowledge`,
          {},
          (ctx, options) => referral.transition(toPolice, 'AcknowledgeReferral', ctx, options),
        ),
        step(
          police,
          () => `/referrals/${toPolice}/accept`,
          {},
          (ctx, options) => referral.transition(toPolice, 'AcceptReferral', ctx, options),
        ),
        step(
          police,
          () => `/cases/${caseId}/reasonable-grounds`,
          { outcome: 'positive' },
          (ctx, options) =>
            identification.decideReasonableGrounds({ caseId, outcome: 'positive' }, ctx, options),
        ),
        step(
          clinic,
          () => `/cases/${caseId}/referrals`,
          ngoReferral,
          async (ctx, options) => {
            toNgo = (await referral.make({ caseId, ...ngoReferral }, ctx, options)).referralId;
          },
        ),
        step(
          ngo,
          () => `/referrals/${toNgo}/acknowledge`,
          {},
          (ctx, options) => referral.transition(toNgo, 'AcknowledgeReferral', ctx, options),
        ),
        step(
          ngo,
          () => `/referrals/${toNgo}/accept`,
          {},
          (ctx, options) => referral.transition(toNgo, 'AcceptReferral', ctx, options),
        ),
        step(
          ngo,
          () => `/referrals/${toNgo}/handoff`,
          {},
          (ctx, options) => referral.transition(toNgo, 'CompleteHandoff', ctx, options),
        ),
        step(
          ngo,
          () => `/cases/${caseId}/reflection-period`,
          reflection,
          (ctx, options) => support.startReflectionPeriod({ caseId, ...reflection }, ctx, options),
        ),
        step(
          ngo,
          () => `/cases/${caseId}/support-plan`,
          plan,
          (ctx, options) => support.agreePlan({ caseId, ...plan }, ctx, options),
        ),
        step(
          ngo,
          () => `/cases/${caseId}/services`,
          service,
          async (ctx, options) => {
            await support.recordService({ caseId, ...service }, ctx, options);
            readable[ngo]!.push(caseId);
          },
        ),
      ];
    };

    // Waves of cases in flight at once: every step of every case of a wave, the cases in a shuffled order each time.
    const WAVE = 400;
    for (let first = 0; first < cases; first += WAVE) {
      const lives = Array.from({ length: Math.min(WAVE, cases - first) }, (_, k) => lifeOf(first + k));
      for (let s = 0; s < lives[0]!.length; s++) {
        for (const life of shuffled(lives)) await life[s]!();
      }
      if (process.stdout.isTTY) process.stdout.write(`\rseeding: ${first + lives.length} of ${cases} cases`);
    }
    const events = await store.headPosition();
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `\nseeded ${events} events (${cases} cases) in ${seconds.toFixed(1)} s through the command handlers`,
    );
    return { version: SEED_VERSION, cases, events, seconds, keys, readable };
  } finally {
    await store.close();
  }
}

/** A seeded shuffle: the same interleaving for the same number of cases. */
let state = 12345;
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

if (require.main === module) {
  const dir = process.argv[2] ?? join(process.cwd(), 'bench', '.work', 'seed-manual');
  seededDataDir(dir).then(
    (s) => console.log(`${s.events} events, ${s.cases} cases in ${dir}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
