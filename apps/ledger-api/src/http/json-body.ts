import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';

/** Deeper than any command of the ledger needs; deep enough nesting otherwise overflows the validator's stack. */
export const MAX_JSON_DEPTH = 32;

function clientError(message: string): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(message), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
}

/** Depth of nested arrays and objects, without recursion (a hostile body must not exhaust the stack here either). */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Replaces Fastify's JSON parser with one that also refuses bodies nested deeper
 * than MAX_JSON_DEPTH (400, not a stack overflow), keeping its prototype-poisoning guard.
 */
export function useBoundedJsonParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    let parsed: unknown;
    try {
      parsed = sjson.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(clientError('Body is not valid JSON'), undefined);
    }
    if (jsonDepth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return done(clientError(`Body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    done(null, parsed);
  });
}
