import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BREAK_GLASS_PURPOSES, type BreakGlassPurpose } from '@nrm/shared-kernel';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { ID_PATTERN } from '../http/ids';
import { IsInstant } from '../http/value-rules';
import { REVIEW_FINDINGS, type ReviewFinding } from '@nrm/access';
import { IsSubstantiveJustification } from './justification';

const idMessage = (field: string) => `${field} must be a UUID or slug`;

/** A period: `from` inclusive, `to` exclusive, both ISO-8601 instants with a zone. */
export class PeriodQuery {
  @ApiPropertyOptional({ example: '2026-01-01T00:00:00Z', description: 'From this instant (inclusive).' })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ example: '2027-01-01T00:00:00Z', description: 'Up to this instant (exclusive).' })
  @IsOptional()
  @IsInstant()
  to?: string;

  @ApiPropertyOptional({ description: 'The `next.cursor` of the previous page.', minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  cursor?: number;
}

/** A period and a page: limit 1..100 (default 20) and the cursor from the previous page's `next.cursor`. */
export class PeriodPageQuery extends PeriodQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

export class AccessLogQuery extends PeriodPageQuery {
  @ApiPropertyOptional({ description: 'Only reads of this subject’s data.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: idMessage('subjectId') })
  subjectId?: string;

  @ApiPropertyOptional({ description: 'Only reads of this case.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: idMessage('caseId') })
  caseId?: string;

  @ApiPropertyOptional({ description: 'Only reads by this agency.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: idMessage('agencyId') })
  agencyId?: string;
}

export const ATTEMPT_OUTCOMES = ['granted', 'refused'] as const;

export class AccessAttemptsQuery extends PeriodPageQuery {
  @ApiPropertyOptional({ description: 'Only attempts by this agency.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: idMessage('agencyId') })
  agencyId?: string;

  @ApiPropertyOptional({
    description: 'Only attempts on this case (a refused referral command counts under the referral’s case).',
  })
  @IsOptional()
  @Matches(ID_PATTERN, { message: idMessage('caseId') })
  caseId?: string;

  @ApiPropertyOptional({ description: 'Only attempts on this subject’s data.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: idMessage('subjectId') })
  subjectId?: string;

  @ApiPropertyOptional({ enum: ATTEMPT_OUTCOMES, description: 'Without it: both.' })
  @IsOptional()
  @IsIn(ATTEMPT_OUTCOMES)
  outcome?: (typeof ATTEMPT_OUTCOMES)[number];
}

export class DenialsQuery extends PeriodPageQuery {
  @ApiPropertyOptional({ description: 'Only denials of requests by this agency.' })
  @IsOptional()
  @Matches(ID_PATTERN, { message: idMessage('agencyId') })
  agencyId?: string;
}

export const REVIEW_STATUSES = ['pending', 'reviewed'] as const;

export class BreakGlassQueueQuery extends PeriodPageQuery {
  @ApiPropertyOptional({ enum: REVIEW_STATUSES, description: 'Without it: both.' })
  @IsOptional()
  @IsIn(REVIEW_STATUSES)
  status?: (typeof REVIEW_STATUSES)[number];
}

export class ConsentHistoryQuery extends PeriodPageQuery {}

export const REPORT_FORMATS = ['json', 'html'] as const;

/** A report is read whole more often than not: pages of up to 100 accesses, 100 by default. */
export class AccessReportQuery extends PeriodQuery {
  @ApiPropertyOptional({
    enum: REPORT_FORMATS,
    default: 'json',
    description: 'html: a printable page (text/html).',
  })
  @IsOptional()
  @IsIn(REPORT_FORMATS)
  format?: (typeof REPORT_FORMATS)[number];

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

/** A reference code such as a file number: no prose, so no personal data in an immutable event. */
const NOTE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

export class ReviewAccessDto {
  @ApiProperty({ enum: REVIEW_FINDINGS, example: 'justified' })
  @IsIn(REVIEW_FINDINGS)
  finding!: ReviewFinding;

  @ApiPropertyOptional({
    example: 'DPA-2026-0117',
    description: 'A reference code (e.g. your file number), up to 200 characters; not prose.',
  })
  @IsOptional()
  @Matches(NOTE, {
    message:
      'note must be a reference code: letters, digits, ".", "_", ":", "/" and "-", up to 200 characters',
  })
  note?: string;
}

/** Printable text without control characters (line breaks allowed). */
const JUSTIFICATION = /^(?:[^\p{Cc}]|\n)*$/u;

export class BreakGlassReadDto {
  @ApiProperty({
    example: 'Person admitted unconscious to emergency care; treating physician needs the case status now.',
    description:
      'Why consent must be overridden now, 30 to 1000 characters, in words (placeholders such as …, TODO or repeated characters are refused). Read by the oversight body: state the emergency, not details about the person.',
  })
  @IsString()
  @Length(30, 1000)
  @Matches(JUSTIFICATION, { message: 'justification must not contain control characters' })
  @IsSubstantiveJustification()
  justification!: string;

  @ApiProperty({
    enum: BREAK_GLASS_PURPOSES,
    example: 'protection',
    description:
      'What the emergency is for: only protection or assistance of the person can override consent.',
  })
  @IsIn(BREAK_GLASS_PURPOSES)
  purpose!: BreakGlassPurpose;
}
