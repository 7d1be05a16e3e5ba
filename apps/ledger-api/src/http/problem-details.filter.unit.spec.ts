import type { ArgumentsHost } from '@nestjs/common';
import { EventStoreClosed, EventStoreOutcomeUnknown, EventStoreUnavailable } from '@nrm/event-store';
import { ProblemDetailsFilter } from './problem-details.filter';
import { caseNotFound, forbidden, invalid, unavailable } from '@nrm/shared-kernel';

/** Runs the filter on one error and returns what the reply was given. */
function answer(error: unknown): {
  status?: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
} {
  const sent: { status?: number; headers: Record<string, string>; body: Record<string, unknown> } = {
    headers: {},
    body: {},
  };
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    send(payload: string) {
      sent.body = JSON.parse(payload) as Record<string, unknown>;
      return reply;
    },
  };
  const host = {
    switchToHttp: () => ({ getRequest: () => ({ raw: { id: 'req-1' } }), getResponse: () => reply }),
  } as unknown as ArgumentsHost;
  const filter = new ProblemDetailsFilter();
  (filter as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
  filter.catch(error, host);
  return sent;
}

describe('ProblemDetailsFilter and the event store', () => {
  it('answers an unreachable event store with 503, a Retry-After and a stable code, without the reason', () => {
    const sent = answer(new EventStoreUnavailable('server unreachable (connect ECONNREFUSED 10.0.0.7:2113)'));
    expect(sent.status).toBe(503);
    expect(sent.headers['content-type']).toBe('application/problem+json');
    expect(sent.headers['retry-after']).toBe('5');
    expect(sent.body).toMatchObject({
      status: 503,
      code: 'EVENT_STORE.UNAVAILABLE',
      type: 'urn:nrm-ledger:problem:event_store.unavailable',
      requestId: 'req-1',
    });
    expect(JSON.stringify(sent.body)).not.toMatch(/10\.0\.0\.7/);
  });

  it('answers an append of unknown outcome with 503 OUTCOME_UNKNOWN and a Retry-After, telling to resend with the same key', () => {
    const sent = answer(new EventStoreOutcomeUnknown('case-123', 'no answer before the deadline'));
    expect(sent.status).toBe(503);
    expect(sent.headers['retry-after']).toBe('2');
    expect(sent.body).toMatchObject({ status: 503, code: 'EVENT_STORE.OUTCOME_UNKNOWN' });
    expect(sent.body.detail).toMatch(/same Idempotency-Key/);
    expect(JSON.stringify(sent.body)).not.toMatch(/case-123/);
  });

  it('still answers other event-store errors with 503', () => {
    expect(answer(new EventStoreClosed())).toMatchObject({
      status: 503,
      body: { code: 'EVENT_STORE.CLOSED' },
    });
  });
});

describe('ProblemDetailsFilter and domain errors', () => {
  it('answers the read side’s refusals byte for byte as the problems they replaced', () => {
    const cases: [unknown, number, string, string | undefined][] = [
      [
        awaitBehind(),
        503,
        '{"type":"urn:nrm-ledger:problem:read_model.behind","status":503,"title":"Read model behind","code":"READ_MODEL.BEHIND","detail":"The read model has not caught up with the latest records; try again shortly.","retryAfterSeconds":1,"requestId":"req-1"}',
        '1',
      ],
      [
        invalid('REQUEST.INVALID', 'asOf is wrong.', 'asOf'),
        400,
        '{"type":"urn:nrm-ledger:problem:request.invalid","status":400,"title":"Invalid request","code":"REQUEST.INVALID","field":"asOf","detail":"asOf is wrong.","requestId":"req-1"}',
        undefined,
      ],
      [
        forbidden('ACCESS.NOT_COVERED', 'Not covered.', undefined, { title: 'Not covered by consent' }),
        403,
        '{"type":"urn:nrm-ledger:problem:access.not_covered","status":403,"title":"Not covered by consent","code":"ACCESS.NOT_COVERED","detail":"Not covered.","requestId":"req-1"}',
        undefined,
      ],
      [
        caseNotFound(),
        404,
        '{"type":"urn:nrm-ledger:problem:case.not_found","status":404,"title":"Not Found","code":"CASE.NOT_FOUND","field":"caseId","detail":"No case with this id is known to your agency.","requestId":"req-1"}',
        undefined,
      ],
    ];
    for (const [error, status, body, retryAfter] of cases) {
      const sent = answer(error);
      expect(sent.status).toBe(status);
      expect(JSON.stringify(sent.body)).toBe(body);
      expect(sent.headers['retry-after']).toBe(retryAfter);
    }
  });
});

function awaitBehind(): unknown {
  return unavailable(
    'READ_MODEL.BEHIND',
    'Read model behind',
    'The read model has not caught up with the latest records; try again shortly.',
    1,
  );
}
