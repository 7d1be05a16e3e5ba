import type { OpenAPIObject } from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { answersOf } from './api-answers';

type Json = Record<string, unknown>;

export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key (`nrm_…`) or a JWT from the configured identity provider: `Authorization: Bearer <credential>`.',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description:
      'An API key (`nrm_…`), for clients that cannot set `Authorization`. Send one credential, not both.',
  },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      "The scraper's credential for `GET /metrics` (and for the detail of `GET /health`): the ledger's `METRICS_TOKEN` (not an agency's key): `Authorization: Bearer <METRICS_TOKEN>`.",
  },
} as const;

/** Operations that take a credential of their own rather than a principal's. */
const OWN_SECURITY: Readonly<Record<string, ReadonlyArray<Record<string, string[]>>>> = {
  MetricsController_scrape: [{ metricsToken: [] }],
  // Optional: anyone gets each check's status; the scraper's token gets the detail too.
  HealthController_check: [{}, { metricsToken: [] }],
};

/** The RFC 9457 problem document every error is answered with (see problem-details.filter.ts). */
export const PROBLEM_SCHEMA = {
  type: 'object',
  description:
    'An RFC 9457 problem document. Branch on `code` (stable); `title` and `detail` are for people.',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: {
      type: 'string',
      description: '`urn:nrm-ledger:problem:<code in lower case>`, or `about:blank` for a plain HTTP error.',
      example: 'urn:nrm-ledger:problem:referral.respond_by_in_past',
    },
    title: { type: 'string', example: 'This breaks a rule of the referral mechanism' },
    status: { type: 'integer', format: 'int32', example: 422 },
    code: {
      type: 'string',
      description:
        'Stable, machine-readable. The values each operation can answer are listed on its responses.',
      example: 'REFERRAL.RESPOND_BY_IN_PAST',
    },
    detail: { type: 'string', example: 'respondBy must be in the future.' },
    field: { type: 'string', description: 'The offending input, when there is one.', example: 'respondBy' },
    errors: {
      type: 'array',
      description: 'Every offending input of a 400, when there are several.',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
    retryAfterSeconds: {
      type: 'integer',
      description: 'With a 409 from a lost race or a 503: when to try again (also sent as `Retry-After`).',
    },
    requestId: {
      type: 'string',
      description: 'The request id (also the `X-Request-Id` header); quote it in a support call.',
    },
  },
} as const;

export const COMMAND_RESULT_SCHEMA = {
  type: 'object',
  description:
    'What a command recorded. A command that creates something also names its id (`caseId`, `referralId`, `agencyId`…).',
  required: ['stream', 'revision', 'position', 'eventIds', 'replayed'],
  properties: {
    stream: { type: 'string', description: 'The record the events were appended to.' },
    revision: { type: 'integer', description: 'The revision of that record after the command.' },
    position: { type: 'integer', description: 'The position of the last event in the whole ledger.' },
    eventIds: { type: 'array', items: { type: 'string', format: 'uuid' } },
    replayed: {
      type: 'boolean',
      description: 'True when this answers a retry with the same Idempotency-Key: nothing new was recorded.',
    },
    // The id of what a command created, when it creates something.
    caseId: { type: 'string', format: 'uuid', description: 'Reporting a case, making a referral.' },
    subjectId: { type: 'string', format: 'uuid', description: 'Reporting a case, erasing a subject.' },
    referralId: { type: 'string', format: 'uuid', description: 'Making a referral.' },
    consentId: { type: 'string', format: 'uuid', description: 'Granting consent.' },
    lawfulBasisId: { type: 'string', format: 'uuid', description: 'Recording a lawful basis.' },
    planId: { type: 'string', format: 'uuid', description: 'Agreeing a support plan.' },
    agencyId: { type: 'string', description: 'Registering an agency.' },
    principalId: { type: 'string', description: 'Registering a principal.' },
    keyId: { type: 'string', description: 'Issuing an API key.' },
    apiKey: {
      type: 'string',
      nullable: true,
      description: 'Issuing an API key: the key itself, shown in the first answer only (null in a replay).',
    },
    accessEventId: { type: 'string', format: 'uuid', description: 'Reviewing a break-glass access.' },
    finding: { type: 'string', description: 'Reviewing a break-glass access: the finding recorded.' },
  },
  additionalProperties: true,
} as const;

const COMMAND_RESULT_EXAMPLE = {
  stream: 'referral-2f9c1d2e-7a43-4f0b-9a51-0c1f7e3b9d10',
  revision: 0,
  position: 1042,
  eventIds: ['7b0e3a52-1c4d-4e8f-a6b1-5d2c9f0e8a31'],
  replayed: false,
};

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry return the first result (marked `replayed: true`) and record nothing new. 1 to 200 visible ASCII characters; a UUID is a good choice. A key is scoped to the principal and the record the command changes; the same key with another request on that record is refused: 422 `IDEMPOTENCY.KEY_REUSED`. After 503 `EVENT_STORE.OUTCOME_UNKNOWN`, send the request again with the same key: it is recorded at most once.',
  schema: { type: 'string', minLength: 1, maxLength: 200, example: '0d6f3c1e-9b2a-4c7d-8e5f-1a2b3c4d5e6f' },
};

const RETRY_AFTER = {
  description: 'Seconds to wait before trying again.',
  schema: { type: 'integer', minimum: 0, example: 1 },
};

const STATUS_WORDS: Readonly<Record<number, string>> = {
  400: 'The request is malformed: `field` names the offending input.',
  401: 'No valid credentials: send one API key or JWT.',
  403: 'Not allowed for your agency or role (`ACCESS.NOT_COVERED`: the shared categories do not cover it).',
  404: 'Not found, or not yours to see: the two are not told apart.',
  409: 'Not possible in the current state of the record, or someone changed it first: reload and retry after `Retry-After` when sent.',
  413: 'The body is larger than the ledger accepts.',
  415: 'Commands take `application/json` only.',
  422: 'This breaks a rule of the referral mechanism: branch on `code`.',
  503: 'Not available just now (`READ_MODEL.BEHIND`: the read model is catching up): retry after `Retry-After` when sent.',
};

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

const isCommand = (answers: ReadonlyMap<string, number>) => answers.has('IDEMPOTENCY.KEY_REUSED');

/** An example body assembled from the example of each property of a request schema. */
function exampleOf(schema: Json | undefined, schemas: Readonly<Record<string, Json>>, depth = 0): unknown {
  if (!schema || depth > 4) return undefined;
  const ref = schema.$ref;
  if (typeof ref === 'string')
    return exampleOf(schemas[ref.replace('#/components/schemas/', '')], schemas, depth + 1);
  if (schema.example !== undefined) return schema.example;
  const properties = schema.properties as Record<string, Json> | undefined;
  if (schema.type === 'object' || properties) {
    const out: Json = {};
    for (const [name, property] of Object.entries(properties ?? {})) {
      const value = exampleOf(property, schemas, depth + 1);
      if (value !== undefined) out[name] = value;
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.type === 'array') {
    const item = exampleOf(schema.items as Json | undefined, schemas, depth + 1);
    return item === undefined ? undefined : [item];
  }
  return undefined;
}

/**
 * Completes the document Nest's decorators produce into the contract agencies generate clients from:
 * the security every operation needs (a root default, `[]` on public ones), servers and licence, the
 * problem document once, and on each operation the error statuses and `code` values it can answer
 * (from api-answers.ts), `Retry-After` where the ledger sends it, `Idempotency-Key` on commands, and
 * examples of each command's body and answer.
 */
export function completeDocument(
  document: OpenAPIObject,
  publicOperations: ReadonlySet<string>,
): OpenAPIObject {
  const doc = document as unknown as Json & {
    info: Json;
    paths: Record<string, Record<string, Json>>;
    components: Json & { schemas?: Record<string, Json> };
  };
  doc.info.license = { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' };
  delete doc.info.contact;
  doc.servers = [{ url: '/', description: 'The ledger serving this document.' }];
  doc.security = [{ bearer: [] }, { apiKey: [] }];
  doc.components.securitySchemes = SECURITY_SCHEMES;
  const schemas = (doc.components.schemas ??= {});
  schemas.Problem = PROBLEM_SCHEMA;
  schemas.CommandResult = COMMAND_RESULT_SCHEMA;
  doc.components.parameters = { IdempotencyKey: IDEMPOTENCY_KEY };
  doc.components.headers = {
    RetryAfter: RETRY_AFTER,
    WWWAuthenticate: {
      description: 'The scheme to authenticate with.',
      schema: { type: 'string', example: 'Bearer' },
    },
  };

  const tags = new Set<string>();
  for (const item of Object.values(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      for (const tag of (operation.tags as string[] | undefined) ?? []) tags.add(tag);
      const operationId = String(operation.operationId);
      const answers = answersOf(operationId);
      const own = OWN_SECURITY[operationId];
      if (own !== undefined) operation.security = own.map((requirement) => ({ ...requirement }));
      else if (publicOperations.has(operationId)) operation.security = [];
      else delete operation.security;

      // Idempotency-Key: one shared definition, on every command.
      const parameters = ((operation.parameters as Json[] | undefined) ?? []).filter(
        (p) => !(p.in === 'header' && String(p.name).toLowerCase() === 'idempotency-key'),
      );
      if (isCommand(answers)) parameters.unshift({ $ref: '#/components/parameters/IdempotencyKey' });
      operation.parameters = parameters;

      const responses = (operation.responses ??= {}) as Record<string, Json>;
      for (const [status, response] of Object.entries(responses)) {
        if (response.description === '' || response.description === undefined)
          response.description = STATUS_CODES[Number(status)] ?? 'Answer';
        // A command's answer: what it recorded.
        if (isCommand(answers) && /^2/.test(status) && response.content === undefined)
          response.content = {
            'application/json': {
              schema: { $ref: '#/components/schemas/CommandResult' },
              example: COMMAND_RESULT_EXAMPLE,
            },
          };
      }
      // A command's body: an example assembled from its schema's property examples.
      const body = (operation.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      const json = body?.['application/json'];
      if (json && json.example === undefined) {
        const example = exampleOf(json.schema as Json | undefined, schemas);
        if (example !== undefined) json.example = example;
      }

      const byStatus = new Map<number, string[]>();
      for (const [code, status] of answers) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
      for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) {
        codes.sort();
        const headers: Json = {};
        if (status === 401) headers['WWW-Authenticate'] = { $ref: '#/components/headers/WWWAuthenticate' };
        if (status === 409 || status === 503)
          headers['Retry-After'] = { $ref: '#/components/headers/RetryAfter' };
        responses[String(status)] = {
          description: `${STATUS_WORDS[status] ?? STATUS_CODES[status]} \`code\`: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
          ...(Object.keys(headers).length > 0 ? { headers } : {}),
          content: {
            'application/problem+json': {
              schema: {
                allOf: [
                  { $ref: '#/components/schemas/Problem' },
                  {
                    // `type` and `title` repeated from Problem: linters that do not resolve allOf (as
                    // openapi-typescript's) look for them next to the narrowed `status` and `code`.
                    type: 'object',
                    required: ['type', 'title', 'status', 'code'],
                    properties: {
                      type: { type: 'string' },
                      title: { type: 'string' },
                      status: { type: 'integer', enum: [status] },
                      code: { type: 'string', enum: codes },
                    },
                  },
                ],
              },
              example: {
                type: codes[0]!.startsWith('HTTP.')
                  ? 'about:blank'
                  : `urn:nrm-ledger:problem:${codes[0]!.toLowerCase()}`,
                title: STATUS_CODES[status],
                status,
                code: codes[0],
                requestId: 'req-3f2a9c',
              },
            },
          },
        };
      }
    }
  }
  doc.tags = [...tags]
    .sort()
    .map((name) => ({ name, description: TAG_WORDS[name] ?? `Operations on ${name}.` }));
  return document;
}

const TAG_WORDS: Readonly<Record<string, string>> = {
  registry: 'Agencies, principals and their API keys.',
  identification: 'Reporting a presumed victim and deciding on reasonable and conclusive grounds.',
  consent: 'Consent, its withdrawal and refusal, and lawful bases other than consent.',
  referral: 'Referrals between agencies, at home and abroad.',
  support: 'Reflection and recovery period, support plans and services.',
  'cases (reads)': 'What an agency may see of the cases it is party to.',
  oversight: 'The oversight body: access logs, denials, break-glass review.',
  audit: 'The signed, append-only audit log: checkpoints and proofs.',
  health: 'Liveness and readiness.',
};
