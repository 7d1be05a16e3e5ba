import 'reflect-metadata';
import { MyCasesQuery, MyReferralsQuery } from '../cases/case-reads.controller';
import { GrantConsentDto } from '../consent/consent.dto';
import { StartReflectionPeriodDto } from '../support/support.dto';
import { MakeReferralDto } from '../referral/referral.dto';
import { compileDto } from './dto-schema';
import { ProblemException } from './problem';
import { CompiledValidationPipe } from './validation';

const pipe = new CompiledValidationPipe();

async function problem(metatype: new () => unknown, value: unknown, type: 'body' | 'query' = 'body') {
  try {
    await pipe.transform(value, { type, metatype });
  } catch (error) {
    if (error instanceof ProblemException) return error.problem;
    throw error;
  }
  return undefined;
}

const grant = () => ({
  agencyIds: ['ngo-safe-harbour'],
  categories: ['case-status'],
  purposes: ['assistance'],
  expiresAt: '2027-06-30T00:00:00Z',
  capture: { method: 'written', language: 'ro', interpreterUsed: false },
});

describe('DTO rules compiled to JSON Schema (invented data)', () => {
  it('shows the rules as JSON Schema: enum, pattern, items, additionalProperties', () => {
    const { schema } = compileDto(MakeReferralDto);
    const text = JSON.stringify(schema);
    expect(text).toContain('"additionalProperties":false');
    expect(text).toContain('"enum":["assistance"');
    expect(text).toContain('"pattern":"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"');
    expect(text).toContain('"items"');
  });

  it('passes a valid body through as parsed, and names a nested field and an unknown key', async () => {
    const body = grant();
    await expect(pipe.transform(body, { type: 'body', metatype: GrantConsentDto })).resolves.toBe(body);
    const wrong = {
      ...grant(),
      capture: { method: 'written', language: 'Romanian', interpreterUsed: 'no' },
      x: 1,
    };
    expect(await problem(GrantConsentDto, wrong)).toMatchObject({
      status: 400,
      code: 'REQUEST.INVALID',
      field: 'x',
      errors: [
        { field: 'x', message: 'x is not a known field' },
        {
          field: 'capture.language',
          message: 'capture.language must be a language code such as en, ro or vi',
        },
        { field: 'capture.interpreterUsed', message: 'capture.interpreterUsed must be a boolean value' },
      ],
    });
  });

  it('refuses a missing nested object and a body that is not an object, naming them', async () => {
    const { capture: _, ...withoutCapture } = grant();
    expect(await problem(GrantConsentDto, withoutCapture)).toMatchObject({
      field: 'capture',
      errors: [{ field: 'capture', message: 'capture should not be null or undefined' }],
    });
    expect(await problem(GrantConsentDto, ['a'])).toMatchObject({ field: 'body', code: 'REQUEST.INVALID' });
    expect(await problem(GrantConsentDto, undefined)).toMatchObject({ field: 'body' });
  });

  it('refuses a key named after an Object.prototype function, which class-transformer dropped', async () => {
    expect(await problem(GrantConsentDto, { ...grant(), toString: 1 })).toMatchObject({
      field: 'toString',
      errors: [{ field: 'toString', message: 'toString is not a known field' }],
    });
  });

  it('converts a query as class-transformer did: limit to a number, pending to a boolean', async () => {
    await expect(pipe.transform({ limit: '20' }, { type: 'query', metatype: MyCasesQuery })).resolves.toEqual(
      {
        limit: 20,
      },
    );
    await expect(
      pipe.transform({ direction: 'in', pending: 'true' }, { type: 'query', metatype: MyReferralsQuery }),
    ).resolves.toEqual({ direction: 'in', pending: true });
    expect(await problem(MyCasesQuery, { limit: 'NaN' }, 'query')).toMatchObject({
      field: 'limit',
      errors: [
        { field: 'limit', message: 'limit must not be greater than 100' },
        { field: 'limit', message: 'limit must not be less than 1' },
        { field: 'limit', message: 'limit must be an integer number' },
      ],
    });
  });

  it('reads non-finite numbers as class-validator does: 1e999 is not an integer, and not below 1', async () => {
    expect(
      await problem(StartReflectionPeriodDto, JSON.parse('{"startsOn":"2026-11-30","days":1e999}')),
    ).toMatchObject({
      field: 'days',
      errors: [
        { field: 'days', message: 'days must not be greater than 3650' },
        { field: 'days', message: 'days must be an integer number' },
      ],
    });
  });
});
