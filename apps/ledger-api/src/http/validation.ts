import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
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

/**
 * Validates every body with class-validator: unknown fields are refused, not
 * silently dropped, and every problem names its field (`services[2]`, `capture.language`).
 */
export function validationPipe(): ValidationPipe {
  return new LedgerValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
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
  });
}
