import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ExceptionFilter,
} from '@nestjs/common';
import {
  DuplicateEventId,
  EventStoreError,
  EventStoreOutcomeUnknown,
  EventStoreUnavailable,
  InvalidEventStoreInput,
  WrongExpectedRevision,
} from '@nrm/event-store';
import { DomainError } from '@nrm/shared-kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CommandConflict, IdempotencyKeyReused } from '@nrm/runtime/commands';
import { STATUS_CODES } from 'node:http';
import {
  PROBLEM_CONTENT_TYPE,
  ProblemException,
  problemType,
  type Problem,
  type ProblemDocument,
} from './problem';

function httpCode(status: number): string {
  return `HTTP.${(STATUS_CODES[status] ?? 'ERROR').toUpperCase().replace(/[^A-Z]+/g, '_')}`;
}

/** Errors raised by Fastify itself (bad JSON, wrong media type, body too large) carry a 4xx statusCode. */
function fastifyClientError(error: unknown): { statusCode: number; code?: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const statusCode = (error as { statusCode?: unknown }).statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500)
    return { statusCode, code: (error as { code?: string }).code };
  return undefined;
}

/**
 * Turns every error into `application/problem+json`, in one place. Internal
 * errors are logged with the request id and answered without their message:
 * an error text may quote stored data.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetails');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const requestId = (request.raw as { id?: unknown }).id;
    const problem = problemOf(exception);
    if (problem.status >= 500) {
      this.logger.error(
        {
          err: exception instanceof Error ? { name: exception.name, stack: exception.stack } : undefined,
          requestId,
        },
        'request failed',
      );
    }
    const body: ProblemDocument = {
      type: problem.type ?? (problem.code.startsWith('HTTP.') ? 'about:blank' : problemType(problem.code)),
      ...problem,
      ...(typeof requestId === 'string' ? { requestId } : {}),
    };
    if (body.status === 401) void reply.header('www-authenticate', 'Bearer');
    if (body.retryAfterSeconds !== undefined)
      void reply.header('retry-after', String(body.retryAfterSeconds));
    void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }
}

/** The problem an error is answered with (also what the refusal audit records of it). */
export function problemOf(exception: unknown): Problem {
  if (exception instanceof ProblemException) return exception.problem;
  if (exception instanceof DomainError) {
    const status = {
      forbidden: 403,
      conflict: 409,
      rule: 422,
      'not-found': 404,
      invalid: 400,
      unavailable: 503,
    }[exception.kind];
    const title =
      exception.options.title ??
      {
        forbidden: 'Not allowed for your agency or role',
        conflict: 'Not possible in the current state of the record',
        rule: 'This breaks a rule of the referral mechanism',
        // As every other 404: a title must not tell one kind of "not found" from another.
        'not-found': 'Not Found',
        invalid: 'Invalid request',
        unavailable: 'Not available just now',
      }[exception.kind];
    const { retryAfterSeconds } = exception.options;
    return {
      status,
      title,
      code: exception.code,
      // field before detail, as every ProblemException: a refusal reads the same byte for byte
      // whichever layer raised it (the existence tests compare raw bodies).
      ...(exception.field ? { field: exception.field } : {}),
      detail: exception.message,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    };
  }
  if (exception instanceof IdempotencyKeyReused) {
    return {
      status: 422,
      title: 'Idempotency-Key reused',
      code: exception.code,
      detail: exception.message,
      field: 'Idempotency-Key',
    };
  }
  if (exception instanceof CommandConflict) {
    return {
      status: 409,
      title: 'The record changed meanwhile',
      code: exception.code,
      detail: exception.message,
      retryAfterSeconds: 1,
    };
  }
  if (exception instanceof InvalidEventStoreInput) {
    return {
      status: 400,
      title: 'Invalid input',
      code: exception.code,
      detail: exception.message,
      field: exception.field,
    };
  }
  if (exception instanceof WrongExpectedRevision) {
    return {
      status: 409,
      title: 'The record changed meanwhile',
      code: exception.code,
      detail: 'Someone else recorded a change to this record first. Reload it and try again.',
      retryAfterSeconds: 1,
    };
  }
  if (exception instanceof DuplicateEventId) {
    return {
      status: 409,
      title: 'Already recorded',
      code: exception.code,
      detail: 'An event with this id is already recorded elsewhere.',
    };
  }
  if (exception instanceof EventStoreOutcomeUnknown) {
    return {
      status: 503,
      title: 'Outcome unknown',
      code: exception.code,
      detail:
        'The change was sent to the event store, and no confirmation came back: it may or may not be recorded. Send the same request again with the same Idempotency-Key: it is recorded at most once. Without a key, check the record before sending it again.',
      retryAfterSeconds: 2,
    };
  }
  if (exception instanceof EventStoreUnavailable) {
    return {
      status: 503,
      title: 'Event store unavailable',
      code: exception.code,
      detail:
        'The ledger cannot reach its event store just now. Try again shortly; a command sent again with the same Idempotency-Key is recorded at most once.',
      retryAfterSeconds: 5,
    };
  }
  if (exception instanceof EventStoreError) {
    return { status: 503, title: 'Event store unavailable', code: exception.code };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? response.message
        : response;
    // @nestjs/terminus answers an unhealthy check with its per-check details: keep them.
    const checks =
      typeof response === 'object' && response !== null && 'details' in response
        ? { checks: response.details }
        : {};
    return {
      status,
      title: STATUS_CODES[status] ?? 'Error',
      code: httpCode(status),
      ...(typeof message === 'string' ? { detail: message } : {}),
      ...checks,
    };
  }
  const client = fastifyClientError(exception);
  if (client) {
    return {
      status: client.statusCode,
      title: STATUS_CODES[client.statusCode] ?? 'Bad request',
      code: client.code ? `HTTP.${client.code}` : httpCode(client.statusCode),
      detail: exception instanceof Error ? exception.message : undefined,
    };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    title: 'Internal Server Error',
    code: 'HTTP.INTERNAL_SERVER_ERROR',
  };
}
