import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_CONTENT_TYPE, type ProblemDocument } from './problem';

const DETAILS: Readonly<Record<string, string>> = {
  FST_ERR_BAD_URL: 'The path could not be decoded: it holds an invalid percent-encoding.',
  FST_ERR_MAX_PARAM_LENGTH: 'A part of the path is longer than any id the ledger uses.',
};

/**
 * Errors Fastify's router raises before any route, hook or Nest filter runs: a path
 * that does not percent-decode (`/cases/%`, `%C0%AF`) is FST_ERR_BAD_URL, a path
 * parameter over the router's length limit is FST_ERR_MAX_PARAM_LENGTH. Without
 * this handler Fastify answers them with its own plain JSON; with it they are
 * problem documents like every other error, carrying the request id. The detail
 * is fixed text: the raw path is not echoed.
 */
export function frameworkErrorAsProblem(
  error: Error & { code?: string; statusCode?: number },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const status =
    typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
      ? error.statusCode
      : 400;
  const body: ProblemDocument = {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Bad Request',
    status,
    code: `HTTP.${error.code ?? 'BAD_REQUEST'}`,
    detail: DETAILS[error.code ?? ''] ?? 'The request could not be routed.',
    requestId: request.id,
  };
  void reply
    .status(status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .header('x-request-id', request.id)
    .send(JSON.stringify(body));
}

/**
 * A request Node cannot even parse (bad header bytes, headers or URL over Node's size limit) still
 * gets a problem document, then the socket closes. Over-large headers are 431, as Node itself
 * would answer; anything else 400. The answer to a HEAD request carries no body: a client reading
 * one after a HEAD would take it for the start of a broken next response.
 */
export function unparsableRequestAsProblem(
  error: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
): void {
  if (!socket.writable) return;
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[status],
    status,
    code: tooLarge ? 'HTTP.HEADERS_TOO_LARGE' : 'HTTP.MALFORMED_REQUEST',
    detail: tooLarge
      ? 'The request line and headers are larger than the server accepts.'
      : 'The request could not be parsed as HTTP.',
  });
  const head =
    Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/problem+json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${head ? '' : body}`,
  );
}
