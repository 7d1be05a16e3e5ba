/**
 * The cost of checking one request, in process: the global pipe as it was (class-transformer +
 * class-validator, Nest's ValidationPipe) against the pipe with the schema compiled once
 * (apps/ledger-api/src/http/dto-schema.ts), on the hot routes' inputs: the case read's empty query,
 * a page query, a referral, a report and a consent grant (valid, as the benchmarks send them), and
 * a refused referral. Paired rounds alternating which side goes first; CPU µs per call from
 * process.cpuUsage(); the figure is the median of the rounds.
 *
 *   npx tsx bench/validation.ts        (VALIDATION_ROUNDS, VALIDATION_CALLS)
 */
import 'reflect-metadata';
import type { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { CaseViewQuery, MyCasesQuery } from '../apps/ledger-api/src/cases/case-reads.controller';
import { GrantConsentDto } from '../apps/ledger-api/src/consent/consent.dto';
import { ReportPotentialVictimDto } from '../apps/ledger-api/src/identification/identification.dto';
import { MakeReferralDto } from '../apps/ledger-api/src/referral/referral.dto';
import { compiledValidationPipe, validationPipe } from '../apps/ledger-api/src/http/validation';

const ROUNDS = Number(process.env.VALIDATION_ROUNDS ?? 5);
const CALLS = Number(process.env.VALIDATION_CALLS ?? 20_000);

interface Case {
  readonly name: string;
  readonly metadata: ArgumentMetadata;
  readonly input: () => unknown;
}

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype });

const referral = {
  toAgencyId: 'shelter-east',
  purpose: 'assistance',
  servicesRequested: ['accommodation', 'psychological'],
  urgency: 'urgent',
  respondBy: '2026-12-09T17:00:00Z',
  sharedCategories: ['case-status', 'support-needs'],
};

const CASES: readonly Case[] = [
  {
    name: 'GET /cases/:id (empty query)',
    metadata: { type: 'query', metatype: CaseViewQuery },
    input: () => ({}),
  },
  {
    name: 'GET /cases?limit=20',
    metadata: { type: 'query', metatype: MyCasesQuery },
    input: () => ({ limit: '20' }),
  },
  { name: 'POST referral', metadata: body(MakeReferralDto), input: () => structuredClone(referral) },
  {
    name: 'POST /cases (report)',
    metadata: body(ReportPotentialVictimDto),
    input: () => ({
      indicators: ['restricted-movement', 'debt-bondage'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    }),
  },
  {
    name: 'POST consent grant',
    metadata: body(GrantConsentDto),
    input: () => ({
      agencyIds: ['ngo-safe-harbour', 'shelter-east'],
      categories: ['case-status', 'support-needs', 'health'],
      purposes: ['assistance', 'referral'],
      expiresAt: '2027-06-30T00:00:00Z',
      capture: { method: 'written', language: 'ro', interpreterUsed: true },
    }),
  },
  {
    name: 'POST referral, refused (2 fields)',
    metadata: body(MakeReferralDto),
    input: () => ({ ...referral, urgency: 'soon', respondBy: 'tomorrow' }),
  },
];

async function cpuPerCall(pipe: PipeTransform, c: Case): Promise<number> {
  const inputs = Array.from({ length: CALLS }, c.input);
  const start = process.cpuUsage();
  for (const input of inputs) {
    try {
      await pipe.transform(input, c.metadata);
    } catch {
      // a refusal is what the last case measures
    }
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / CALLS;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const sides = { 'class-validator': validationPipe(), compiled: compiledValidationPipe() };
  console.log(`${ROUNDS} paired rounds of ${CALLS} calls; CPU µs per call (median of rounds)`);
  console.log('| input | class-validator | compiled | ratio |');
  console.log('| --- | --- | --- | --- |');
  for (const c of CASES) {
    for (const pipe of Object.values(sides)) await cpuPerCall(pipe, c); // warm-up (and the compilation)
    const per: Record<string, number[]> = { 'class-validator': [], compiled: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order =
        r % 2 === 0 ? (['class-validator', 'compiled'] as const) : (['compiled', 'class-validator'] as const);
      for (const side of order) per[side]!.push(await cpuPerCall(sides[side], c));
    }
    const old = median(per['class-validator']!);
    const now = median(per.compiled!);
    const ratios = per.compiled!.map((n, i) => n / per['class-validator']![i]!);
    console.log(`| ${c.name} | ${old.toFixed(1)} | ${now.toFixed(1)} | ${median(ratios).toFixed(3)} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
