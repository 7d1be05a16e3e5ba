import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ID_DESCRIPTION, ID_SHAPE } from '@nrm/shared-kernel';
import { ProblemException } from './problem';

/** Ids are UUIDs or short slugs: letters, digits, '.', '_' and '-', up to 80 characters (the shared kernel's ID_SHAPE). */
export const ID_PATTERN = ID_SHAPE;

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
