/**
 * API versioning (README, "API contract and versioning"): the document the ledger serves must not
 * break a client generated from the last released one, unless the break is declared with its reason
 * in docs/openapi/breaking-changes.json. First the comparison itself is checked on small documents
 * (each kind of break is caught, additions are not), then the served document is compared with the
 * committed snapshot of the last release.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from './harness';
import {
  SNAPSHOT_DIR,
  breakingChanges,
  declaredBreakingChanges,
  latestSnapshot,
  undeclared,
  type BreakingChange,
} from './openapi-compat';

type Doc = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

/** A small API: one command with an enum and a required field, one read with a response field. */
function base(): Doc {
  return {
    openapi: '3.0.0',
    info: { title: 't', version: '1.0.0' },
    paths: {
      '/referrals': {
        post: {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  // As the ledger's validation pipe: unknown fields are refused.
                  additionalProperties: false,
                  required: ['toAgencyId'],
                  properties: {
                    toAgencyId: { type: 'string' },
                    urgency: { type: 'string', enum: ['routine', 'urgent', 'emergency'] },
                    note: { type: 'string' },
                  },
                },
              },
            },
          },
          responses: { '201': { description: 'made' } },
        },
        get: {
          responses: {
            '200': {
              description: 'list',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { referralId: { type: 'string' }, status: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
      '/cases': { get: { responses: { '200': { description: 'cases' } } } },
    },
  };
}

async function breaks(change: (doc: Doc) => void): Promise<BreakingChange[]> {
  const after = base();
  change(after);
  return breakingChanges(JSON.stringify(base()), JSON.stringify(after));
}

interface ObjectSchema {
  required: string[];
  properties: Record<string, { type?: string; enum?: string[] }>;
}
interface Operation {
  requestBody: { content: Record<string, { schema: ObjectSchema }> };
  responses: Record<string, { description: string; content: Record<string, { schema: ObjectSchema }> }>;
}
const body = (doc: Doc) =>
  (doc.paths['/referrals']!.post as Operation).requestBody.content['application/json']!.schema;
const answer = (doc: Doc) =>
  (doc.paths['/referrals']!.get as Operation).responses['200']!.content['application/json']!.schema;
const enumOf = (doc: Doc) => body(doc).properties.urgency!.enum!;

describe('API versioning: breaking changes against the last release (e2e)', () => {
  it('catches each kind of breaking change, and lets additions through', async () => {
    const cases: Array<[string, (doc: Doc) => void, boolean]> = [
      ['removed path', (d) => delete d.paths['/cases'], true],
      ['removed operation', (d) => delete d.paths['/referrals']!.get, true],
      ['request field made required', (d) => body(d).required.push('note'), true],
      [
        'request enum narrowed',
        (d) => (body(d).properties.urgency = { type: 'string', enum: ['routine', 'urgent'] }),
        true,
      ],
      ['response field removed', (d) => delete answer(d).properties.status, true],
      ['response field loosened', (d) => (answer(d).properties.status = {}), true],
      [
        'new path',
        (d) => (d.paths['/things'] = { get: { responses: { '200': { description: 'x' } } } }),
        false,
      ],
      ['new optional request field', (d) => (body(d).properties.extra = { type: 'string' }), false],
      ['request enum widened', (d) => enumOf(d).push('later'), false],
      [
        'new error response',
        (d) =>
          ((d.paths['/cases']!.get as { responses: Record<string, unknown> }).responses['404'] = {
            description: 'no',
          }),
        false,
      ],
    ];
    const missed: string[] = [];
    for (const [name, change, breaking] of cases) {
      const found = await breaks(change);
      if (found.length > 0 !== breaking) missed.push(`${name}: ${breaking ? 'not caught' : 'flagged'}`);
    }
    console.log(`api versioning: ${cases.length} kinds of change compared, ${missed.length} misjudged`);
    expect(missed).toEqual([]);
  }, 60_000);

  it('accepts a breaking change only where it is declared with a reason', async () => {
    const found = await breaks((d) => delete d.paths['/cases']);
    expect(found.length).toBeGreaterThan(0);
    const location = 'paths./cases';
    expect(undeclared(found, [])).toEqual(found);
    expect(undeclared(found, [{ code: found[0]!.code, location, reason: '' }])).toEqual(found);
    expect(undeclared(found, [{ code: 'other.code', location, reason: 'x' }])).toEqual(found);
    expect(undeclared(found, [{ code: found[0]!.code, location, reason: 'Reads moved to /v2.' }])).toEqual(
      [],
    );
  });

  it('serves a document that breaks no client of the last release, but as declared', async () => {
    const ledger = await Ledger.boot();
    try {
      const current = await (await fetch(`${ledger.base}/openapi.json`)).text();
      const snapshot = latestSnapshot();
      const declared = declaredBreakingChanges();
      const found = await breakingChanges(snapshot.text, current);
      const left = undeclared(found, declared);
      console.log(
        `api versioning: against the ${snapshot.version} snapshot, breaking changes ${found.length}, ` +
          `declared ${found.length - left.length}, undeclared ${left.length}`,
      );
      expect(left).toEqual([]);
      // A declaration that no longer matches anything is stale: drop it when the snapshot moves on.
      const stale = declared.filter(
        (d) => !found.some((f) => f.code === d.code && f.locations.some((l) => l.startsWith(d.location))),
      );
      expect(stale).toEqual([]);
      // The console's typed client and vocabulary lists are generated from the committed current
      // document: it must be the one served, or an API change would not reach the console's build.
      const committed: unknown = JSON.parse(readFileSync(join(SNAPSHOT_DIR, 'openapi.json'), 'utf8'));
      expect({ 'docs/openapi/openapi.json (npm run openapi:current)': committed }).toEqual({
        'docs/openapi/openapi.json (npm run openapi:current)': JSON.parse(current),
      });
    } finally {
      await ledger.close();
    }
  }, 120_000);
});
