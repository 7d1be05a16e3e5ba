/**
 * A command's context, read once: `read` runs the first time the decision asks for it, and every
 * later attempt (a retry after a conflict on the command's own stream) gets that first result.
 * A replayed Idempotency-Key never asks, so it reads nothing.
 */
export function once<T>(read: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= read());
}
