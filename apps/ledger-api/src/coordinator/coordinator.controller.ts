import { Controller, Get, Inject, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../access/current-actor.decorator';
import { ProblemException } from '../http/problem';
import { CoordinatorOnly, readRequestOf, ServesView } from './coordinator-only.guard';
import { CoordinatorViews } from './coordinator-views';
import { HandoffBoardQueryDto, StatisticsQueryDto } from './coordinator.dto';

export const COORDINATOR_VIEWS = Symbol('COORDINATOR_VIEWS');
export const STATS_MIN_CELL = Symbol('STATS_MIN_CELL');

@ApiTags('coordinator')
@ApiBearerAuth()
@ApiForbiddenResponse({
  description: 'COORDINATOR.ONLY: the caller is not a coordinator of the national coordinator (audited).',
})
@UseGuards(CoordinatorOnly)
@Controller('coordinator')
export class CoordinatorController {
  constructor(
    @Inject(COORDINATOR_VIEWS) private readonly views: CoordinatorViews,
    @Inject(STATS_MIN_CELL) private readonly minCell: number,
  ) {}

  @Get('handoff-board')
  @ServesView('handoff-board')
  @ApiOperation({
    summary:
      'The handoff board: referrals by sender, receiver and status, with time to acknowledge and to hand off, overdue and escalated referrals, and a summary (p50/p90) of the period; no case or subject ids. ?asOf= shows the board at a past instant. Audited.',
  })
  handoffBoard(@Req() request: AuthenticatedRequest, @Query() query: HandoffBoardQueryDto) {
    return this.views.handoffBoard(readRequestOf(request), { ...query, limit: query.limit ?? 20 });
  }

  @Get('statistics')
  @ServesView('statistics')
  @ApiOperation({
    summary:
      'Reported cases by exploitation form, reporting agency kind, region and month (of the period), with every cell smaller than k suppressed. No identity data. Audited.',
  })
  statistics(@Req() request: AuthenticatedRequest, @Query() query: StatisticsQueryDto) {
    // The installation's minimum protects small cells; a request may be stricter, never looser.
    if (query.k !== undefined && query.k < this.minCell) {
      throw new ProblemException({
        status: 400,
        title: 'Invalid request',
        code: 'REQUEST.INVALID',
        field: 'k',
        detail: `k must be at least ${this.minCell}, the smallest cell this installation publishes`,
      });
    }
    return this.views.statistics(readRequestOf(request), { ...query, k: query.k ?? this.minCell });
  }
}
