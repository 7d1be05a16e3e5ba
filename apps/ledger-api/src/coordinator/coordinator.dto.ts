import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { ID_PATTERN } from '../http/ids';
import { IsInstant } from '../http/value-rules';
import { REFERRAL_STATUSES, type ReferralStatus } from './handoff-board';

export class PeriodQueryDto {
  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description: 'Start of the period (inclusive), an ISO-8601 instant with a time zone.',
  })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({
    example: '2026-07-01T00:00:00Z',
    description: 'End of the period (exclusive), later than `from`.',
  })
  @IsOptional()
  @IsInstant()
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
  @IsInstant()
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
  @IsInstant()
  @Matches(MONTH_START, { message: monthMessage('from') })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-07-01T00:00:00Z',
    description:
      'End of the period (exclusive): the first instant of a month, UTC, no later than the start of the current month (only completed months are published). Default: the start of the current month. At most 120 months after `from`.',
  })
  @IsOptional()
  @IsInstant()
  @Matches(MONTH_START, { message: monthMessage('to') })
  to?: string;
}

/** A published count. */
export class PublishedCellDto {
  @ApiProperty({ minimum: 0, example: 12, description: 'Cases counted in the cell: at least k.' })
  count!: number;
}

/** A withheld count: it looks the same whether the cell is empty, small, or hidden to protect another. */
export class SuppressedCellDto {
  @ApiProperty({ enum: [true] })
  suppressed!: true;
}

const CELL = {
  oneOf: [{ $ref: getSchemaPath(PublishedCellDto) }, { $ref: getSchemaPath(SuppressedCellDto) }],
};
const CELLS = (columns: string) => ({
  type: 'object' as const,
  additionalProperties: CELL,
  description: `One cell per column, in a fixed order, listed whether or not it holds cases: ${columns}.`,
});

export class StatisticsMonthDto {
  @ApiProperty({ example: '2026-03', description: 'The calendar month (UTC) of the reports, YYYY-MM.' })
  month!: string;

  @ApiProperty({ ...CELL, description: 'Cases reported in the month.' })
  cases!: PublishedCellDto | SuppressedCellDto;

  @ApiProperty(
    CELLS('the regions of STATS_REGIONS, then `other` (every other region); they add up to `cases`'),
  )
  byRegion!: Record<string, PublishedCellDto | SuppressedCellDto>;

  @ApiProperty(CELLS('every agency kind, then `unknown`; they add up to `cases`'))
  byReportingAgencyKind!: Record<string, PublishedCellDto | SuppressedCellDto>;

  @ApiProperty(
    CELLS(
      'every exploitation form, then `unknown` (no form recorded); a case suspected of several forms counts under each',
    ),
  )
  byExploitationForm!: Record<string, PublishedCellDto | SuppressedCellDto>;
}

export class StatisticsPeriodDto {
  @ApiProperty({ example: '2025-03-01T00:00:00.000Z', description: 'First month (inclusive).' })
  from!: string;

  @ApiProperty({
    example: '2026-03-01T00:00:00.000Z',
    description: 'End (exclusive): at most the current month.',
  })
  to!: string;
}

export class StatisticsDto {
  @ApiProperty({
    example: 5,
    description:
      'The smallest count published: the installation’s STATS_MIN_CELL. Not a request parameter, so that answers at two values of k cannot be combined.',
  })
  k!: number;

  @ApiProperty({ type: StatisticsPeriodDto })
  period!: StatisticsPeriodDto;

  @ApiProperty({
    type: [StatisticsMonthDto],
    description:
      'One row per month of the period, oldest first. A month’s row is the same in every period that contains it, and no figure spans months, so no answers can be subtracted from each other. In each table of a month, cells under k (0 included) are suppressed, and so are the smallest published ones until the suppressed cells of the table are at least two that hold cases and hold k or more together (or all of the table): the month’s number of cases minus the published cells then leaves every suppressed cell anywhere from 0 to k or more.',
  })
  months!: StatisticsMonthDto[];
}
