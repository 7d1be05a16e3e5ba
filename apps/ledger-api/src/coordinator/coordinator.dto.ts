import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { ID_PATTERN, INSTANT_PATTERN, instantMessage } from '../http/ids';
import { REFERRAL_STATUSES, type ReferralStatus } from './handoff-board';

export class PeriodQueryDto {
  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description: 'Start of the period (inclusive), an ISO-8601 instant with a time zone.',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(INSTANT_PATTERN, { message: instantMessage('from') })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-07-01T00:00:00Z',
    description: 'End of the period (exclusive), later than `from`.',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(INSTANT_PATTERN, { message: instantMessage('to') })
  to?: string;
}

export class HandoffBoardQueryDto extends PeriodQueryDto {
  @ApiPropertyOptional({ enum: REFERRAL_STATUSES, description: 'Only referrals in this status.' })
  @IsOptional()
  @IsIn(REFERRAL_STATUSES)
  status?: ReferralStatus;

  @ApiPropertyOptional({ example: 'clinic-harbour', description: 'Only referrals sent by this agency.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: 'fromAgencyId must be an agency id (a UUID or slug)' })
  fromAgencyId?: string;

  @ApiPropertyOptional({ example: 'ngo-lighthouse', description: 'Only referrals addressed to this agency.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: 'toAgencyId must be an agency id (a UUID or slug)' })
  toAgencyId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20, description: 'Referrals per page.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'Page cursor: the `next.cursor` of the previous page.' })
  @IsOptional()
  @MaxLength(400)
  cursor?: string;

  @ApiPropertyOptional({
    example: '2026-03-01T12:00:00Z',
    description:
      'Show the board as it stood at this past instant, rebuilt from the referral events recorded by then; `overdue` is judged at that instant.',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(INSTANT_PATTERN, { message: instantMessage('asOf') })
  asOf?: string;
}

/** The first instant of a calendar month, in UTC. */
const MONTH_START = /^\d{4}-(0[1-9]|1[0-2])-01T00:00(:00(\.0{1,9})?)?Z$/;
const monthMessage = (field: string) =>
  `${field} must be the start of a month in UTC, e.g. 2026-01-01T00:00:00Z: statistics are published by calendar month only`;

/**
 * Which rows of the statistics grid to show. There is deliberately no `k`: the
 * smallest published cell is the installation's `STATS_MIN_CELL`, because answers
 * at two values of k could be combined to recover a cell that one of them hides.
 */
export class StatisticsQueryDto {
  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description:
      'First month of the period (inclusive): the first instant of a month, UTC. Default: twelve months before `to`.',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(MONTH_START, { message: monthMessage('from') })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-07-01T00:00:00Z',
    description:
      'End of the period (exclusive): the first instant of a month, UTC, no later than the start of the current month (only completed months are published). Default: the start of the current month. At most 120 months after `from`.',
  })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  @Matches(MONTH_START, { message: monthMessage('to') })
  to?: string;
}
