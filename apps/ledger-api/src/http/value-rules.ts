import {
  calendarDateMessage,
  idListProblem,
  instantMessage,
  isCalendarDate,
  isInstant,
  isRegionCode,
  regionMessage,
  textProblem,
  type IdListBounds,
  type TextBounds,
} from '@nrm/shared-kernel';
import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * class-validator faces of the shared kernel's value rules: a DTO names the field early, with the
 * same parser the deciders use, so that no rule is written twice. (`$property` becomes the field.)
 */

/** An ISO-8601 instant with a zone on a real calendar day (`parseInstant`). */
export const IsInstant = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isInstant',
      validator: { validate: isInstant, defaultMessage: () => instantMessage('$property') },
    },
    options,
  );

/** A real `YYYY-MM-DD` calendar date within the kernel's year range (`isCalendarDate`). */
export const IsCalendarDate = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isCalendarDate',
      validator: { validate: isCalendarDate, defaultMessage: () => calendarDateMessage('$property') },
    },
    options,
  );

/** Text within bounds, without control or bidirectional override characters (`textProblem`). */
export const IsBoundedText = (bounds: TextBounds, options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isBoundedText',
      constraints: [bounds],
      validator: {
        validate: (value) => textProblem(value, bounds, 'text') === undefined,
        defaultMessage: (args) => textProblem(args?.value, bounds, args?.property ?? 'text') ?? '',
      },
    },
    options,
  );

/** A bounded list of distinct ids of one shape (`idListProblem`). */
export const IsIdList = (bounds: IdListBounds, options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isIdList',
      constraints: [bounds],
      validator: {
        validate: (value) => idListProblem(value, bounds, 'ids') === undefined,
        defaultMessage: (args) => idListProblem(args?.value, bounds, args?.property ?? 'ids') ?? '',
      },
    },
    options,
  );

/** A coarse region code (`isRegionCode`). */
export const IsRegionCode = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isRegionCode',
      validator: { validate: isRegionCode, defaultMessage: () => regionMessage('$property') },
    },
    options,
  );
