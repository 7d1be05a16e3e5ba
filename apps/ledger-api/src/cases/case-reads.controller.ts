import { Controller, Get, Headers, Inject, Param, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { PURPOSES, type Actor } from '@nrm/shared-kernel';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import type { AuthenticatedRequest } from '../access/current-actor.decorator';
import { CurrentActor } from '../access/current-actor.decorator';
import { readRequestOf } from '../access/audit-trail';
import { IdPipe } from '../http/ids';
import { CaseReads, CURSOR_PATTERN } from '@nrm/runtime';

export const CASE_READS = Symbol('CASE_READS');

export class MyCasesQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'Page cursor: the `next.cursor` of the previous page.' })
  @IsOptional()
  @Matches(CURSOR_PATTERN, { message: 'cursor must be the next.cursor of a previous page' })
  cursor?: string;
}

export class MyReferralsQuery extends MyCasesQuery {
  @ApiProperty({ enum: ['in', 'out'], description: 'in: addressed to your agency; out: sent by it.' })
  @IsIn(['in', 'out'])
  direction!: 'in' | 'out';

  @ApiPropertyOptional({
    description: 'Only referrals still open (made, acknowledged or accepted).',
    default: false,
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  pending?: boolean;
}

export class CaseViewQuery {
  @ApiPropertyOptional({
    description:
      'Show the case as it stood at this past instant (ISO-8601 with a time zone), rebuilt from its events. Who may see it and which categories is still decided now.',
    example: '2026-11-01T12:00:00Z',
  })
  @IsOptional()
  @IsString()
  asOf?: string;
}

class CaseViewDoc {
  @ApiProperty() caseId!: string;
  @ApiProperty({ enum: PURPOSES }) purpose!: string;
  @ApiProperty({
    description: 'Only the data categories covered for your agency and purpose; others are absent.',
  })
  categories!: Record<string, unknown>;
  @ApiProperty({ description: 'For each category returned: consent or lawful-basis.' })
  basis!: Record<string, string>;
  @ApiPropertyOptional({ description: 'The instant shown, when asOf was asked for (UTC).' })
  asOf?: string;
}

@ApiTags('referrals (reads)')
@ApiBearerAuth()
@Controller('referrals')
export class ReferralReadsController {
  constructor(@Inject(CASE_READS) private readonly reads: CaseReads) {}

  @Get()
  @ApiOperation({
    summary:
      'Referrals your agency receives (direction=in) or sends (out), newest first; pending=true for open ones. Audited.',
  })
  myReferrals(
    @CurrentActor() actor: Actor,
    @Req() request: AuthenticatedRequest,
    @Query() query: MyReferralsQuery,
  ) {
    return this.reads.myReferrals(readRequestOf(actor, request, undefined), {
      direction: query.direction,
      pending: query.pending ?? false,
      limit: query.limit ?? 20,
      cursor: query.cursor,
    });
  }
}

@ApiTags('cases (reads)')
@ApiBearerAuth()
@Controller('cases')
export class CaseReadsController {
  constructor(@Inject(CASE_READS) private readonly reads: CaseReads) {}

  @Get()
  @ApiOperation({
    summary:
      'The cases your agency is party to (reporter, referral sender or receiver, decision-maker, support provider), newest first. Audited.',
  })
  myCases(@CurrentActor() actor: Actor, @Req() request: AuthenticatedRequest, @Query() query: MyCasesQuery) {
    return this.reads.myCases(readRequestOf(actor, request, undefined), {
      limit: query.limit ?? 20,
      cursor: query.cursor,
    });
  }

  @Get(':caseId')
  @ApiHeader({
    name: 'X-Purpose',
    required: true,
    enum: PURPOSES,
    description: 'Why you read: consent is checked for this purpose.',
  })
  @ApiOperation({
    summary:
      'One case, with only the data categories that a consent or lawful basis covers now for your agency and the declared purpose; ?asOf= shows it as it stood at a past instant. Every read and denial (a malformed asOf included) is audited; a withdrawal counts on the next read.',
  })
  caseView(
    @Param('caseId', IdPipe) caseId: string,
    @Headers('x-purpose') purpose: string | undefined,
    @Query() query: CaseViewQuery,
    @CurrentActor() actor: Actor,
    @Req() request: AuthenticatedRequest,
  ): Promise<CaseViewDoc> {
    return this.reads.caseView(caseId, readRequestOf(actor, request, purpose), query.asOf);
  }
}
