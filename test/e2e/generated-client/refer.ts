/**
 * A small agency integration, written only against the client generated from the served OpenAPI
 * document (openapi-typescript types + openapi-fetch): it makes a referral and handles a refusal by
 * its `code`. The test compiles it with tsc (strict) and runs it against a booted ledger; a code the
 * document did not declare for this operation would not compile (TS2678 in the switch below).
 *
 * Usage: node refer.js <base URL> <API key> <caseId> <toAgencyId> <respondBy>
 */
import createClient from 'openapi-fetch';
import { randomUUID } from 'node:crypto';
import type { components, paths } from './schema';

type Problem = components['schemas']['Problem'];

type Outcome =
  | {
      readonly outcome: 'referred';
      readonly referralId: string;
      readonly eventIds: string[];
      readonly replayed: boolean;
    }
  | { readonly outcome: 'fix the date'; readonly field: string | undefined }
  | { readonly outcome: 'not covered by consent' }
  | { readonly outcome: 'refused'; readonly status: number; readonly code: string };

async function refer(argv: readonly string[]): Promise<Outcome> {
  const [baseUrl, apiKey, caseId, toAgencyId, respondBy] = argv;
  if (!baseUrl || !apiKey || !caseId || !toAgencyId || !respondBy)
    throw new Error('usage: refer <base> <key> <case> <to> <respondBy>');
  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
  const { data, error, response } = await client.POST('/cases/{caseId}/referrals', {
    params: { path: { caseId }, header: { 'Idempotency-Key': randomUUID() } },
    body: {
      toAgencyId,
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'urgent',
      respondBy,
      sharedCategories: ['case-status'],
    },
  });
  if (data !== undefined) {
    const referralId: string | undefined = data.referralId;
    if (referralId === undefined) throw new Error('a referral answer names its referralId');
    return { outcome: 'referred', referralId, eventIds: data.eventIds, replayed: data.replayed };
  }
  const problem: Problem = error;
  if (response.status === 422 && error !== undefined) {
    switch (error.code) {
      case 'REFERRAL.RESPOND_BY_IN_PAST':
        return { outcome: 'fix the date', field: error.field };
      case 'REFERRAL.NOT_COVERED':
        return { outcome: 'not covered by consent' };
      default:
        break;
    }
  }
  return { outcome: 'refused', status: problem.status, code: problem.code };
}

refer(process.argv.slice(2)).then(
  (outcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`),
  (failure: unknown) => {
    process.stderr.write(`${String(failure)}\n`);
    process.exitCode = 1;
  },
);
