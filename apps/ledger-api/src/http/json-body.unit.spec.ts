import Fastify, { type FastifyInstance } from 'fastify';
import { jsonDepth, jsonKeyProblem, useBoundedJsonParser } from './json-body';
import { ProblemException } from './problem';

describe('jsonDepth', () => {
  it('measures nesting of objects and arrays without recursion', () => {
    expect(jsonDepth(1, 32)).toBe(0);
    expect(jsonDepth({}, 32)).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] }, 32)).toBe(3);
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep, 32)).toBe(33); // stops as soon as the limit is passed
  });
});

describe('the JSON body parser', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    useBoundedJsonParser(app);
    app.setErrorHandler((error, _request, reply) => {
      const problem =
        error instanceof ProblemException ? error.problem : { code: (error as { code?: string }).code };
      void reply.status(400).send(problem);
    });
    app.post('/', async (request) => ({ echoed: request.body }));
    await app.ready();
  });
  afterAll(() => app.close());

  const post = async (payload: string) => {
    const response = await app.inject({
      method: 'POST',
      url: '/',
      payload,
      headers: { 'content-type': 'application/json' },
    });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  };

  it('passes well-formed bodies through unchanged', async () => {
    const body = { name: 'Shelter East', nested: { list: [1, { a: 'b' }] } };
    expect(await post(JSON.stringify(body))).toEqual({ status: 200, body: { echoed: body } });
  });

  it('refuses duplicate and prototype keys at any depth, naming the field (attack)', async () => {
    const attacks: Array<[string, string, string]> = [
      ['{"__proto__":{"admin":true}}', 'REQUEST.FORBIDDEN_KEY', '__proto__'],
      ['{"prototype":{"x":1},"name":"Ab","kind":"ngo","country":"NL"}', 'REQUEST.FORBIDDEN_KEY', 'prototype'],
      ['{"a":{"constructor":{"prototype":{}}}}', 'REQUEST.FORBIDDEN_KEY', 'a.constructor'],
      [
        '{"capture":{"language":"en","x":[{"__pro\\u0074o__":1}]}}',
        'REQUEST.FORBIDDEN_KEY',
        'capture.x[0].__proto__',
      ],
      ['{"kind":"ngo","kind":"foreign-nrm"}', 'REQUEST.DUPLICATE_KEY', 'kind'],
      ['{"capture":{"method":"written","method":"guardian"}}', 'REQUEST.DUPLICATE_KEY', 'capture.method'],
      ['[{"a":1},{"a":1,"a":2}]', 'REQUEST.DUPLICATE_KEY', '[1].a'],
      ['{"k\\u0069nd":"ngo","kind":"x"}', 'REQUEST.DUPLICATE_KEY', 'kind'],
    ];
    let refused = 0;
    for (const [payload, code, field] of attacks) {
      const answer = await post(payload);
      expect({ payload, status: answer.status, code: answer.body.code, field: answer.body.field }).toEqual({
        payload,
        status: 400,
        code,
        field,
      });
      refused++;
    }
    // Same keys in sibling objects are not duplicates.
    expect((await post('{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}')).status).toBe(200);
    console.log(
      `json body: ${refused}/${attacks.length} duplicate or prototype key attacks refused with the field named`,
    );
  });

  it('still answers malformed and over-deep bodies as before', async () => {
    expect((await post('{"a":1,}')).body.code).toBe('FST_ERR_CTP_INVALID_JSON_BODY');
    expect((await post('{"a":1} // c')).body.code).toBe('FST_ERR_CTP_INVALID_JSON_BODY');
    expect((await post('['.repeat(100_000) + ']'.repeat(100_000))).body.code).toBe(
      'FST_ERR_CTP_INVALID_JSON_BODY',
    );
  });
});

describe('jsonKeyProblem', () => {
  it('reports malformed text rather than guessing at its keys', () => {
    expect(jsonKeyProblem('{"a":')).toBe('malformed');
    expect(jsonKeyProblem('{"a":1}')).toBeUndefined();
  });
});
