import {
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
  type ValidationPipeOptions,
} from '@nestjs/common';
import { compileDto, UnsupportedDto, type CompiledDto } from './dto-schema';
import { ProblemException, type FieldProblem } from './problem';

function flatten(errors: readonly ValidationError[], parent = ''): FieldProblem[] {
  const out: FieldProblem[] = [];
  if (!parent && errors.some((e) => /^\d+$/.test(e.property) || e.property === '')) {
    return [{ field: 'body', message: 'body must be a JSON object' }]; // an array, string or number was sent
  }
  for (const error of errors) {
    const field = parent
      ? /^\d+$/.test(error.property)
        ? `${parent}[${error.property}]`
        : `${parent}.${error.property}`
      : error.property;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      if (constraint === 'whitelistValidation') out.push({ field, message: `${field} is not a known field` });
      else if (!field) out.push({ field: 'body', message: 'body must be a JSON object' });
      else out.push({ field, message: message.replace(/^\S+ /, `${field} `) });
    }
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}

/** Refuses a JSON body that is not an object before class-transformer turns it into an empty one. */
class LedgerValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Only for bodies bound to a DTO class; a handler that takes the raw body validates (and audits) it itself.
    const dto = typeof metadata.metatype === 'function' && metadata.metatype !== Object;
    if (
      metadata.type === 'body' &&
      dto &&
      (typeof value !== 'object' || value === null || Array.isArray(value))
    ) {
      throw bodyNotAnObject();
    }
    return super.transform(value, metadata);
  }
}

function bodyNotAnObject(): ProblemException {
  return new ProblemException({
    status: 400,
    title: 'Invalid request',
    code: 'REQUEST.INVALID',
    field: 'body',
    detail: 'body must be a JSON object',
    errors: [{ field: 'body', message: 'body must be a JSON object' }],
  });
}

const OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  stopAtFirstError: false,
  validationError: { target: false, value: false },
  exceptionFactory: (errors: ValidationError[]) => {
    const problems = flatten(errors);
    return new ProblemException({
      status: 400,
      title: 'Invalid request',
      code: 'REQUEST.INVALID',
      detail: problems.map((p) => p.message).join('; ') || 'The request is invalid.',
      field: problems[0]?.field,
      errors: problems,
    });
  },
};

/**
 * Validates every body with class-validator: unknown fields are refused, not
 * silently dropped, and every problem names its field (`services[2]`, `capture.language`).
 */
export function validationPipe(): ValidationPipe {
  return new LedgerValidationPipe(OPTIONS);
}

const NOT_DTOS: ReadonlySet<unknown> = new Set([String, Boolean, Number, Array, Object, Buffer, Date]);

/**
 * The global pipe: a body or query bound to a DTO class is checked by the JSON Schema compiled
 * once from the class's decorators (`dto-schema.ts`), with class-validator's own messages in the
 * same problem; no instance is built and nothing is validated by class-validator per request.
 * The handler gets the parsed JSON (a query with its `@Type`/`@Transform` conversions applied).
 * A class whose rules the compiler cannot translate exactly is validated by class-validator, as
 * every class was before.
 */
export class CompiledValidationPipe extends LedgerValidationPipe {
  private readonly compiled = new Map<unknown, CompiledDto | undefined>();

  constructor() {
    super(OPTIONS);
  }

  /** The compiled check of `metatype`, compiled at its first use (undefined: class-validator's). */
  compiledFor(metatype: unknown): CompiledDto | undefined {
    if (this.compiled.has(metatype)) return this.compiled.get(metatype);
    let dto: CompiledDto | undefined;
    try {
      dto = compileDto(metatype as new () => unknown);
    } catch (error) {
      if (!(error instanceof UnsupportedDto)) throw error;
    }
    this.compiled.set(metatype, dto);
    return dto;
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { type, metatype } = metadata;
    if ((type === 'body' || type === 'query') && typeof metatype === 'function' && !NOT_DTOS.has(metatype)) {
      const dto = this.compiledFor(metatype);
      if (dto !== undefined) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          if (type === 'body') throw bodyNotAnObject();
          value = {};
        }
        const input = dto.prepare(value as Record<string, unknown>);
        const errors = dto.check(input);
        if (errors.length > 0) throw this.exceptionFactory(errors);
        return input;
      }
    }
    return super.transform(value, metadata);
  }
}

/** The global pipe (one per app: each DTO class is compiled once, at its first request). */
export function compiledValidationPipe(): CompiledValidationPipe {
  return new CompiledValidationPipe();
}
