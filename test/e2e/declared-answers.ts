/**
 * Which (status, code) answers the served OpenAPI document declares for each operation, and a tally
 * of the answers a booted ledger actually gave, so that a test can fail on one the document does not
 * declare, naming the operation (its operationId is the key in apps/ledger-api/src/http/api-answers.ts).
 */

interface ProblemResponse {
  readonly content?: Readonly<
    Record<
      string,
      {
        readonly schema?: {
          readonly allOf?: ReadonlyArray<{
            readonly properties?: { readonly code?: { readonly enum?: readonly string[] } };
          }>;
        };
      }
    >
  >;
}

export interface DocumentWithAnswers {
  readonly paths: Readonly<
    Record<
      string,
      Readonly<
        Record<
          string,
          { readonly operationId?: string; readonly responses?: Readonly<Record<string, ProblemResponse>> }
        >
      >
    >
  >;
}

export interface DeclaredOperation {
  readonly operationId: string;
  /** Per error status, the codes declared for it. */
  readonly declared: ReadonlyMap<number, ReadonlySet<string>>;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/** Fastify's `/cases/:caseId` is OpenAPI's `/cases/{caseId}`. */
export const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Each documented operation, by `METHOD /openapi/path`, with the problems it declares. */
export function declaredOperations(document: DocumentWithAnswers): Map<string, DeclaredOperation> {
  const out = new Map<string, DeclaredOperation>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      const declared = new Map<number, Set<string>>();
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        if (Number(status) < 400) continue;
        const codes =
          response.content?.['application/problem+json']?.schema?.allOf?.[1]?.properties?.code?.enum;
        declared.set(Number(status), new Set(codes ?? []));
      }
      out.set(`${method.toUpperCase()} ${path}`, { operationId: String(operation.operationId), declared });
    }
  }
  return out;
}

/** A tally of the error answers seen, per operation, to compare with what the document declares. */
export class AnswerTally {
  private readonly seen = new Map<string, number>();

  /** Records one answer; `operation` is `METHOD /openapi/path` (HEAD counts as its GET). */
  record(operation: string, status: number, code: string | undefined): void {
    if (status < 400) return;
    const key = `${operation.replace(/^HEAD /, 'GET ')}\t${status}\t${code ?? ''}`;
    this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
  }

  get answers(): number {
    return [...this.seen.values()].reduce((a, b) => a + b, 0);
  }

  get distinct(): number {
    return this.seen.size;
  }

  /**
   * Every answer the document does not declare for its operation, as a sentence the lead can act on.
   * An answer without a code (a HEAD's bodyless answer) is checked by its status only.
   */
  undeclared(document: DocumentWithAnswers): string[] {
    const operations = declaredOperations(document);
    const out: string[] = [];
    for (const [key, count] of this.seen) {
      const [operation, statusText, code] = key.split('\t') as [string, string, string];
      const status = Number(statusText);
      const declared = operations.get(operation);
      if (!declared) continue; // not a documented operation (an unrouted path): checked elsewhere
      const codes = declared.declared.get(status);
      if (codes && (code === '' || codes.has(code))) continue;
      out.push(
        `${declared.operationId} (${operation}) answered ${status} ${code || '(no body)'} ×${count}, ` +
          `which its documentation does not declare: add it to OPERATION_ANSWERS.${declared.operationId} ` +
          `in apps/ledger-api/src/http/api-answers.ts`,
      );
    }
    return out.sort();
  }
}
