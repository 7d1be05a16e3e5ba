/**
 * Whether the OpenAPI document breaks clients generated from the last released one. The comparison is
 * openapi-diff's (Atlassian, maintained): removed paths and operations, new required parameters, request
 * bodies that accept less (a field made required, an enum narrowed), response bodies that may carry
 * more or other (a field removed or loosened), removed response headers. Each breaking difference must
 * be declared in docs/openapi/breaking-changes.json with its reason, or the check fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiDiff from 'openapi-diff';

export const SNAPSHOT_DIR = join(__dirname, '..', '..', 'docs', 'openapi');

export interface DeclaredBreakingChange {
  /** openapi-diff's code, e.g. `response.body.scope.add`. */
  readonly code: string;
  /** Where, as openapi-diff locates it in either document, e.g. `paths./health.get.responses.503`. */
  readonly location: string;
  readonly reason: string;
}

export interface BreakingChange {
  readonly code: string;
  readonly locations: readonly string[];
}

/** The snapshot of the newest release, `openapi-<version>.json` in docs/openapi/. */
export function latestSnapshot(dir = SNAPSHOT_DIR): { version: string; text: string } {
  const versions = readdirSync(dir)
    .map((name) => /^openapi-(\d+)\.(\d+)\.(\d+)\.json$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[0], key: [Number(m[1]), Number(m[2]), Number(m[3])] }))
    .sort((a, b) => a.key[0]! - b.key[0]! || a.key[1]! - b.key[1]! || a.key[2]! - b.key[2]!);
  const latest = versions.at(-1);
  if (!latest) throw new Error(`no openapi-<version>.json snapshot in ${dir}`);
  return { version: latest.key.join('.'), text: readFileSync(join(dir, latest.name), 'utf8') };
}

export function declaredBreakingChanges(dir = SNAPSHOT_DIR): DeclaredBreakingChange[] {
  return JSON.parse(readFileSync(join(dir, 'breaking-changes.json'), 'utf8')) as DeclaredBreakingChange[];
}

/** The breaking differences from `previous` to `current` (OpenAPI 3 documents as JSON text). */
export async function breakingChanges(previous: string, current: string): Promise<BreakingChange[]> {
  const result = await openapiDiff.diffSpecs({
    sourceSpec: { content: previous, location: 'previous', format: 'openapi3' },
    destinationSpec: { content: current, location: 'current', format: 'openapi3' },
  });
  const found: BreakingChange[] = result.breakingDifferencesFound
    ? result.breakingDifferences.map((d) => ({
        code: d.code,
        locations: [...d.sourceSpecEntityDetails, ...d.destinationSpecEntityDetails].map((e) => e.location),
      }))
    : [];
  return [...found, ...narrowedRequestEnums(JSON.parse(previous), JSON.parse(current))];
}

type Node = Record<string, unknown>;
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/**
 * openapi-diff compares schemas with json-schema-diff, which does not read `enum`: a request enum that
 * lost a value (a client sending it would now be refused) is found here. Every enum reachable from a
 * request body or parameter, `$ref`s followed, is compared by its location in the operation.
 */
export function narrowedRequestEnums(previous: Node, current: Node): BreakingChange[] {
  const enums = (doc: Node): Map<string, unknown[]> => {
    const out = new Map<string, unknown[]>();
    const schemas = ((doc.components as Node | undefined)?.schemas ?? {}) as Record<string, Node>;
    const walk = (node: unknown, at: string, depth: number): void => {
      if (typeof node !== 'object' || node === null || depth > 12) return;
      const schema = node as Node;
      if (typeof schema.$ref === 'string')
        return walk(schemas[schema.$ref.replace('#/components/schemas/', '')], at, depth + 1);
      if (Array.isArray(schema.enum)) out.set(at, schema.enum as unknown[]);
      for (const [name, child] of Object.entries((schema.properties ?? {}) as Node))
        walk(child, `${at}.properties.${name}`, depth + 1);
      if (schema.items) walk(schema.items, `${at}.items`, depth + 1);
      for (const key of ['allOf', 'anyOf', 'oneOf'])
        if (Array.isArray(schema[key]))
          (schema[key] as unknown[]).forEach((s, i) => walk(s, `${at}.${key}.${i}`, depth + 1));
    };
    for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Node>))
      for (const [method, operation] of Object.entries(item)) {
        if (!HTTP_METHODS.has(method)) continue;
        const op = operation as Node;
        const at = `paths.${path}.${method}`;
        const content = ((op.requestBody as Node | undefined)?.content ?? {}) as Record<string, Node>;
        for (const [type, media] of Object.entries(content))
          walk(media.schema, `${at}.requestBody.content.${type}.schema`, 0);
        for (const parameter of (op.parameters ?? []) as Node[])
          walk(parameter.schema, `${at}.parameters.${String(parameter.in)}.${String(parameter.name)}`, 0);
      }
    return out;
  };
  const before = enums(previous);
  const after = enums(current);
  const out: BreakingChange[] = [];
  for (const [at, values] of before) {
    const now = after.get(at);
    if (now === undefined) continue; // the field itself went: openapi-diff reports that
    if (values.some((v) => !now.includes(v))) out.push({ code: 'request.enum.narrowed', locations: [at] });
  }
  return out;
}

/** The breaking changes no declaration covers (same code, and a location at or under the declared one). */
export function undeclared(
  found: readonly BreakingChange[],
  declared: readonly DeclaredBreakingChange[],
): BreakingChange[] {
  return found.filter(
    (change) =>
      !declared.some(
        (d) =>
          d.code === change.code &&
          d.reason.trim() !== '' &&
          change.locations.some((l) => l === d.location || l.startsWith(`${d.location}.`)),
      ),
  );
}
