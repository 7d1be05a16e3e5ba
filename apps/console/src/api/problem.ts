/** An answer of the ledger other than 2xx, or no answer at all (status 0), as the console shows it. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string | undefined,
    readonly field: string | undefined,
    readonly requestId: string | undefined,
  ) {
    super(`${status} ${code}`);
    this.name = 'ApiProblem';
  }
}

interface ProblemBody {
  readonly code?: unknown;
  readonly detail?: unknown;
  readonly field?: unknown;
  readonly requestId?: unknown;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function problemOf(response: Response, body: unknown): ApiProblem {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as ProblemBody;
  return new ApiProblem(
    response.status,
    text(problem.code) ?? `HTTP.${response.status}`,
    text(problem.detail),
    text(problem.field),
    text(problem.requestId) ?? response.headers.get('x-request-id') ?? undefined,
  );
}

/**
 * The data of a 2xx answer, or an ApiProblem. Where the OpenAPI document declares the answer's
 * schema, its type is inferred (and a screen that expects another shape fails to compile); most
 * reads declare none yet, so their screens state the shape they read, and read it defensively.
 */
export async function answer<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    // fetch rejects only when no answer came: the ledger is unreachable or the network is down.
    throw new ApiProblem(
      0,
      'NETWORK.UNREACHABLE',
      error instanceof Error ? error.message : undefined,
      undefined,
      undefined,
    );
  }
  if (result.response.ok) return (result.data ?? {}) as T;
  throw problemOf(result.response, result.error);
}
