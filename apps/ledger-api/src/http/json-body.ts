import type { FastifyInstance } from 'fastify';
import { visit, type JSONPath } from 'jsonc-parser';
import sjson from 'secure-json-parse';
import { ProblemException } from './problem';

/** Deeper than any command of the ledger needs; deep enough nesting otherwise overflows the validator's stack. */
export const MAX_JSON_DEPTH = 32;

/**
 * Keys that name a prototype's parts. No command of the ledger has such a field, and an object
 * carrying one could poison a prototype once merged or copied, so a body that holds one at any
 * depth is refused, whichever of the three.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

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

/** What is wrong with the keys of a well-formed JSON text. */
export interface KeyProblem {
  readonly code: 'REQUEST.DUPLICATE_KEY' | 'REQUEST.FORBIDDEN_KEY';
  /** Where, written as the validation names fields: `capture.language`, `services[2].type`. */
  readonly field: string;
  readonly detail: string;
}

/** `["services", 2, "type"]` as `services[2].type`. */
function fieldOf(path: JSONPath): string {
  let field = '';
  for (const part of path) field += typeof part === 'number' ? `[${part}]` : field === '' ? part : `.${part}`;
  return field === '' ? 'body' : field;
}

/**
 * The first duplicate or forbidden key of `text`, at any depth; `'malformed'` when `text` is not
 * strict JSON (no comments, no trailing commas); `undefined` when its keys are fine. A duplicate
 * key is refused because parsers disagree on which value wins (the last here, the first
 * elsewhere): two components could read two different commands from the same bytes.
 */
export function jsonKeyProblem(text: string): KeyProblem | 'malformed' | undefined {
  let problem: KeyProblem | undefined;
  let malformed = false;
  const open: Array<Set<string>> = [];
  visit(
    text,
    {
      onObjectBegin: () => {
        open.push(new Set());
      },
      onObjectEnd: () => {
        open.pop();
      },
      onObjectProperty: (property, _offset, _length, _line, _column, pathSupplier) => {
        if (problem !== undefined) return;
        const keys = open[open.length - 1];
        const field = (): string => fieldOf([...pathSupplier(), property]);
        if (FORBIDDEN_KEYS.has(property)) {
          problem = {
            code: 'REQUEST.FORBIDDEN_KEY',
            field: field(),
            detail: `${field()} is refused: "__proto__", "constructor" and "prototype" are never fields of a request.`,
          };
        } else if (keys?.has(property)) {
          problem = {
            code: 'REQUEST.DUPLICATE_KEY',
            field: field(),
            detail: `${field()} is given more than once: give each field once.`,
          };
        }
        keys?.add(property);
      },
      onError: () => {
        malformed = true;
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  return malformed ? 'malformed' : problem;
}

function keyProblemException(problem: KeyProblem): ProblemException {
  return new ProblemException({
    status: 400,
    title: 'Invalid request',
    code: problem.code,
    field: problem.field,
    detail: problem.detail,
    errors: [{ field: problem.field, message: problem.detail }],
  });
}

/**
 * Replaces Fastify's JSON parser with one that refuses, each with a 400 problem: text that is not
 * JSON; bodies nested deeper than MAX_JSON_DEPTH (checked before anything recursive looks at them,
 * so that a hostile body cannot exhaust the stack); duplicate keys and prototype keys at any depth
 * (naming the field). secure-json-parse's scan stays behind as a second guard against prototype
 * poisoning.
 */
export function useBoundedJsonParser(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return done(clientError('Body is not valid JSON'), undefined);
    }
    if (jsonDepth(parsed, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return done(clientError(`Body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    const keys = jsonKeyProblem(text);
    if (keys === 'malformed') return done(clientError('Body is not valid JSON'), undefined);
    if (keys !== undefined) return done(keyProblemException(keys), undefined);
    try {
      if (typeof parsed === 'object' && parsed !== null)
        sjson.scan(parsed, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      return done(keyProblemException(FORBIDDEN_ANYWHERE), undefined);
    }
    done(null, parsed);
  });
}

const FORBIDDEN_ANYWHERE: KeyProblem = {
  code: 'REQUEST.FORBIDDEN_KEY',
  field: 'body',
  detail: 'body is refused: "__proto__", "constructor" and "prototype" are never fields of a request.',
};
