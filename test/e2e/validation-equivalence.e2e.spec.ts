/**
 * The validation compiled once (apps/ledger-api/src/http/dto-schema.ts: JSON Schema from the DTOs'
 * class-validator decorators, checked by ajv) against class-validator itself (Nest's ValidationPipe
 * with class-transformer, as every request was validated before), on the fuzz corpus: the bodies
 * the OpenAPI fuzzer generates for every operation with a JSON body (test/e2e/fuzz-values.ts), and
 * queries built the same way for the read operations, each sent through the JSON parser's hygiene
 * first (what the parser refuses reaches neither). For each one: the same verdict, the same
 * problem field and the same fields named; messages are compared too.
 *
 * One difference is deliberate and counted apart: class-transformer silently dropped a key named
 * after a member of Object.prototype (`toString`, `valueOf`...; in a query, Nest's pipe also
 * dropped `__proto__`, `constructor` and `prototype`), so such a body was accepted without it; the
 * compiled check refuses it as an unknown field, as every other unknown key.
 *
 * No app is started: the pipes are called as Nest calls them. The corpus is reproducible from its
 * seed: `FC_SEED=<seed> npx jest test/e2e/validation-equivalence`.
 */
import 'reflect-metadata';
import fc from 'fast-check';
import { parse as parseQuery } from 'fast-querystring';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArgumentMetadata } from '@nestjs/common';
import { jsonDepth, jsonKeyProblem, MAX_JSON_DEPTH } from '../../apps/ledger-api/src/http/json-body';
import { ProblemException, type FieldProblem } from '../../apps/ledger-api/src/http/problem';
import { CompiledValidationPipe, validationPipe } from '../../apps/ledger-api/src/http/validation';
import * as registryDtos from '../../apps/ledger-api/src/access/registry.dto';
import * as auditDtos from '../../apps/ledger-api/src/audit/audit.dto';
import * as caseReads from '../../apps/ledger-api/src/cases/case-reads.controller';
import * as consentDtos from '../../apps/ledger-api/src/consent/consent.dto';
import * as coordinatorDtos from '../../apps/ledger-api/src/coordinator/coordinator.dto';
import * as identificationDtos from '../../apps/ledger-api/src/identification/identification.dto';
import * as oversightDtos from '../../apps/ledger-api/src/oversight/oversight.dto';
import * as erasure from '../../apps/ledger-api/src/privacy/erasure.controller';
import * as referralDtos from '../../apps/ledger-api/src/referral/referral.dto';
import * as supportDtos from '../../apps/ledger-api/src/support/support.dto';
import {
  bodyValue,
  IdRef,
  invalidValue,
  nastyString,
  POLLUTION_KEYS,
  resolveSchema,
  sometimes,
  validValue,
  type Gen,
  type OpenApiDocument,
} from './fuzz-values';

const SEED = process.env.FC_SEED === undefined ? 20261207 : Number(process.env.FC_SEED);
const PER_OPERATION = Number(process.env.EQUIVALENCE_SAMPLES ?? 250);

type Dto = new () => unknown;

/** Every class the API binds a body or query to, by the name the OpenAPI document gives it. */
const DTOS = new Map<string, Dto>(
  [
    registryDtos,
    auditDtos,
    caseReads,
    consentDtos,
    coordinatorDtos,
    identificationDtos,
    oversightDtos,
    erasure,
    referralDtos,
    supportDtos,
  ].flatMap((module) =>
    Object.entries(module).filter((entry): entry is [string, Dto] => typeof entry[1] === 'function'),
  ),
);

/** The hot routes' DTOs (issue #16 item 5): they must be compiled, never left to class-validator. */
const HOT: readonly Dto[] = [
  caseReads.CaseViewQuery,
  caseReads.MyCasesQuery,
  caseReads.MyReferralsQuery,
  referralDtos.MakeReferralDto,
  referralDtos.DeclineReferralDto,
  referralDtos.WithdrawReferralDto,
  consentDtos.GrantConsentDto,
  consentDtos.WithdrawConsentDto,
  identificationDtos.ReportPotentialVictimDto,
  identificationDtos.AssessIndicatorsDto,
  identificationDtos.GroundsDecisionDto,
  identificationDtos.DesignateCompetentAuthorityDto,
  identificationDtos.ReconsiderIdentificationDto,
  supportDtos.StartReflectionPeriodDto,
  supportDtos.ExtendReflectionPeriodDto,
  supportDtos.EndReflectionPeriodDto,
  supportDtos.AgreeSupportPlanDto,
  supportDtos.RecordServiceProvidedDto,
  supportDtos.CloseSupportCaseDto,
];

/** Keys class-transformer skipped without a word: the instance already has a function by that name. */
const SKIPPED_BY_CLASS_TRANSFORMER = new Set(
  Object.getOwnPropertyNames(Object.prototype).filter(
    (name) => typeof (Object.prototype as Record<string, unknown>)[name] === 'function',
  ),
);
const STRIPPED_FROM_QUERIES = new Set(['__proto__', 'constructor', 'prototype']);

interface Sample {
  readonly operation: string;
  readonly kind: 'body' | 'query';
  readonly dto: Dto;
  /** As the parser hands it over: parsed JSON, or the query object. */
  readonly input: () => unknown;
}

type Verdict = { accepted: true } | { accepted: false; field?: string; errors: readonly FieldProblem[] };

async function verdict(pipe: { transform(v: unknown, m: ArgumentMetadata): unknown }, sample: Sample) {
  try {
    await pipe.transform(sample.input(), { type: sample.kind, metatype: sample.dto, data: undefined });
    return { accepted: true } as Verdict;
  } catch (error) {
    if (!(error instanceof ProblemException)) throw error;
    return { accepted: false, field: error.problem.field, errors: error.problem.errors ?? [] } as Verdict;
  }
}

const document = JSON.parse(
  readFileSync(join(__dirname, '../../docs/openapi/openapi.json'), 'utf8'),
) as OpenApiDocument & {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
        parameters?: { in: string; name: string; required?: boolean; schema?: object }[];
      }
    >
  >;
};

const IDS: Readonly<Record<string, readonly string[]>> = {
  agencyId: ['shelter-east', 'ngo-safe-harbour', 'police-south', '7d1f3c2e-9b4a-4c1e-8f0a-2b6d5e9c1a37'],
  principalId: ['3f9a1b2c-4d5e-4f60-8a7b-9c0d1e2f3a4b', 'p-invented'],
};

/** An IdRef of the fuzzer, resolved as the run would: one of the invented ids of its pool. */
function resolve(value: Gen): unknown {
  if (value instanceof IdRef) {
    const pool = IDS[value.pool] ?? ['5a0c6e1d-2b3f-4a5b-9c6d-7e8f9a0b1c2d'];
    return pool[value.pick % pool.length];
  }
  if (Array.isArray(value)) return value.map(resolve);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  return value;
}

/** What the JSON parser (json-body.ts) lets through, parsed again for each side (a pipe may mutate it). */
function throughParser(text: string): (() => unknown) | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (jsonDepth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return undefined;
  if (jsonKeyProblem(text) !== undefined) return undefined;
  return () => JSON.parse(text) as unknown;
}

function corpus(): { samples: Sample[]; refusedByParser: number } {
  const samples: Sample[] = [];
  let refusedByParser = 0;
  let seed = SEED;
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const name = `${method.toUpperCase()} ${path}`;
      const ref = operation.requestBody?.content?.['application/json']?.schema?.$ref;
      const bodyDto = ref ? DTOS.get(ref.replace('#/components/schemas/', '')) : undefined;
      if (ref && bodyDto) {
        const bodies = fc.sample(
          bodyValue(operation.requestBody!.content!['application/json']!.schema, document),
          {
            seed: seed++,
            numRuns: PER_OPERATION,
          },
        );
        for (const body of bodies) {
          const text =
            body.kind === 'json'
              ? JSON.stringify(resolve(body.value))
              : body.kind === 'text'
                ? body.text
                : Buffer.from(body.bytes).toString('utf8');
          const input = throughParser(text);
          if (input === undefined) refusedByParser++;
          else samples.push({ operation: name, kind: 'body', dto: bodyDto, input });
        }
      }
      const queryDto = queryDtoOf(method, path);
      const parameters = (operation.parameters ?? []).filter((p) => p.in === 'query');
      if (queryDto) {
        const pairs = fc.tuple(
          fc.tuple(
            ...parameters.map((p) => {
              const schema = resolveSchema(p.schema, document);
              const valid =
                schema.type === 'boolean'
                  ? fc.constantFrom<Gen>('true', 'false')
                  : validValue(schema, p.name, document, 0);
              return sometimes(
                fc.oneof(
                  { weight: 12, arbitrary: valid },
                  { weight: 3, arbitrary: invalidValue(schema, document) },
                ),
                p.required ? 96 : 50,
              ).map((value) => [p.name, value] as const);
            }),
          ),
          sometimes(
            fc.tuple(fc.constantFrom(...POLLUTION_KEYS, 'limit', 'x[y]', '__proto__[polluted]'), nastyString),
            10,
          ),
          // A key given twice: the query parser makes an array of it.
          sometimes(fc.constantFrom(...parameters.map((p) => p.name), 'extra'), 8),
        );
        for (const [values, stray, twice] of fc.sample(pairs, { seed: seed++, numRuns: PER_OPERATION })) {
          const entries: [string, unknown][] = [];
          for (const [key, value] of values) if (value !== undefined) entries.push([key, resolve(value)]);
          if (stray) entries.push([stray[0], stray[1]]);
          if (twice) entries.push([twice, '1'], [twice, '2']);
          const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
          const search = entries.map(([k, v]) => `${percentEncode(k)}=${percentEncode(text(v))}`).join('&');
          samples.push({ operation: name, kind: 'query', dto: queryDto, input: () => parseQuery(search) });
        }
      }
    }
  }
  return { samples, refusedByParser };
}

/** Every byte of the text's UTF-8 percent-encoded (a lone surrogate becomes U+FFFD, as a client sends it). */
const percentEncode = (text: string): string =>
  [...Buffer.from(text, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

/** The query DTO of each read that binds one (as the controllers' `@Query()` parameters name them). */
const QUERY_DTOS: Readonly<Record<string, string>> = {
  '/cases': 'MyCasesQuery',
  '/cases/{caseId}': 'CaseViewQuery',
  '/referrals': 'MyReferralsQuery',
  '/audit/checkpoints': 'CheckpointPageQuery',
  '/audit/proofs/inclusion': 'InclusionProofQuery',
  '/audit/proofs/consistency': 'ConsistencyProofQuery',
  '/coordinator/handoff-board': 'HandoffBoardQueryDto',
  '/coordinator/statistics': 'StatisticsQueryDto',
  '/oversight/access-log': 'AccessLogQuery',
  '/oversight/access-attempts': 'AccessAttemptsQuery',
  '/oversight/denials': 'DenialsQuery',
  '/oversight/break-glass': 'BreakGlassQueueQuery',
  '/oversight/subjects/{subjectId}/consent-history': 'ConsentHistoryQuery',
  '/subjects/{subjectId}/access-report': 'AccessReportQuery',
};

function queryDtoOf(method: string, path: string): Dto | undefined {
  const name = method === 'get' ? QUERY_DTOS[path] : undefined;
  if (name === undefined) return undefined;
  const dto = DTOS.get(name);
  if (!dto) throw new Error(`${name}: not exported by the DTO modules imported here`);
  return dto;
}

/**
 * The new side refused, besides what the old one said, only keys class-transformer or Nest
 * dropped unseen (named after Object.prototype's functions; in a query, also `__proto__`,
 * `constructor`, `prototype`).
 */
function deliberate(sample: Sample, old: Verdict, now: Verdict): boolean {
  if (now.accepted) return false;
  const dropped = (e: FieldProblem) =>
    e.message === `${e.field} is not a known field` &&
    (SKIPPED_BY_CLASS_TRANSFORMER.has(e.field.replace(/^.*[.\]]/, '')) ||
      (sample.kind === 'query' && STRIPPED_FROM_QUERIES.has(e.field)));
  const rest = now.errors.filter((e) => !dropped(e));
  if (rest.length === now.errors.length) return false;
  return JSON.stringify(rest) === JSON.stringify(old.accepted ? [] : old.errors);
}

describe('validation compiled once: the same verdicts as class-validator (fuzz corpus)', () => {
  const compiled = new CompiledValidationPipe();
  const classValidator = validationPipe();

  it('compiles every hot route DTO (none is left to class-validator)', () => {
    const left = HOT.filter((dto) => compiled.compiledFor(dto) === undefined).map((dto) => dto.name);
    const others = [...DTOS.values()].filter((dto) => /(Dto|Query)$/.test(dto.name) && !HOT.includes(dto));
    const othersLeft = others.filter((dto) => compiled.compiledFor(dto) === undefined).map((dto) => dto.name);
    console.log(
      `compiled: ${HOT.length - left.length} of ${HOT.length} hot DTOs, ` +
        `${others.length - othersLeft.length} of ${others.length} others (not compiled, for class-validator, e.g. response documents without rules: ${othersLeft.join(', ') || 'none'})`,
    );
    expect(left).toEqual([]);
  });

  it('gives the same verdict, problem field, fields and messages for every body and query of the corpus', async () => {
    const { samples, refusedByParser } = corpus();
    let accepted = 0;
    let refused = 0;
    let agreed = 0;
    let sameMessages = 0;
    let deliberateDifferences = 0;
    const disagreements: string[] = [];
    const messageDifferences: string[] = [];
    for (const sample of samples) {
      const old = await verdict(classValidator, sample);
      const now = await verdict(compiled, sample);
      if (deliberate(sample, old, now)) {
        deliberateDifferences++;
        continue;
      }
      if (old.accepted !== now.accepted) {
        disagreements.push(`${sample.operation} ${sample.kind}: ${JSON.stringify(sample.input()).slice(0, 300)}
  class-validator: ${JSON.stringify(old).slice(0, 400)}
  compiled:        ${JSON.stringify(now).slice(0, 400)}`);
        continue;
      }
      if (old.accepted || now.accepted) {
        accepted++;
        agreed++;
        sameMessages++;
        continue;
      }
      refused++;
      const fields = (v: Verdict) => (v.accepted ? [] : v.errors.map((e) => e.field));
      if (old.field !== now.field || JSON.stringify(fields(old)) !== JSON.stringify(fields(now))) {
        disagreements.push(`${sample.operation} ${sample.kind}: ${JSON.stringify(sample.input()).slice(0, 300)}
  class-validator: ${JSON.stringify(old).slice(0, 400)}
  compiled:        ${JSON.stringify(now).slice(0, 400)}`);
        continue;
      }
      agreed++;
      if (JSON.stringify(old) === JSON.stringify(now)) sameMessages++;
      else messageDifferences.push(`${JSON.stringify(old.errors)} / ${JSON.stringify(now.errors)}`);
    }
    console.log(
      [
        `validation equivalence (seed ${SEED}): ${samples.length} bodies and queries compared ` +
          `(${refusedByParser} more refused by the JSON parser before either)`,
        `  agreed ${agreed} (accepted by both ${accepted}, refused by both ${refused}; ` +
          `same messages ${sameMessages}), disagreed ${disagreements.length}, ` +
          `deliberate (Object.prototype key names now refused) ${deliberateDifferences}`,
        ...disagreements.slice(0, 5),
        ...messageDifferences.slice(0, 5).map((m) => `  message differs: ${m}`),
      ].join('\n'),
    );
    expect(disagreements).toEqual([]);
    expect(messageDifferences).toEqual([]);
    // The corpus reaches both outcomes, and most of it agrees on more than an easy refusal.
    expect(accepted).toBeGreaterThan(samples.length / 10);
    expect(refused).toBeGreaterThan(samples.length / 10);
  });

  it('would see a difference: the compiled check of another class disagrees with class-validator', async () => {
    const sample = (dto: Dto, body: unknown): Sample => ({
      operation: 'control',
      kind: 'body',
      dto,
      input: () => structuredClone(body),
    });
    const body = { reason: 'no-capacity' };
    const old = await verdict(classValidator, sample(referralDtos.DeclineReferralDto, body));
    const swapped = await verdict(compiled, sample(referralDtos.WithdrawReferralDto, body));
    expect(old.accepted).toBe(true);
    expect(swapped).toMatchObject({ accepted: false, field: 'reason' });
  });
});
