/// <reference types="node" />
// Runs in Node (jest): it reads the committed API document from disk.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vocabulary from './vocabulary';

/** The committed API document the console's types and lists are generated from (npm run console:api). */
const document = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'openapi', 'openapi.json'), 'utf8'),
) as Record<string, unknown>;

/** The enum at a path of the document: `parameter:` steps pick a parameter by its name. */
function enumAt(...path: string[]): unknown {
  let at: unknown = document;
  for (const step of path) {
    if (at === undefined) return undefined;
    at = step.startsWith('parameter:')
      ? (at as { name: string }[]).find((p) => p.name === step.slice('parameter:'.length))
      : (at as Record<string, unknown>)[step];
  }
  return (at as { enum?: unknown } | undefined)?.enum;
}

const schema = (name: string, property: string, items = false) =>
  enumAt('components', 'schemas', name, 'properties', property, ...(items ? ['items'] : []));
const parameter = (path: string, name: string) =>
  enumAt('paths', path, 'get', 'parameters', `parameter:${name}`, 'schema');

describe('console vocabulary', () => {
  it('is the API document’s enums, not a copy that could drift from them', () => {
    const expected: Record<string, unknown> = {
      CATEGORIES: schema('GrantConsentDto', 'categories', true),
      PURPOSES: parameter('/cases/{caseId}', 'X-Purpose'),
      REFERRAL_STATUSES: parameter('/coordinator/handoff-board', 'status'),
      URGENCIES: schema('MakeReferralDto', 'urgency'),
      DECLINE_REASONS: schema('DeclineReferralDto', 'reason'),
      SERVICE_TYPES: schema('RecordServiceProvidedDto', 'serviceType'),
      AGENCY_KINDS: schema('RegisterAgencyDto', 'kind'),
      FINDINGS: schema('ReviewAccessDto', 'finding'),
      ERASURE_GROUNDS: schema('EraseSubjectDto', 'ground'),
      ACCESS_OUTCOMES: parameter('/oversight/access-attempts', 'outcome'),
    };
    const lists = Object.fromEntries(Object.entries(vocabulary).filter(([name]) => name !== 'VOCABULARY'));
    expect(Object.keys(lists).sort()).toEqual(Object.keys(expected).sort());
    for (const value of Object.values(expected)) expect(Array.isArray(value) && value.length > 0).toBe(true);
    expect(lists).toEqual(expected);
    // Every list is labelled through VOCABULARY, so that the label test covers it.
    expect(new Set(Object.values(vocabulary.VOCABULARY))).toEqual(new Set(Object.values(lists)));
  });
});
