import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ProblemException } from './problem';

/** Ids are UUIDs or short slugs: letters, digits, '.', '_' and '-', up to 80 characters. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
export const ID_DESCRIPTION = 'a UUID or slug: letters, digits, ".", "_" and "-", 1 to 80 characters';

/** Validates an id in the path; a malformed one is a 400 naming the parameter. */
@Injectable()
export class IdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (typeof value === 'string' && ID_PATTERN.test(value)) return value;
    const field = metadata.data ?? 'id';
    throw new ProblemException({
      status: 400,
      title: 'Invalid request',
      code: 'REQUEST.INVALID_ID',
      field,
      detail: `${field} must be ${ID_DESCRIPTION}.`,
    });
  }
}

/** An instant with date, time and zone (ISO-8601), e.g. 2026-12-02T17:00:00Z: a date alone is ambiguous across zones. */
export const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
export const instantMessage = (field: string) =>
  `${field} must be an ISO-8601 instant with a time zone, e.g. 2026-12-02T17:00:00Z`;
