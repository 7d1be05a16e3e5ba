import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from './harness';

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, unknown>;
  allOf?: Schema[];
}

interface Operation {
  summary?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  security?: Array<Record<string, string[]>>;
  components?: {
    schemas?: Record<string, Schema>;
    securitySchemes?: Record<string, { type?: string; scheme?: string }>;
  };
}

interface Route {
  readonly method: string;
  readonly path: string;
}

type Fastify = ReturnType<ReturnType<Ledger['app']['getHttpAdapter']>['getInstance']>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** The swagger UI's own routes: served by the app, but not part of the API it documents. */
const isDocumentationRoute = (path: string) =>
  path === '/docs' || path.startsWith('/docs/') || path === '/openapi.json' || path === '/openapi.yaml';

/** Fastify's `/cases/:caseId` is OpenAPI's `/cases/{caseId}`. */
const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Every (method, path) Fastify serves, read from Fastify itself rather than from
 * Nest's or Swagger's metadata, so that a route Swagger does not see is still found.
 *
 * Fastify 5 has no public list of routes: `onRoute` only sees routes added after
 * the hook (the harness boots the app before the test can add one), and the
 * router's own array is private. What it does offer is `printRoutes()`, whose
 * `commonPrefix: false` form prints each node of the routing tree as one line:
 * tree drawing (4 characters per level), the node's path relative to its parent,
 * then its methods in parentheses when the node is a route. Rebuilding full paths
 * from that is a few lines; every line must match the grammar (no silent skips),
 * and every rebuilt route is checked back with the public `hasRoute()`, so a
 * change of format fails this test loudly instead of hiding routes.
 */
function servedRoutes(fastify: Fastify): Route[] {
  const routes: Route[] = [];
  const fullPathAtDepth: string[] = [];
  for (const line of fastify.printRoutes({ commonPrefix: false }).split('\n')) {
    if (line.trim() === '') continue;
    const match = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([A-Z]+(?:, [A-Z]+)*)\))?$/.exec(line);
    if (!match) throw new Error(`unexpected line in fastify.printRoutes(): ${JSON.stringify(line)}`);
    const depth = match[1]!.length / 4;
    if (depth > fullPathAtDepth.length) throw new Error(`orphan node in fastify.printRoutes(): ${line}`);
    const path = (depth === 0 ? '' : fullPathAtDepth[depth - 1]!) + match[2]!;
    fullPathAtDepth.length = depth;
    fullPathAtDepth.push(path);
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, path });
  }
  for (const route of routes) {
    if (!fastify.hasRoute({ method: route.method, url: route.path }))
      throw new Error(`rebuilt a route Fastify does not have: ${route.method} ${route.path}`);
  }
  return routes;
}

/**
 * Nest's handlers that take a JSON body (an `@Body()` parameter), by method and
 * Fastify path. Nest keeps this in the metadata its own router reads; the paths
 * are joined the way Nest joins them and checked against Fastify's routes.
 */
function handlersTakingABody(ledger: Ledger): Route[] {
  const routes: Route[] = [];
  const asList = (value: unknown): string[] => (Array.isArray(value) ? (value as string[]) : [String(value)]);
  const trimSlashes = (value: string) => value.replace(/^\/+|\/+$/g, '');
  for (const module of ledger.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      const prefixes = asList(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const paths: unknown = Reflect.getMetadata(PATH_METADATA, handler);
        if (paths === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as object;
        const takesBody = Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.BODY));
        if (!takesBody) continue;
        for (const prefix of prefixes)
          for (const path of asList(paths)) {
            const joined = [prefix, path].map(trimSlashes).filter((part) => part !== '');
            routes.push({ method, path: `/${joined.join('/')}` });
          }
      }
    }
  }
  return routes;
}

describe('OpenAPI document (e2e)', () => {
  let ledger: Ledger;
  let document: OpenApiDocument;
  let served: Route[];

  /** Each documented operation as `METHOD /path`, with the operation. */
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => HTTP_METHODS.includes(method))
        .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
    );

  beforeAll(async () => {
    // The console's static files are no API and need no operation: booted without them, as on a
    // fresh clone, so the routes read from Fastify do not depend on whether `npm run build` ran.
    ledger = await Ledger.boot({ CONSOLE_DIR: join(tmpdir(), 'nrm-no-console-build') });
    const response = await fetch(`${ledger.base}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = JSON.parse(await response.text()) as OpenApiDocument;
    served = servedRoutes(ledger.app.getHttpAdapter().getInstance());
  });
  afterAll(() => ledger?.close());

  it('is served without credentials, parses, and is OpenAPI 3', () => {
    expect(typeof document).toBe('object');
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths).length).toBeGreaterThan(0);
  });

  it('documents every route the app serves (read from Fastify), and nothing it does not serve', () => {
    // The route list itself must look right, or the comparison below proves nothing.
    expect(served).toEqual(
      expect.arrayContaining([
        { method: 'GET', path: '/health' },
        { method: 'POST', path: '/cases' },
        { method: 'POST', path: '/cases/:caseId/consents/:consentId/withdrawal' },
        { method: 'GET', path: '/openapi.json' },
      ]),
    );
    const api = served.filter((route) => !isDocumentationRoute(route.path));
    const getPaths = new Set(api.filter((r) => r.method === 'GET').map((r) => r.path));
    // Fastify answers HEAD for every GET by itself; OpenAPI documents the GET.
    const expected = api
      .filter((r) => !(r.method === 'HEAD' && getPaths.has(r.path)))
      .map((r) => `${r.method} ${toOpenApiPath(r.path)}`);
    const documented = operations().map((o) => `${o.method} ${o.path}`);
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.filter((route) => !documented.includes(route))).toEqual([]);
    expect(documented.filter((route) => !expected.includes(route))).toEqual([]);
  });

  it('gives every operation a summary', () => {
    const withoutSummary = operations()
      .filter((o) => typeof o.operation.summary !== 'string' || o.operation.summary.trim() === '')
      .map((o) => `${o.method} ${o.path}`);
    expect(withoutSummary).toEqual([]);
  });

  it('documents a request body schema for every command that takes a body', () => {
    const bodies = handlersTakingABody(ledger);
    expect(bodies.length).toBeGreaterThan(10);
    const servedKeys = served.map((r) => `${r.method} ${r.path}`);
    const problems: string[] = [];
    for (const { method, path } of bodies) {
      const label = `${method} ${path}`;
      if (!servedKeys.includes(label)) {
        problems.push(`${label}: a handler takes a body, but Fastify serves no such route`);
        continue;
      }
      const operation = document.paths[toOpenApiPath(path)]?.[method.toLowerCase()];
      let schema = operation?.requestBody?.content?.['application/json']?.schema;
      if (schema?.$ref) {
        const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
        schema = document.components?.schemas?.[name];
        if (!schema) problems.push(`${label}: requestBody refers to a missing schema ${name}`);
      }
      if (!schema) problems.push(`${label}: no application/json requestBody schema`);
      else if (Object.keys(schema.properties ?? {}).length === 0 && !schema.allOf)
        problems.push(`${label}: requestBody schema names no properties`);
    }
    expect(problems).toEqual([]);
    // Every body-taking handler found is a command (POST); the check covers all of them.
    expect(bodies.filter((r) => r.method !== 'POST')).toEqual([]);
  });

  it('declares bearer security, and every operation that needs credentials requires it', async () => {
    const schemes = Object.entries(document.components?.securitySchemes ?? {}).filter(
      ([, scheme]) => scheme.type === 'http' && scheme.scheme?.toLowerCase() === 'bearer',
    );
    expect(schemes.length).toBeGreaterThan(0);
    const bearerNames = new Set(schemes.map(([name]) => name));
    const problems: string[] = [];
    for (const { method, path, operation } of operations()) {
      // Which operations need credentials is asked of the app: the auth guard answers 401
      // before any parameter or body is looked at, so invented ids are harmless.
      const url = path.replace(/\{[^}]+\}/g, 'openapi-probe');
      const response = await fetch(`${ledger.base}${url}`, {
        method,
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      });
      await response.arrayBuffer();
      if (response.status !== 401) continue;
      const requirements = operation.security ?? document.security ?? [];
      if (!requirements.some((requirement) => Object.keys(requirement).some((n) => bearerNames.has(n))))
        problems.push(`${method} ${path} answers 401 without credentials but requires no bearer scheme`);
    }
    expect(problems).toEqual([]);
  });
});
